"""The article page and its AMP variant, laid out as the real site's.

The byline paragraphs open ``div.td-post-content``, then the body, with the pasted ``<style>``
blocks, the inline ad, the WordAds script and the newsletter widget as noise; around it the theme's
chrome, sharing buttons, tags, next/previous links, related posts and comments.
"""

from __future__ import annotations

from infra.replica.assets import ORIGINAL, featured_img
from infra.replica.markup import a, human_date, iso, t
from infra.replica.records import Article
from infra.replica.theme import SITE_NAME, Theme, body_tag

PASTED_STYLE = (
    '<style type="text/css">\n@page { margin: 0.79in }\n'
    "p { margin-bottom: 0.1in; line-height: 120% }\n</style>\n"
)
INLINE_AD = (
    '<div class="td-a-rec td-a-rec-id-content_inline  td_uid_2_rand td_block_template_1">'
    '<span class="td-adspot-title">- Advertisement -</span><div class="td-all-devices">'
    '<a href="{base}/donate/"><img src="{base}/wp-content/uploads/2018/01/support-300x250.jpg" '
    'alt="" width="300" height="250"/></a></div></div>\n'
)
WORDADS = (
    '<div class="wpcnt"><div class="wpa wpmrec"><span class="wpa-about">Advertisements</span>'
    '<div class="u top_amazon"><div style="padding-bottom:15px;width:300px;height:250px;'
    'float:left;margin-right:5px;margin-top:0px"><div id="{id}"></div>'
    "<script>__ATA.cmd.push(function() { __ATA.initDynamicSlot({ id: '{id}', location: 120, "
    "formFactor: '001', label: { text: 'Advertisements', }, creative: { reportAd: { text: "
    "'Report this ad', }, privacySettings: { text: 'Privacy settings', } } }); });</script>"
    "</div></div></div></div>\n"
)
NEWSLETTER = (
    '<div class="td_block_wrap tdn_block_newsletter_subscribe tdi_71 td-pb-border-top '
    'td_block_template_1" data-td-block-uid="tdi_71"><div class="tdn_block_inner">'
    '<div class="tdn-info"><h3 class="tdn-title">Subscribe to our newsletter</h3>'
    '<div class="tdn-descr">Sign up here to get the latest news, updates and special offers '
    "delivered directly to your inbox.</div></div>"
    '<form class="tdn-form" method="post" action="{base}/wp-admin/admin-ajax.php">'
    '<input class="tdn-email" type="email" name="email" placeholder="Your email address" '
    'required><input class="tdn-submit" type="submit" value="Subscribe"></form></div></div>\n'
)


def post_content(theme: Theme, art: Article) -> str:
    """The inside of ``div.td-post-content``: byline, body and the site's noise."""
    lay, base = art.layout, theme.base
    out = [
        f'<div class="td-post-featured-image"><a href="{theme.url(art.featured_image)}" '
        f'data-caption="">{featured_img(base, art.featured_image, a(art.title))}</a></div>\n'
    ]
    if lay.style_top:
        out.append(PASTED_STYLE)
    out.append(byline_html(art))
    for i, (text, kind) in enumerate(zip(art.paragraphs, lay.kinds, strict=True)):
        nbsp = "&nbsp;" if i in lay.nbsp else ""
        if kind == "h2":
            out.append(f"<h2>{t(text)}</h2>\n")
        elif kind == "blockquote":
            out.append(f"<blockquote><p>{t(text)}</p></blockquote>\n")
        else:
            out.append(f"<p>{t(text)}{nbsp}</p>\n")
        if i + 1 == lay.ad_after and lay.ad_after < len(art.paragraphs):
            out.append(INLINE_AD.replace("{base}", base))
    out.append(PASTED_STYLE * lay.styles_bottom)
    if lay.ad_after >= len(art.paragraphs):
        out.append(INLINE_AD.replace("{base}", base))
    out.append(WORDADS.replace("{id}", lay.wordads_id))
    out.append(NEWSLETTER.replace("{base}", base))
    return "".join(out)


def byline_html(art: Article) -> str:
    lines = art.byline_paragraphs
    if not lines:
        return ""
    if art.layout.byline_br:
        return "<p>" + "<br />\n".join(t(line) for line in lines) + "</p>\n"
    return "".join(f"<p>{t(line)}</p>\n" for line in lines)


def article_page(theme: Theme, k: int) -> bytes:
    """The single-post page of the article at chronological position k, UTF-8 encoded.

    Encoded piecewise: the shared chrome (header, sidebar, footer) is encoded once per theme.
    """
    site, base = theme.site, theme.base
    art = site.article_at(k)
    url = theme.url(art.path)
    cat = art.categories[0]
    tags_meta = "".join(f'<meta property="article:tag" content="{a(x)}" />\n' for x in art.tags)
    graph: list[dict[str, object]] = [
        *theme.website_graph,
        {
            "@type": "WebPage",
            "@id": f"{url}#webpage",
            "url": url,
            "name": f"{art.title} - Fort Russ",
            "isPartOf": {"@id": f"{base}/#website"},
            "datePublished": iso(art.published),
            "dateModified": iso(art.modified),
        },
        {
            "@type": "Article",
            "@id": f"{url}#article",
            "isPartOf": {"@id": f"{url}#webpage"},
            "author": {"@type": "Person", "name": art.author},
            "headline": art.title,
            "datePublished": iso(art.published),
            "dateModified": iso(art.modified),
            "commentCount": len(art.comments),
            "mainEntityOfPage": {"@id": f"{url}#webpage"},
            "publisher": {"@id": f"{base}/#organization"},
            "image": theme.url(art.featured_image),
            "keywords": ",".join(art.tags),
            "articleSection": ",".join(art.categories),
        },
    ]
    extra = (
        '<meta property="og:type" content="article" />\n'
        f'<meta property="og:title" content="{a(art.title)} - Fort Russ" />\n'
        f'<meta property="og:description" content="{a(art.excerpt)}" />\n'
        f'<meta property="og:url" content="{url}" />\n'
        '<meta property="article:publisher" content="https://www.facebook.com/fortruss" />\n'
        f"{tags_meta}"
        f'<meta property="article:section" content="{a(cat)}" />\n'
        f'<meta property="article:published_time" content="{iso(art.published)}" />\n'
        f'<meta property="article:modified_time" content="{iso(art.modified)}" />\n'
        f'<meta property="og:updated_time" content="{iso(art.modified)}" />\n'
        f'<meta property="og:image" content="{theme.url(art.featured_image)}" />\n'
        f'<meta property="og:image:width" content="{ORIGINAL[0]}" />\n'
        f'<meta property="og:image:height" content="{ORIGINAL[1]}" />\n'
        '<meta name="twitter:card" content="summary_large_image" />\n'
        f'<meta name="twitter:title" content="{a(art.title)} - Fort Russ" />\n'
        + theme.json_ld(graph)
        + f"<link rel='shortlink' href='{base}/?p={art.post_id}' />\n"
        f'<link rel="amphtml" href="{url}amp/">\n'
    )
    head = theme.head(f"{art.title} - {SITE_NAME}", url, extra, art.excerpt) + "</head>\n"
    classes = " ".join(
        [
            f"post-{art.post_id} post type-post status-publish format-standard has-post-thumbnail "
            "hentry"
        ]
        + [f"category-{c}" for c in art.category_slugs]
        + [f"tag-{x}" for x in art.tag_slugs]
    )
    author_link = theme.author_url(art.author)
    cats = "".join(
        f'<li class="entry-category"><a href="{theme.category_url(c)}">{t(c)}</a></li>'
        for c in art.categories
    )
    tags = "".join(f'<li><a href="{theme.tag_url(x)}">{t(x)}</a></li>' for x in art.tags)
    top = head + body_tag(
        "post-template-default single single-post", f" postid-{art.post_id}"
    ).replace('" itemscope', ' single-format-standard" itemscope', 1)
    parts = [
        '<div class="td-main-content-wrap td-container-wrap">\n'
        '<div class="td-container td-post-template-default ">\n',
        theme.breadcrumbs([(cat, theme.category_url(cat)), (art.title, None)]),
        '<div class="td-pb-row">\n<div class="td-pb-span8 td-main-content" role="main">\n'
        '<div class="td-ss-main-content">\n'
        f'<article id="post-{art.post_id}" class="{classes}" itemscope '
        'itemtype="https://schema.org/Article">\n'
        f'<div class="td-post-header"><ul class="td-category">{cats}</ul>\n'
        f'<header class="td-post-title"><h1 class="entry-title">{t(art.title)}</h1>\n'
        '<div class="td-module-meta-info"><div class="td-post-author-name">'
        f'<div class="td-author-by">By</div> <a href="{author_link}">{t(art.author)}</a>'
        '<div class="td-author-line"> - </div> </div>'
        '<span class="td-post-date"><time class="entry-date updated td-module-date" '
        f'datetime="{iso(art.published)}" >{human_date(art.published)}</time></span>'
        f'<div class="td-post-comments"><a href="{url}#respond"><i class="td-icon-comments">'
        f"</i>{len(art.comments)}</a></div>"
        '<div class="td-post-views"><i class="td-icon-views"></i>'
        f'<span class="td-nr-views-{art.post_id}">{art.views}</span></div></div>\n'
        "</header></div>\n",
        '<div class="td-post-sharing-top">',
        theme.share_buttons(url, art.title, "top"),
        "</div>\n",
        '<div class="td-post-content tagdiv-type">\n',
        post_content(theme, art),
        "</div>\n<footer>\n",
        '<div class="td-post-source-tags"><ul class="td-tags td-post-small-box clearfix">'
        f"<li><span>TAGS</span></li>{tags}</ul></div>\n",
        '<div class="td-post-sharing-bottom">',
        theme.share_buttons(url, art.title, "bottom"),
        "</div>\n",
        _next_prev(theme, k),
        '<div class="author-box-wrap"><a href="' + author_link + '"><img alt="" '
        'src="https://secure.gravatar.com/avatar/0?s=96&#038;d=mm&#038;r=g" class="avatar '
        'avatar-96 photo" height="96" width="96"/></a><div class="desc"><div class="td-author-'
        f'name vcard author"><span class="fn"><a href="{author_link}">{t(art.author)}</a>'
        '</span></div><div class="td-author-description"></div></div></div>\n'
        f'<meta itemprop="datePublished" content="{iso(art.published)}">'
        f'<meta itemprop="dateModified" content="{iso(art.modified)}">\n'
        "</footer>\n</article>\n",
        _related(theme, k, art),
        _comments(theme, art, url),
        "</div></div>\n",
    ]
    return b"".join(
        (
            top.encode(),
            theme.encoded("body_open"),
            "".join(parts).encode(),
            theme.sidebar_bytes(cat, art.post_id % 13),
            b"</div></div></div>\n",
            theme.encoded("footer"),
        )
    )


def _next_prev(theme: Theme, k: int) -> str:
    out = ['<div class="td-block-row td-post-next-prev">']
    prev, nxt = theme.site.neighbour(k, -1), theme.site.neighbour(k, 1)
    if prev is not None:
        prev_url, prev_title = theme.url(theme.site.path(prev)), theme.site.title(prev)
        out.append(
            '<div class="td-block-span6 td-post-prev-post"><div class="td-post-next-prev-content">'
            f'<span>Previous article</span><a href="{prev_url}">{t(prev_title)}</a>'
            "</div></div>"
        )
    out.append('<div class="td-next-prev-separator"></div>')
    if nxt is not None:
        next_url, next_title = theme.url(theme.site.path(nxt)), theme.site.title(nxt)
        out.append(
            '<div class="td-block-span6 td-post-next-post"><div class="td-post-next-prev-content">'
            f'<span>Next article</span><a href="{next_url}">{t(next_title)}</a>'
            "</div></div>"
        )
    out.append("</div>\n")
    return "".join(out)


def _related(theme: Theme, k: int, art: Article) -> str:
    ranks = theme.site.category_ranks(art.categories[0])
    want = 3 + art.post_id % 4
    picks = [r for r in ranks[: want + 1] if r != k][:want]
    modules = "".join(theme.module(r, "td_module_related_posts") for r in picks)
    return (
        '<div class="td_block_wrap td_block_related_posts tdi_3 td_with_ajax_pagination '
        'td-pb-border-top td_block_template_1" data-td-block-uid="tdi_3">'
        '<h4 class="td-related-title td-block-title"><a id="tdi_4" class="td-related-left '
        'td-cur-simple-item" href="#">RELATED ARTICLES</a><a id="tdi_5" class="td-related-right" '
        'href="#">MORE FROM AUTHOR</a></h4>'
        f'<div id="tdi_3" class="td_block_inner"><div class="td-related-row">{modules}</div>'
        "</div></div>\n"
    )


def _comments(theme: Theme, art: Article, url: str) -> str:
    out = ['<div class="comments" id="comments">']
    if art.comments:
        out.append(
            '<div class="td-comments-title-wrap td_block_template_1"><h4 class="block-title">'
            f"<span>{len(art.comments)} COMMENTS</span></h4></div>"
            '<ol class="comment-list">'
        )
        for c in art.comments:
            out.append(
                f'<li class="comment even thread-even depth-1" id="li-comment-{c.comment_id}">'
                f'<article><footer><cite><a href="#" class="url">{t(c.author)}</a></cite>'
                f'<a class="comment-link" href="{url}#comment-{c.comment_id}">'
                f'<time pubdate="{iso(c.date)}">{human_date(c.date)}</time></a></footer>'
                f'<div class="comment-content"><p>{t(c.text)}</p></div>'
                f'<div class="comment-meta" id="comment-{c.comment_id}">'
                f'<a rel="nofollow" class="comment-reply-link" href="{url}?replytocom='
                f'{c.comment_id}#respond">Reply</a></div></article></li>'
            )
        out.append("</ol>")
    out.append(
        '<div id="respond" class="comment-respond"><h3 id="reply-title" '
        'class="comment-reply-title">LEAVE A REPLY</h3>'
        f'<form action="{theme.base}/wp-comments-post.php" method="post" id="commentform" '
        'class="comment-form" novalidate><div class="comment-form-input-wrap td-form-comment">'
        '<textarea placeholder="Comment:" id="comment" name="comment" cols="45" rows="8">'
        '</textarea><div class="td-warning-comment">Please enter your comment!</div></div>'
        '<div class="comment-form-input-wrap td-form-author"><input id="author" name="author" '
        'placeholder="Name:*" type="text" value="" size="30"/><div class="td-warning-author">'
        'Please enter your name here</div></div><p class="form-submit"><input name="submit" '
        'type="submit" id="submit" class="submit" value="Post Comment" />'
        f"<input type='hidden' name='comment_post_ID' value='{art.post_id}' /></p></form>"
        "</div></div>\n"
    )
    return "".join(out)


def amp_page(theme: Theme, k: int) -> str:
    """The AMP variant (``/<path>/amp/``): a simpler page whose canonical is the article."""
    art = theme.site.article_at(k)
    url = theme.url(art.path)
    body = [byline_html(art)]
    for text, kind in zip(art.paragraphs, art.layout.kinds, strict=True):
        tag = "h2" if kind == "h2" else "p"
        body.append(f"<{tag}>{t(text)}</{tag}>\n")
    return (
        '<!doctype html>\n<html amp lang="en-US">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width,minimum-scale=1,initial-scale=1">\n'
        f"<title>{t(art.title)} - {SITE_NAME}</title>\n"
        f'<link rel="canonical" href="{url}" />\n'
        '<script async src="https://cdn.ampproject.org/v0.js"></script>\n'
        "<style amp-boilerplate>body{-webkit-animation:-amp-start 8s steps(1,end) 0s 1 normal "
        "both}</style>\n<style amp-custom>.td-post-content p{margin-bottom:21px}</style>\n"
        "</head>\n<body>\n"
        f'<header class="td-header-wrap"><a class="td-main-logo" href="{theme.base}/">'
        f"{SITE_NAME}</a></header>\n"
        '<article class="td-post-content">\n'
        f'<h1 class="entry-title">{t(art.title)}</h1>\n'
        f'<div class="td-post-meta"><span class="td-post-author-name">{t(art.author)}</span> '
        f'<time datetime="{iso(art.published)}">{human_date(art.published)}</time></div>\n'
        + "".join(body)
        + '<amp-ad width="300" height="250" type="pubmine" data-siteid="1"></amp-ad>\n'
        "</article>\n"
        f'<footer><a href="{url}">View desktop version</a></footer>\n</body>\n</html>\n'
    )
