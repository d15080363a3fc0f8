"""Property tests: the cleaner on malformed HTML and byline parsing on arbitrary lines never
crash and never hang (bounded examples; HYPOTHESIS_PROFILE=explore adds a per-example
deadline)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.clean.byline import MAX_BYLINE_LINES, parse_byline
from flows.clean.cleaner import CleanError, clean_html
from flows.sites import load_profile

FRAGMENTS = [
    "<html>", "</html>", "<head>", "<body class='single'>", "<body class='archive'>", "</body>",
    '<div class="td-post-content">', "</div>", "<p>", "</p>", "<br>", "<br/>", "<h2>", "</h2>",
    "<style>@page { margin: 0.79in }", "</style>", "<script>__ATA.cmd.push(", "</script>",
    '<meta charset="utf-8">', '<meta charset="bogus-charset">', "<?xml version='1.0'?>",
    '<script type="application/ld+json">{"@type": "NewsArticle", "headline": ', "}</script>",
    '<meta property="article:published_time" content="2017-07-23T99:00:00+25:00">',
    "<time class='entry-date' datetime='garbage'>", "<!--", "-->", "<![CDATA[", "]]>",
    "&amp;", "&#0;", "&#xFFFFFF;", "&bogus;", "<", ">", "\x00", "\ufeff", "\u200b",
    "July 23rd, 2017 – Fort Russ News –", "– Al Mayadeen – – translated by Samer Hussein –",
    "Translated by Ollie Richardson for Fort Russ", "By: ", "Written by ",
    "The minister said the agreement covers training and the exchange of intelligence. ",
    "Ã©Ã¨ mojibake â€” ", "<table><tr><td>", "<ul><li>", "<article id='post-12'>",
]  # fmt: skip
SITE_NAMES = load_profile("fortruss").extract.site_names  # the fragments are Fort Russ's
tag_soup = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=30), max_size=60).map("".join)
PROPS = settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])


def _check(html: str | bytes, theme: str | None) -> None:
    try:
        article = clean_html(html, "https://fort-russ.com/x/", theme=theme, site_names=SITE_NAMES)
    except CleanError as exc:
        assert exc.status in {"empty", "not_html", "no_article"}
        return
    assert article.text == "\n".join(article.paragraphs)
    assert all(p and p == p.strip() and "\n" not in p for p in article.paragraphs)


@PROPS
@given(tag_soup, st.sampled_from([None, "tagdiv-newspaper"]))
def test_cleaner_on_malformed_html_never_crashes(html: str, theme: str | None) -> None:
    _check(html, theme)


@PROPS
@given(tag_soup, st.sampled_from(["utf-8", "cp1252", "utf-16-le", "koi8-r"]))
def test_cleaner_on_malformed_bytes_never_crashes(html: str, codec: str) -> None:
    _check(html.encode(codec, "replace"), "tagdiv-newspaper")


@PROPS
@given(st.binary(max_size=400))
def test_cleaner_on_random_bytes_never_crashes(data: bytes) -> None:
    _check(data, None)


byline_line = st.lists(
    st.sampled_from(
        [
            "July 23rd, 2017",
            "18th February, 2016",
            "Fort Russ News",
            "Fort Russ",
            "–",
            "—",
            "-",
            " - ",
            "translated by",
            "Translation and preface by",
            "Written by",
            "By:",
            "Samer Hussein",
            "Al Mayadeen",
            "for Fort Russ",
            ",",
            "Source:",
            "Tvzvezda",
            " ",
        ]
    )
    | st.text(max_size=12),
    max_size=14,
).map(" ".join)


@PROPS
@given(st.lists(byline_line, max_size=8))
def test_byline_never_crashes_and_consumes_a_prefix(lines: list[str]) -> None:
    got = parse_byline(lines, site_names=SITE_NAMES)
    if got is not None:
        assert 1 <= got.consumed <= min(len(lines), MAX_BYLINE_LINES)
        for name in (got.translator, got.author, got.source):
            assert name is None or (name.strip() == name and name)
