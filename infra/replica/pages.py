"""The replica's other HTML pages: paginated listings (home, category, tag), the static pages,
the theme's 404 page and the body of a redirect.

Each function returns the page as ``str``; the router encodes it.
"""

from __future__ import annotations

from collections.abc import Sequence

from infra.replica.markup import a, t
from infra.replica.theme import SITE_NAME, STATIC_PAGES, Theme, body_tag

PER_PAGE = 10


def listing_page(
    theme: Theme, ranks: Sequence[int], page: int, path_prefix: str, title: str, body: str
) -> str | None:
    """A paginated teaser listing (home, category, tag); None when ``page`` is past the end."""
    pages = max(1, -(-len(ranks) // PER_PAGE))
    if not 1 <= page <= pages:
        return None
    base = theme.base

    def page_url(n: int) -> str:
        return f"{base}{path_prefix}" if n == 1 else f"{base}{path_prefix}page/{n}/"

    links = ""
    if page > 1:
        links += f'<link rel="prev" href="{page_url(page - 1)}" />\n'
    if page < pages:
        links += f'<link rel="next" href="{page_url(page + 1)}" />\n'
    heading = title if path_prefix != "/" else f"{SITE_NAME} News"
    head_title = f"{heading} Archives - {SITE_NAME}" if path_prefix != "/" else SITE_NAME
    if page > 1:
        head_title = f"{head_title} - Page {page} of {pages}"
    extra = (
        '<meta property="og:type" content="website" />\n'
        f'<meta property="og:title" content="{a(head_title)}" />\n'
        f'<meta property="og:url" content="{page_url(page)}" />\n'
        + links
        + theme.json_ld(theme.website_graph)
    )
    start = (page - 1) * PER_PAGE
    modules = "".join(
        theme.module(ranks[i], "td_module_10", excerpt=True)
        for i in range(start, min(start + PER_PAGE, len(ranks)))
    )
    nav = ['<div class="page-nav td-pb-padding-side">']
    if page > 1:
        nav.append(f'<a href="{page_url(page - 1)}"><i class="td-icon-menu-left"></i></a>')
    for n in sorted({1, page - 1, page, page + 1, pages}):
        if not 1 <= n <= pages:
            continue
        if n == page:
            nav.append(f'<span class="current">{n}</span>')
        else:
            cls = "last" if n == pages and n > page + 1 else "page"
            nav.append(f'<a href="{page_url(n)}" class="{cls}" title="{n}">{n}</a>')
    if page < pages:
        nav.append(f'<a href="{page_url(page + 1)}"><i class="td-icon-menu-right"></i></a>')
    nav.append(f'<span class="pages">Page {page} of {pages}</span><div class="clearfix"></div>')
    nav.append("</div>")
    paged = f" paged paged-{page}" if page > 1 else ""
    crumbs: list[tuple[str, str | None]] = [] if path_prefix == "/" else [(title, None)]
    return "".join(
        [
            theme.head(head_title, page_url(page), extra),
            "</head>\n",
            body_tag(body, paged),
            theme.body_open,
            '<div class="td-main-content-wrap td-container-wrap">\n<div class="td-container">\n',
            theme.breadcrumbs(crumbs) if crumbs else "",
            '<div class="td-pb-row">\n<div class="td-pb-span8 td-main-content" role="main">\n'
            '<div class="td-ss-main-content">\n',
            f'<div class="td-category-header"><h1 class="entry-title td-page-title">{t(heading)}'
            "</h1></div>\n",
            modules,
            "".join(nav),
            "</div></div>\n",
            theme.sidebar(None, page),
            "</div></div></div>\n",
            theme.footer,
        ]
    )


def static_page(theme: Theme, slug: str) -> str | None:
    """One of the site's WordPress pages (About Us, Contact Us, Donate)."""
    match = next((p for p in STATIC_PAGES if p[0] == slug), None)
    if match is None:
        return None
    _, title, page_id = match
    url = f"{theme.base}/{slug}/"
    return "".join(
        [
            theme.head(f"{title} - {SITE_NAME}", url, theme.json_ld(theme.website_graph)),
            "</head>\n",
            body_tag("page-template-default page", f" page-id-{page_id}"),
            theme.body_open,
            '<div class="td-main-content-wrap td-container-wrap">\n<div class="td-container">\n',
            theme.breadcrumbs([(title, None)]),
            '<div class="td-pb-row">\n<div class="td-pb-span8 td-main-content" role="main">\n'
            '<div class="td-ss-main-content">\n<div class="td-page-header">'
            f'<h1 class="entry-title td-page-title"><span>{t(title)}</span></h1></div>\n'
            '<div class="td-page-content tagdiv-type">'
            f"<p>{SITE_NAME} is an independent news site publishing translations of news and "
            "analysis from Russian, Arabic and European sources.</p>"
            "<p>Write to us at editor@fort-russ.com.</p></div>\n"
            "</div></div>\n",
            theme.sidebar(None),
            "</div></div></div>\n",
            theme.footer,
        ]
    )


def not_found_page(theme: Theme) -> str:
    """The theme's 404 page (full chrome, latest articles)."""
    newest = theme.site.newest_ranks()
    picks = [newest[i] for i in range(min(6, len(newest)))]
    return "".join(
        [
            theme.head(f"Page not found - {SITE_NAME}", f"{theme.base}/"),
            "</head>\n",
            body_tag("error404"),
            theme.body_open,
            '<div class="td-main-content-wrap td-container-wrap">\n<div class="td-container">\n'
            '<div class="td-pb-row">\n<div class="td-pb-span12 td-main-content" role="main">\n'
            '<div class="td-404-title">Ooops... Error 404</div>'
            '<div class="td-404-sub-title">Sorry, but the page you are looking for doesn\'t exist.'
            '</div><div class="td-404-sub-sub-title">You can go to the '
            f'<a href="{theme.base}/">HOMEPAGE</a></div>\n'
            '<h4 class="td-404-sub-sub-title">OUR LATEST POSTS</h4>',
            "".join(theme.module(k, "td_module_1") for k in picks),
            "</div></div></div></div>\n",
            theme.footer,
        ]
    )


def redirect_page(location: str) -> str:
    """The tiny body WordPress sends with a 301."""
    return (
        f'<html><head><title>301 Moved Permanently</title></head><body><a href="{a(location)}">'
        "Moved Permanently</a></body></html>\n"
    )
