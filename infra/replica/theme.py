"""The tagDiv "Newspaper" theme chrome: head, header with menus, teasers, sidebar and footer.

A ``Theme`` renders for one site and one base URL (taken from the request's Host header): every
link is absolute, as WordPress writes them. Pieces shared by many pages (header, footer, sidebar
blocks) are rendered once per theme and reused, which keeps a page render well under a millisecond.
"""

from __future__ import annotations

import json
from functools import cached_property, lru_cache

from infra.replica import assets as AS
from infra.replica import words as W
from infra.replica.assets import DEFAULT_CDN, THEME_VERSION, Cdn
from infra.replica.content import Site
from infra.replica.markup import a, human_date, iso, t
from infra.replica.records import Teaser
from infra.replica.text import slugify

SITE_NAME = "Fort Russ"
STATIC_PAGES: tuple[tuple[str, str, int], ...] = (  # (slug, title, page id)
    ("about-us", "About Us", 12),
    ("contact-us", "Contact Us", 14),
    ("donate", "Donate", 16),
)


def body_tag(kind: str, extra: str = "") -> str:
    """The ``<body>`` tag of a theme page: WordPress's classes for the page, then the theme's."""
    return (
        f'<body class="{kind}{extra} td-standard-pack global-block-template-1 '
        'td-animation-stack-type0 td-full-layout" itemscope="itemscope" '
        'itemtype="https://schema.org/WebPage">\n'
    )


_SHARE = (
    ("facebook", "Facebook"),
    ("twitter", "Twitter"),
    ("pinterest", "Pinterest"),
    ("whatsapp", "WhatsApp"),
    ("reddit", "ReddIt"),
    ("telegram", "Telegram"),
)


class Theme:
    """The theme for one site, rendering absolute links under ``base`` (no trailing slash)."""

    def __init__(self, site: Site, base: str, cdn: Cdn | None = DEFAULT_CDN) -> None:
        self.site = site
        self.base = base
        self.cdn = cdn
        self.teaser = lru_cache(maxsize=2048)(site.teaser)
        self.module = lru_cache(maxsize=4096)(self._module)
        self._dont_miss_block = lru_cache(maxsize=16)(self._dont_miss_html)

    # ----- links -----

    def url(self, path: str) -> str:
        return self.base + path

    def category_url(self, name: str) -> str:
        return f"{self.base}/category/{slugify(name)}/"

    def tag_url(self, name: str) -> str:
        return f"{self.base}/tag/{slugify(name)}/"

    def author_url(self, name: str) -> str:
        return f"{self.base}/author/{slugify(name)}/"

    # ----- document head -----

    def head(self, title: str, canonical: str, extra: str = "", description: str = "") -> str:
        desc = f'<meta name="description" content="{a(description)}"/>\n' if description else ""
        return (
            '<!doctype html >\n<!--[if IE 8]>    <html class="ie8" lang="en"> <![endif]-->\n'
            '<!--[if gt IE 8]><!--> <html lang="en-US"> <!--<![endif]-->\n<head>\n'
            f'<meta charset="UTF-8" />\n<title>{t(title)}</title>\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1.0">\n'
            f'<link rel="pingback" href="{self.base}/xmlrpc.php" />\n'
            "<!-- This site is optimized with the Yoast SEO plugin v12.4 - "
            "https://yoast.com/wordpress/plugins/seo/ -->\n"
            f"{desc}"
            '<meta name="robots" content="max-snippet:-1, max-image-preview:large"/>\n'
            f'<link rel="canonical" href="{a(canonical)}" />\n'
            '<meta property="og:locale" content="en_US" />\n'
            f'<meta property="og:site_name" content="{SITE_NAME}" />\n'
            f"{extra}"
            "<!-- / Yoast SEO plugin. -->\n"
            "<link rel='dns-prefetch' href='//fonts.googleapis.com' />\n"
            f'<link rel="alternate" type="application/rss+xml" title="Fort Russ &raquo; Feed" '
            f'href="{self.base}/feed/" />\n'
            f"{AS.head_links(self.base, self.site.day)}"
            f"<link rel='https://api.w.org/' href='{self.base}/wp-json/' />\n"
            f'<link rel="EditURI" type="application/rsd+xml" title="RSD" '
            f'href="{self.base}/xmlrpc.php?rsd" />\n'
            '<meta name="generator" content="WordPress 5.2.4" />\n'
            '<script>window.tdwGlobal = {"adminUrl":"","wpRestNonce":"0a1b2c3d4e"};'
            "</script>\n"
        )

    def json_ld(self, graph: list[dict[str, object]]) -> str:
        body = json.dumps(
            {"@context": "https://schema.org", "@graph": graph},
            ensure_ascii=False,
            separators=(",", ":"),
        ).replace("</", "<\\/")
        return (
            "<script type='application/ld+json' class='yoast-schema-graph "
            f"yoast-schema-graph--main'>{body}</script>\n"
        )

    @cached_property
    def website_graph(self) -> list[dict[str, object]]:
        return [
            {
                "@type": "Organization",
                "@id": f"{self.base}/#organization",
                "name": SITE_NAME,
                "url": f"{self.base}/",
                "sameAs": [],
            },
            {
                "@type": "WebSite",
                "@id": f"{self.base}/#website",
                "url": f"{self.base}/",
                "name": SITE_NAME,
                "publisher": {"@id": f"{self.base}/#organization"},
            },
        ]

    # ----- header, menus, footer -----

    @cached_property
    def _menu_items(self) -> str:
        items = [
            '<li class="menu-item menu-item-type-custom menu-item-object-custom menu-item-home '
            f'menu-item-first"><a href="{self.base}/">Home</a></li>'
        ]
        for i, name in enumerate(W.CATEGORIES):
            items.append(
                f'<li id="menu-item-{101 + i}" class="menu-item menu-item-type-taxonomy '
                f'menu-item-object-category menu-item-{101 + i}">'
                f'<a href="{self.category_url(name)}">{t(name)}</a></li>'
            )
        return "".join(items)

    @cached_property
    def _top_menu(self) -> str:
        return "".join(
            f'<li class="menu-item menu-item-type-post_type menu-item-object-page">'
            f'<a href="{self.base}/{slug}/">{title}</a></li>'
            for slug, title, _ in STATIC_PAGES
        )

    @cached_property
    def body_open(self) -> str:
        """Everything from after <body ...> to the start of the main content container."""
        b = self.base
        return (
            '<div class="td-scroll-up"><i class="td-icon-menu-up"></i></div>\n'
            '<div class="td-menu-background"></div>\n<div id="td-mobile-nav">'
            '<div class="td-mobile-container"><div class="td-menu-socials-wrap">'
            '<div class="td-mobile-close"><a href="#"><i class="td-icon-close-mobile"></i></a>'
            '</div></div><div class="td-mobile-content"><div class="menu-main-menu-container">'
            f'<ul id="menu-main-menu-1" class="td-mobile-main-menu">{self._menu_items}</ul>'
            "</div></div></div></div>\n"
            '<div class="td-search-background"></div>\n'
            '<div id="td-outer-wrap" class="td-theme-wrap">\n'
            '<div class="td-header-wrap td-header-style-1 ">\n'
            '<div class="td-header-top-menu-full td-container-wrap "><div class="td-container '
            'td-header-row td-header-top-menu"><div class="top-bar-style-1">'
            '<div class="td-header-sp-top-menu"><div class="menu-top-container">'
            f'<ul id="menu-top-menu" class="top-header-menu">{self._top_menu}</ul></div></div>'
            '<div class="td-header-sp-top-widget"><span class="td-social-icon-wrap">'
            '<a target="_blank" href="https://www.facebook.com/fortruss" title="Facebook">'
            '<i class="td-icon-font td-icon-facebook"></i></a></span></div></div></div></div>\n'
            '<div class="td-banner-wrap-full td-logo-wrap-full td-container-wrap ">'
            '<div class="td-container td-header-row td-header-header">'
            f'<div class="td-header-sp-logo"><a class="td-main-logo" href="{b}/">'
            f'<img class="td-retina-data" src="{b}{AS.LOGO}" width="272" height="90"'
            ' alt="Fort Russ" title="Fort Russ"/><span class="td-visual-hidden">Fort Russ</span>'
            '</a></div><div class="td-header-sp-recs"><div class="td-header-rec-wrap">'
            '<div class="td-a-rec td-a-rec-id-header  td_uid_1_rand td_block_template_1">'
            '<span class="td-adspot-title">- Advertisement -</span>'
            f'<a href="{b}/donate/"><img src="{b}{AS.AD_728}"'
            ' alt="" width="728" height="90"/></a></div></div></div></div></div>\n'
            '<div class="td-header-menu-wrap-full td-container-wrap "><div class="td-header-menu-'
            'wrap td-header-gradient "><div class="td-container td-header-row td-header-main-menu">'
            '<div id="td-header-menu" role="navigation"><div id="td-top-mobile-toggle">'
            '<a href="#"><i class="td-icon-font td-icon-mobile"></i></a></div>'
            '<div class="menu-main-menu-container">'
            f'<ul id="menu-main-menu" class="sf-menu">{self._menu_items}</ul></div></div>'
            '<div class="header-search-wrap"><div class="dropdown header-search">'
            '<a id="td-header-search-button" href="#" role="button" class="dropdown-toggle">'
            '<i class="td-icon-search"></i></a><div class="td-drop-down-search">'
            f'<form method="get" class="td-search-form" action="{b}/"><div role="search" '
            'class="td-head-form-search-wrap"><input id="td-header-search" type="text" value="" '
            'name="s" autocomplete="off" /><input class="wpb_button wpb_btn-inverse btn" '
            'type="submit" id="td-header-search-top" value="Search" /></div></form>'
            '<div id="td-aj-search"></div></div></div></div></div></div></div>\n'
            "</div>\n"
        )

    @cached_property
    def footer(self) -> str:
        """The footer, sub-footer and the scripts at the end of every theme page."""
        b = self.base
        newest = self.site.newest_ranks()
        latest = [newest[i] for i in range(min(3, len(newest)))]
        return (
            f'<div class="td-footer-wrapper td-container-wrap " style="{AS.footer_style(b)}">'
            '<div class="td-container">'
            '<div class="td-pb-row"><div class="td-pb-span12"><div class="td-footer-info">'
            f'<div class="footer-logo-wrap"><a href="{b}/"><img class="td-retina-data" '
            f'src="{b}{AS.LOGO_FOOTER}" width="272" height="90" alt="Fort Russ"/>'
            '</a></div><div class="footer-text-wrap">Fort Russ News brings you translations of '
            "news and analysis from Russian, Arabic and European sources."
            '<div class="footer-email-wrap">Contact us: <a href="mailto:editor@fort-russ.com">'
            "editor@fort-russ.com</a></div></div></div></div></div>"
            '<div class="td-pb-row"><div class="td-pb-span4">'
            + self.block("td_block_7", "EDITOR PICKS", latest, excerpt=False)
            + '</div><div class="td-pb-span4">'
            + self.popular_categories
            + "</div></div></div></div>\n"
            '<div class="td-sub-footer-container td-container-wrap "><div class="td-container">'
            '<div class="td-pb-row"><div class="td-pb-span td-sub-footer-menu">'
            f'<ul id="menu-footer-menu" class="td-subfooter-menu">{self._top_menu}</ul></div>'
            '<div class="td-pb-span td-sub-footer-copy">&copy; Fort Russ News 2015-2019'
            "</div></div></div></div>\n</div><!--close td-outer-wrap-->\n"
            '<script type="text/javascript">var td_viewport_interval_list=[{"limitBottom":767,'
            '"sidebarWidth":228},{"limitBottom":1018,"sidebarWidth":300}];'
            f'var tds_login_sing_in_widget="show";var td_ajax_url="{b}/wp-admin/admin-ajax.php'
            f'?td_theme_name=Newspaper&v={THEME_VERSION}";var td_get_template_directory_uri='
            f'"{b}/wp-content/themes/Newspaper";var tds_animation_stack=true;'
            'var td_magnific_popup_translation_tPrev="Previous (Left arrow key)";</script>\n'
            f"{AS.footer_scripts(b)}"
            "<script>var __ATA = __ATA || {}; __ATA.cmd = __ATA.cmd || []; __ATA.criteo = "
            "__ATA.criteo || {}; __ATA.criteo.cmd = __ATA.criteo.cmd || [];</script>\n"
            '<script type="text/javascript" src="https://s.pubmine.com/head.js" async>'
            "</script>\n</body>\n</html>\n"
        )

    # ----- teasers and blocks -----

    def _module(self, k: int, kind: str = "td_module_6", excerpt: bool = False) -> str:
        """One teaser (``td_module_*``): thumb, title, date, optionally author and excerpt."""
        tz: Teaser = self.teaser(k)
        link, title = self.url(tz.path), a(tz.title)
        extra = ""
        if excerpt:
            extra = (
                f'<span class="td-post-author-name"><a href="{self.author_url(tz.author)}">'
                f"{t(tz.author)}</a> <span>-</span> </span>"
            )
        text = f'<div class="td-excerpt">{t(tz.excerpt)}</div>' if excerpt else ""
        lazy = kind == "td_module_6"  # block teasers (sidebar, footer) load lazily
        thumb = AS.thumb_img(self.base, self.cdn, tz.featured_image, title, lazy)
        return (
            f'<div class="{kind} td_module_wrap td-animation-stack">'
            f'<div class="td-module-thumb"><a href="{link}" rel="bookmark" class="td-image-wrap" '
            f'title="{title}">{thumb}</a></div>'
            f'<div class="item-details"><h3 class="entry-title td-module-title">'
            f'<a href="{link}" rel="bookmark" title="{title}">{t(tz.title)}</a></h3>'
            f'<div class="td-module-meta-info">{extra}<span class="td-post-date">'
            f'<time class="entry-date updated td-module-date" datetime="{iso(tz.published)}" >'
            f"{human_date(tz.published)}</time></span></div>{text}</div></div>"
        )

    def block(self, kind: str, title: str, ranks: list[int], excerpt: bool = False) -> str:
        """A ``td_block_wrap`` with a title and teasers."""
        inner = "".join(self.module(k, "td_module_6", excerpt) for k in ranks)
        return (
            f'<div class="td_block_wrap {kind} td_block_template_1 td-pb-border-top">'
            f'<div class="td-block-title-wrap"><h4 class="block-title"><span '
            f'class="td-pulldown-size">{t(title)}</span></h4></div>'
            f'<div class="td_block_inner">{inner}</div></div>'
        )

    @cached_property
    def popular_categories(self) -> str:
        items = "".join(
            f'<li><a href="{self.category_url(c)}"><span class="td-cat-name">{t(c)}</span>'
            f'<span class="td-cat-no">{self.site.category_count(c)}</span></a></li>'
            for c in W.CATEGORIES
        )
        return (
            '<div class="td_block_wrap td_block_popular_categories td_block_template_1">'
            '<div class="td-block-title-wrap"><h4 class="block-title"><span>POPULAR CATEGORY'
            f'</span></h4></div><ul class="td-pb-padding-side">{items}</ul></div>'
        )

    @cached_property
    def _sidebar_fixed(self) -> str:
        site = self.site
        newest = site.newest_ranks()
        latest = [newest[i] for i in range(min(8, len(newest)))]
        ranked = sorted(range(site.count), key=lambda k: (k * 7919 + site.seed) % 101)
        popular = [k for k in ranked[: 6 + site.count - len(newest)] if site.is_live(k)][:6]
        return (
            '<div class="td_block_wrap td_block_social_counter td_block_template_1">'
            '<div class="td-block-title-wrap"><h4 class="block-title"><span>STAY CONNECTED'
            '</span></h4></div><div class="td-social-list">'
            '<div class="td_social_type td-pb-margin-side td_social_facebook"><span '
            'class="td_social_info">21,480</span><span class="td_social_info '
            'td_social_info_name">Fans</span><span class="td_social_button">Like</span></div>'
            '<div class="td_social_type td-pb-margin-side td_social_twitter"><span '
            'class="td_social_info">9,127</span><span class="td_social_info '
            'td_social_info_name">Followers</span><span class="td_social_button">Follow</span>'
            "</div></div></div>"
            '<div class="td-a-rec td-a-rec-id-sidebar  td_uid_3_rand td_block_template_1">'
            '<span class="td-adspot-title">- Advertisement -</span>'
            f'<a href="{self.base}/donate/"><img src="{self.base}{AS.AD_300}" alt="" '
            'width="300" height="250"/></a></div>'
            + self.block("td_block_7", "LATEST ARTICLES", latest)
            + self.block("td_block_15", "MOST POPULAR", popular)
        )

    @lru_cache(maxsize=64)  # noqa: B019 - one Theme per (site, base), a bounded few
    def _sidebar_category(self, name: str) -> str:
        ranks = self.site.category_ranks(name)[:8]
        return self.block("td_block_9", f"MORE IN {name.upper()}", ranks, excerpt=True)

    @cached_property
    def _dont_miss(self) -> list[int]:
        newest = self.site.newest_ranks()
        return [newest[i] for i in range(8, min(26, len(newest)))]

    def _dont_miss_html(self, count: int) -> str:
        picks = self._dont_miss[:count]
        return self.block("td_block_11", "DON'T MISS", picks, excerpt=True) if picks else ""

    @lru_cache(maxsize=256)  # noqa: B019 - one Theme per (site, base), a bounded few
    def sidebar_bytes(self, category: str | None, variant: int = 0) -> bytes:
        return self.sidebar(category, variant).encode()

    @lru_cache(maxsize=8)  # noqa: B019 - one Theme per (site, base), a bounded few
    def encoded(self, part: str) -> bytes:
        """A shared chrome part ("body_open", "footer") as UTF-8 bytes."""
        text = getattr(self, part)
        assert isinstance(text, str)
        return text.encode()

    def sidebar(self, category: str | None, variant: int = 0) -> str:
        """The right sidebar: social counter, an ad and 20-40 teasers in several blocks."""
        parts = [
            '<div class="td-pb-span4 td-main-sidebar" role="complementary">'
            '<div class="td-ss-main-sidebar">',
            self._sidebar_fixed,
        ]
        if category is not None:
            parts.append(self._sidebar_category(category))
        parts.append(self._dont_miss_block(6 + variant % 13))
        parts.append("</div></div>")
        return "".join(parts)

    def share_buttons(self, url: str, title: str, where: str) -> str:
        return (
            f'<div id="td_social_sharing_article_{where}" class="td-post-sharing td-ps-bg '
            'td-ps-notext td-post-sharing-style1 "><div class="td-post-sharing-visible">'
            + "".join(
                f'<a class="td-social-sharing-button td-social-sharing-button-js td-social-network '
                f'td-social-{net}" href="https://example.invalid/share/{net}?u={a(url)}">'
                f'<div class="td-social-but-icon"><i class="td-icon-{net}"></i></div>'
                f'<div class="td-social-but-text">{label}</div></a>'
                for net, label in _SHARE
            )
            + "</div></div>"
        )

    def breadcrumbs(self, trail: list[tuple[str, str | None]]) -> str:
        parts = [
            '<div class="td-crumb-container"><div class="entry-crumbs">'
            f'<span class="td-bred-first"><a href="{self.base}/">Home</a></span>'
        ]
        for label, link in trail:
            if link is None:
                parts.append(
                    ' <i class="td-icon-right td-bread-sep td-bred-no-url-last"></i> '
                    f'<span class="td-bred-no-url-last">{t(label)}</span>'
                )
            else:
                parts.append(
                    f' <i class="td-icon-right td-bread-sep"></i> <span><a href="{link}" '
                    f'title="View all posts in {a(label)}">{t(label)}</a></span>'
                )
        parts.append("</div></div>")
        return "".join(parts)
