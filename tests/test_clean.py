"""Tests for flows.clean.cleaner.clean_html: the seed article, every byline format, the generic
path,
errors, encodings and normalisation, and (when it is importable) the replica's ground truth."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from flows.clean.cleaner import CLEANER_VERSION, EXTRACTOR_VERSION, CleanedArticle, clean_html
from flows.clean.normalize import decode_html, normalize_paragraph
from flows.errors import ConfigError, ExtractionError
from flows.sites import load_profile
from tests.helpers import shared_dir

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "clean"
SEED_EXPECTED = shared_dir() / "seed/expected_text.txt"
SEED_URL = "https://fort-russ.com/2017/07/iraq-to-join-forces-with-iran-in/"
SEED_TITLE = (
    "Iraq to Join Forces With Iran in Combating Terrorism and Maintaining Regional Security"
)
TAGDIV = "tagdiv-newspaper"
NOISE = ("@page", "margin", "Advertisement", "__ATA", "Subscribe", "Sign up", "Report this ad")


# The pages here are Fort Russ's (or the replica's): cleaned with the names its profile gives.
FORT_RUSS = load_profile("fortruss").extract.site_names


def clean(
    html: bytes | str,
    url: str,
    *,
    theme: str | None = None,
    content_selector: str | None = None,
    encoding: str | None = None,
) -> CleanedArticle:
    return clean_html(
        html,
        url,
        theme=theme,
        content_selector=content_selector,
        encoding=encoding,
        site_names=FORT_RUSS,
    )


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def seed_expected() -> str:
    if not SEED_EXPECTED.is_file():
        pytest.fail(f"seed ground truth missing: {SEED_EXPECTED} (the shared seed directory)")
    lines = SEED_EXPECTED.read_text(encoding="utf-8").splitlines()
    lines = [line for line in lines if line.strip()]
    assert len(lines) == 10, f"{SEED_EXPECTED} should hold 10 paragraphs, has {len(lines)}"
    return "\n".join(lines)


def assert_clean_text(article: CleanedArticle) -> None:
    for word in NOISE:
        assert word not in article.text, word
    assert article.text == "\n".join(article.paragraphs)
    for p in article.paragraphs:
        assert p and p == p.strip() and "  " not in p and "\n" not in p
        assert unicodedata.is_normalized("NFC", p)


# ----- the seed article -------------------------------------------------------------------------


@pytest.mark.parametrize("theme", [None, TAGDIV])
def test_seed_article(theme: str | None) -> None:
    article = clean(fixture("seed.html"), SEED_URL, theme=theme)
    assert article.text == seed_expected()
    assert len(article.paragraphs) == 10
    assert article.title == SEED_TITLE
    assert article.published is not None and article.published.startswith("2017-07-23")
    assert article.original_source == "Al Mayadeen"
    assert article.translator == "Samer Hussein"
    assert_clean_text(article)


def test_seed_metadata_site_path() -> None:
    article = clean(fixture("seed.html"), SEED_URL, theme=TAGDIV)
    assert article.extractor == "newsvault-tagdiv"
    assert article.extractor_version == EXTRACTOR_VERSION
    assert EXTRACTOR_VERSION.startswith(CLEANER_VERSION + "+trafilatura-")
    assert article.published == "2017-07-23T14:32:00Z"
    assert article.modified == "2017-07-23T16:05:00Z"
    assert article.authors == ("Fort Russ",)
    assert article.categories == ("Middle East",)
    assert article.tags == ("Iran", "Iraq", "ISIS")
    assert article.language == "en"
    assert article.canonical_url == SEED_URL
    assert article.post_id == 9131
    assert article.featured_image == (
        "https://fort-russ.com/wp-content/uploads/2017/07/iran-iraq-696x392.jpg"
    )


def test_seed_as_str_and_default_selector_equal() -> None:
    raw = fixture("seed.html")
    a = clean(raw, SEED_URL, theme=TAGDIV)
    b = clean(raw.decode("utf-8"), SEED_URL, content_selector="div.td-post-content")
    assert a == b


def test_seed_deterministic() -> None:
    raw = fixture("seed.html")
    assert clean(raw, SEED_URL, theme=TAGDIV) == clean(raw, SEED_URL, theme=TAGDIV)


# ----- byline formats on whole pages ------------------------------------------------------------


@pytest.mark.parametrize("theme", [TAGDIV, None])
def test_translated_for_in_one_br_paragraph(theme: str | None) -> None:
    article = clean(fixture("translated_for_br.html"), "https://fort-russ.com/x/", theme=theme)
    assert article.translator == "Ollie Richardson"
    assert article.original_source == "Tvzvezda"
    assert article.published == "2016-02-18T21:10:00Z"
    assert article.paragraphs[0] == (
        "Negotiations in Minsk stalled again on Thursday, the third time this month."
    )
    assert article.paragraphs[-1] == "A new round is planned for March."
    assert "What comes next" in article.paragraphs  # <h2>
    assert "We will return to the table when the shelling stops." in article.paragraphs
    assert "Photo: Tvzvezda" not in article.text  # caption dropped
    assert "widgets.js" not in article.text
    assert_clean_text(article)


def test_site_names_come_from_the_profile_not_the_cleaner() -> None:
    """The cleaner knows no site: without the profile's names the seed's "Fort Russ News" line
    reads as the original source and "for Fort Russ" ends no translator's name."""
    seed = clean_html(fixture("seed.html"), SEED_URL, theme=TAGDIV)
    assert seed.original_source == "Fort Russ News" and seed.translator == "Samer Hussein"
    raw = fixture("translated_for_br.html")
    plain = clean_html(raw, "https://fort-russ.com/x/", theme=TAGDIV)
    assert plain.translator is None
    assert plain.paragraphs[0] == "Translated by Ollie Richardson for Fort Russ"
    assert (
        FORT_RUSS == load_profile("replica").extract.site_names == ("Fort Russ News", "Fort Russ")
    )


def test_site_path_block_structure() -> None:
    article = clean(fixture("translated_for_br.html"), "https://fort-russ.com/x/", theme=TAGDIV)
    assert article.paragraphs == (
        "Negotiations in Minsk stalled again on Thursday, the third time this month.",
        "The delegations did not agree on the Donbass ceasefire line.",
        "What comes next",
        "We will return to the table when the shelling stops.",
        "Prisoner exchange postponed",
        "OSCE monitors to stay",
        "Read the full statement on Telegram",
        "Talks stalled again in Minsk.",
        "— Reporter (@reporter) February 18, 2016",
        "A new round is planned for March.",
    )
    assert article.extractor == "newsvault-tagdiv"
    assert article.post_id == 2001


def test_fortruss_translation_and_offset() -> None:
    article = clean(fixture("fortruss_translation.html"), "https://fort-russ.com/x/", theme=TAGDIV)
    assert article.translator == "Tatzhit"
    assert article.original_source is None
    assert article.published == "2017-03-24T20:30:00Z"  # 23:30+03:00
    assert article.modified == "2017-03-25T05:00:00Z"
    assert article.paragraphs == (
        "Preface: the debate below is a useful window into how the Duma works.",
        "Deputies argued for six hours over the retirement age.",
        "The vote was postponed until April.",
    )
    assert article.categories == ("Russia", "Economy")
    assert article.tags == ("Duma", "Pensions")
    assert article.title == "The Duma Debates Pension Reform"  # no og: h1 is used
    assert_clean_text(article)


@pytest.mark.parametrize("theme", [TAGDIV, None])
def test_written_by_names_the_author(theme: str | None) -> None:
    article = clean(fixture("written_by.html"), "https://fort-russ.com/x/", theme=theme)
    assert article.authors == ("Marek Havel",)
    assert article.translator is None and article.original_source is None
    assert article.paragraphs[0].startswith("The summit ended")


def test_by_colon_and_json_ld_dates() -> None:
    article = clean(fixture("by_colon.html"), "https://fort-russ.com/x/", theme=TAGDIV)
    assert article.authors == ("Daria Volkova",)
    assert article.published == "2019-01-15T11:45:00Z"  # JSON-LD 06:45-05:00
    assert article.title == "Sanctions Review — What Changed"
    assert article.paragraphs == (
        "The EU extended its sanctions for another six months — the eleventh time.",
        "Energy companies were again exempted.",
    )


def test_no_byline_keeps_by_the_end_paragraph() -> None:
    article = clean(fixture("no_byline.html"), "https://fort-russ.com/x/", theme=TAGDIV)
    assert article.paragraphs[0].startswith("By the end of 2016, the front line")
    assert len(article.paragraphs) == 3
    assert article.translator is None and article.original_source is None
    assert article.authors == ("Fort Russ",)
    assert article.published == "2016-12-31T16:00:00Z"  # from <time datetime>, +02:00
    assert article.language == "en"  # no <html lang>: detected


def test_byline_date_is_fallback_for_published() -> None:
    html = (
        '<html lang="en"><body class="single"><article id="post-7"><h1 class="entry-title">T</h1>'
        '<div class="td-post-content"><p>Fort Russ, March 24th, 2017</p>'
        "<p>Translation by Tatzhit</p><p>The only paragraph of the article.</p></div>"
        "</article></body></html>"
    )
    article = clean(html, "https://fort-russ.com/x/", theme=TAGDIV)
    assert article.published == "2017-03-24"
    assert article.post_id == 7
    assert article.paragraphs == ("The only paragraph of the article.",)


# ----- generic path, errors ---------------------------------------------------------------------


@pytest.mark.parametrize("theme", [TAGDIV, None])
def test_selector_miss_uses_generic_path(theme: str | None) -> None:
    url = "https://news.example.org/2018/11/gas-deal/"
    article = clean(fixture("generic_other_theme.html"), url, theme=theme)
    assert article.extractor == "newsvault-generic"
    assert article.title == "Gas Deal Signed in Ankara"
    assert article.paragraphs[0].startswith("Turkey and Russia signed the final agreement")
    assert len(article.paragraphs) == 3
    assert "Most read" not in article.text and "Copyright" not in article.text
    assert article.published == "2018-11-19T09:00:00Z"
    assert article.authors == ("Helen Carver",)
    assert article.language == "en"
    assert article.canonical_url == url


def test_json_ld_article_body_fallback() -> None:
    article = clean(fixture("jsonld_body_only.html"), "https://example.ru/a")
    assert article.paragraphs == ("Первый абзац статьи.", "Второй абзац статьи.")
    assert article.title == "Текст только в JSON-LD"
    assert article.authors == ("Anton Grishin",)  # resolved through @id
    assert article.published == "2019-06-01"
    assert article.language == "ru"


def test_unmarked_chinese_page_counts_characters_not_spaces() -> None:
    """Chinese writes no spaces: an unmarked page's words are counted as two characters each,
    so a real article passes and a two-word menu still does not."""
    sentence = "今天上午，市政府召开新闻发布会，介绍了新学校的建设计划和预算安排。"
    body = "".join(f"<p>{sentence}</p>" for _ in range(4))
    page = f"<html><body><div class='content'>{body}</div></body></html>"
    article = clean_html(page, "https://example.cn/news/1.htm")
    assert article.paragraphs[0] == sentence
    with pytest.raises(ExtractionError, match="no article text"):
        clean_html("<html><body><p>首页 新闻</p></body></html>", "https://example.cn/")


@pytest.mark.parametrize("theme", [TAGDIV, None])
def test_listing_page_is_not_an_article(theme: str | None) -> None:
    with pytest.raises(
        ExtractionError, match=re.escape("no article text found in https://fort-russ.com/tag/")
    ):
        clean(fixture("listing.html"), "https://fort-russ.com/tag/russia/", theme=theme)


def test_error_message_names_selector() -> None:
    html = "<html><body><nav><a href='/'>Home</a></nav></body></html>"
    with pytest.raises(ExtractionError) as info:
        clean(html, "https://fort-russ.com/2017/07/x/", theme=TAGDIV)
    assert str(info.value) == (
        "no article text found in https://fort-russ.com/2017/07/x/: not an article page, or the "
        "content selector 'div.td-post-content' no longer matches (site layout changed?)"
    )
    with pytest.raises(ExtractionError) as generic:
        clean(html, "https://fort-russ.com/2017/07/x/")  # no selector was set: none is blamed
    assert str(generic.value) == (
        "no article text found in https://fort-russ.com/2017/07/x/: not an article page, or a "
        "layout the generic cleaner cannot read (set [extract] content_selector in the site's "
        "profile)"
    )


@pytest.mark.parametrize("html", [b"", "   ", b"\x00\x00"])
def test_empty_input_raises_extraction_error(html: bytes | str) -> None:
    with pytest.raises(ExtractionError):
        clean(html, "https://fort-russ.com/x/")


def test_unknown_theme_and_bad_selector_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="unknown cleaner theme"):
        clean(fixture("seed.html"), SEED_URL, theme="wordpress-astra")
    with pytest.raises(ConfigError, match="not valid CSS"):
        clean(fixture("seed.html"), SEED_URL, content_selector="div[[")


def test_empty_container_falls_back_to_generic() -> None:
    html = fixture("seed.html").replace(b'class="td-post-content tagdiv-type"', b'class="x"')
    html = html.replace(b"<article ", b'<div class="td-post-content"></div><article ', 1)
    article = clean(html, SEED_URL, theme=TAGDIV)
    assert article.extractor == "newsvault-generic"
    assert article.text == seed_expected()


# ----- encodings and normalisation --------------------------------------------------------------


def test_latin1_bytes_without_charset() -> None:
    raw = fixture("latin1_no_charset.html")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    article = clean(raw, "https://fort-russ.com/x/", theme=TAGDIV)
    assert article.title == "Café Owners in Zürich Protest"
    assert "crème brûlée" in article.text and "façades" in article.text
    assert "\ufffd" not in article.text
    assert (article.original_source, article.translator) == ("Izvestia", "Inessa Sinchougova")


def test_explicit_encoding_wins_over_meta() -> None:
    html = '<html><head><meta charset="utf-8"></head><body class="single">'
    body = '<div class="td-post-content"><p>Взгляд: текст статьи.</p></div></body></html>'
    raw = (html + body).encode("cp1251")
    article = clean(raw, "https://x/", theme=TAGDIV, encoding="windows-1251")
    assert article.text == "Взгляд: текст статьи."


def test_bad_bytes_do_not_crash() -> None:
    raw = b'<html><head><meta charset="utf-8"></head><body><div class="td-post-content">'
    raw += b"<p>Broken \xff\xfe bytes here.</p></div></body></html>"
    article = clean(raw, "https://x/", theme=TAGDIV)
    assert article.text.startswith("Broken") and article.text.endswith("bytes here.")


def test_nfc_zero_width_entities_and_controls() -> None:
    body = (
        "<p>Cafe\u0301 nai\u0308ve\u200b text&amp;amp;more &amp;quot;quoted&amp;quot;</p>"
        "<p>\u00a0 \u200b </p>"  # only invisible characters: dropped
        "<p>tab\there\x07bell   and\u00a0nbsp\ufeff</p>"
        "<p>AT&amp;T and R&amp;D stay</p>"
    )
    html = f'<html><body class="single"><div class="td-post-content">{body}</div></body></html>'
    article = clean(html, "https://x/", theme=TAGDIV)
    assert article.paragraphs == (
        'Café naïve text&more "quoted"',
        "tab here bell and nbsp",
        "AT&T and R&D stay",
    )
    assert_clean_text(article)


def test_noise_by_text_when_widget_classes_are_missing() -> None:
    body = (
        "<p>Real text of the article.</p>"
        "<p>- Advertisement -</p>"
        "<p>@page { margin: 0.79in } p { margin-bottom: 0.1in; line-height: 120% }</p>"
        "<p>__ATA.cmd.push(function() { __ATA.initDynamicSlot({ id: 'x' }); });</p>"
        "<div><h3>Subscribe to our newsletter</h3></div>"
        '<div class="td-post-sharing"><a>Facebook</a></div>'
        '<div class="sharedaddy"><h3>Share this:</h3></div>'
        '<div class="jp-relatedposts"><h3>Related</h3></div>'
        '<div style="display: none">hidden</div>'
        "<p>More real text.</p>"
    )
    html = f'<html><body class="single"><div class="td-post-content">{body}</div></body></html>'
    article = clean(html, "https://x/", theme=TAGDIV)
    assert article.paragraphs == ("Real text of the article.", "More real text.")


def test_normalize_paragraph_unit() -> None:
    assert normalize_paragraph("  a \n\t b\u00a0 ") == "a b"
    assert normalize_paragraph("&lt;b&gt; &notin; &copy") == "<b> ∉ &copy"
    assert normalize_paragraph("zwj\u200d kept") == "zwj\u200d kept"


def test_decode_html_meta_charset() -> None:
    text, used = decode_html('<meta charset="koi8-r"><p>Привет</p>'.encode("koi8-r"))
    assert "Привет" in text and used.replace("-", "").lower() == "koi8r"


# ----- the replica site's ground truth ----------------------------------------------------------


def test_replica_article_pages_match_ground_truth() -> None:
    from infra.replica import BYLINE_KINDS, article_page, content
    from infra.replica import theme as theme_mod

    site = content.Site(articles=120, seed=3)
    theme = theme_mod.Theme(site, "http://127.0.0.1:8765")
    replica_names = load_profile("replica").extract.site_names
    kinds: set[str] = set()
    for k in range(site.count):
        art = site.article_at(k)
        page = article_page.article_page(theme, k)
        html = page if isinstance(page, bytes) else page.encode("utf-8")
        got = clean_html(html, theme.url(art.path), theme=TAGDIV, site_names=replica_names)
        where = f"{art.path} ({art.byline_kind}, byline {art.byline_paragraphs!r})"
        assert got.paragraphs == art.paragraphs, where
        assert got.original_source == art.original_source, where
        assert got.translator == art.translator, where
        assert got.published == art.published.strftime("%Y-%m-%dT%H:%M:%SZ"), where
        assert got.title == art.title, where
        assert got.authors == (art.author,), where
        assert got.post_id == art.post_id, where
        kinds.add(art.byline_kind)
    assert kinds == set(BYLINE_KINDS)


# ----- mojibake, language, statuses -------------------------------------------------------------


def test_mojibake_is_repaired_and_quotes_kept() -> None:
    assert normalize_paragraph("cafÃ© Ã¼ber â€œquotedâ€\x9d") == "café über “quoted”"
    assert normalize_paragraph("“Curly” quotes — and naïve text") == (
        "“Curly” quotes — and naïve text"
    )


def test_wrong_declared_language_is_overruled_by_detector() -> None:
    german = (
        "Die Bundesregierung hat am Mittwoch beschlossen, dass die Maßnahmen zur Eindämmung "
        "der Pandemie bis zum Ende des Monats verlängert werden. Die Länder sollen selbst "
        "entscheiden, welche Regeln in Schulen und Kindergärten gelten."
    )
    html = (
        f'<html lang="en-US"><body class="single"><div class="td-post-content"><p>{german}</p>'
        "</div></body></html>"
    )
    assert clean(html, "https://x/", theme=TAGDIV).language == "de"


@pytest.mark.parametrize(
    ("html", "status"),
    [(b"", "empty"), (b"%PDF-1.4 ...", "not_html"), ("plain words only", "not_html")],
)
def test_clean_error_status(html: bytes | str, status: str) -> None:
    from flows.clean.cleaner import CleanError

    with pytest.raises(CleanError) as info:
        clean(html, "https://x/")
    assert info.value.status == status
