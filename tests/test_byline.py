"""Unit tests for flows.clean.byline.parse_byline: every byline format Fort Russ uses, and prose
that
must not be mistaken for one."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.clean.byline import Byline, parse_byline, parse_date
from flows.sites import load_profile

BODY = "The Iranian Defense Minister and his Iraqi counterpart signed an agreement today."

FORT_RUSS = load_profile("fortruss").extract.site_names  # the names its profile gives


def byline(lines: list[str]) -> Byline | None:
    return parse_byline(lines, site_names=FORT_RUSS)


def test_site_names_are_the_callers() -> None:
    """Without the site's names, "Fort Russ News" is a bare name: the original source."""
    line = "July 23rd, 2017 – Fort Russ News –"
    assert parse_byline([line, BODY]) == Byline(
        date(2017, 7, 23), "Fort Russ News", None, None, None, 1
    )
    assert byline([line, BODY]) == Byline(date(2017, 7, 23), None, None, None, "Fort Russ News", 1)


# ----- format 1: "July 23rd, 2017 – Fort Russ News –" / "– Source – – translated by X –" -----


@pytest.mark.parametrize("dash", ["–", "—", "-", "‒", "―", "−"])
def test_date_site_then_source_translator_any_dash(dash: str) -> None:
    lines = [
        f"July 23rd, 2017 {dash} Fort Russ News {dash}",
        f"{dash} Al Mayadeen {dash} {dash} translated by Samer Hussein {dash}",
        BODY,
    ]
    assert byline(lines) == Byline(
        published=date(2017, 7, 23),
        source="Al Mayadeen",
        translator="Samer Hussein",
        author=None,
        site="Fort Russ News",
        consumed=2,
    )


def test_format1_in_one_line() -> None:
    line = "July 23rd, 2017 – Fort Russ News – – Al Mayadeen – – translated by Samer Hussein –"
    got = byline([line, BODY])
    assert got is not None
    assert (got.published, got.source, got.translator, got.consumed) == (
        date(2017, 7, 23),
        "Al Mayadeen",
        "Samer Hussein",
        1,
    )


def test_format1_dashes_without_spaces() -> None:
    got = byline(["July 1st, 2018 –Fort Russ News–", "–RIA Novosti– –translated by J. Flores–"])
    assert got is not None
    assert (got.published, got.source, got.translator) == (
        date(2018, 7, 1),
        "RIA Novosti",
        "J. Flores",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("July 23rd, 2017", date(2017, 7, 23)),
        ("March 1st, 2016", date(2016, 3, 1)),
        ("May 2nd, 2019", date(2019, 5, 2)),
        ("August 13th, 2015", date(2015, 8, 13)),
        ("July 23, 2017", date(2017, 7, 23)),
        ("Jul. 23 2017", date(2017, 7, 23)),
        ("18th February, 2016", date(2016, 2, 18)),
        ("18 February 2016", date(2016, 2, 18)),
        ("21st of June, 2018", date(2018, 6, 21)),
        ("Sunday, July 23rd, 2017", date(2017, 7, 23)),
        ("2017-07-23", date(2017, 7, 23)),
        ("23.07.2017", date(2017, 7, 23)),
        ("February 30th, 2016", None),
        ("July 2017", None),
        ("July 23rd, 2017 was hot", None),
    ],
)
def test_parse_date(text: str, expected: date | None) -> None:
    assert parse_date(text) == expected


# ----- format 2: "Translated by X for Fort Russ" / "18th February, 2016" / "Source" -----


def test_translated_for_date_source() -> None:
    lines = [
        "Translated by Ollie Richardson for Fort Russ",
        "18th February, 2016",
        "Tvzvezda",
        BODY,
    ]
    assert byline(lines) == Byline(
        published=date(2016, 2, 18),
        source="Tvzvezda",
        translator="Ollie Richardson",
        author=None,
        site="Fort Russ",
        consumed=3,
    )


def test_translated_for_two_word_source() -> None:
    got = byline(["Translated by Jafe Arnold for Fort Russ", "3rd May, 2017", "Al Masdar"])
    assert got is not None
    assert (got.source, got.translator, got.consumed) == ("Al Masdar", "Jafe Arnold", 3)


def test_translated_for_without_source() -> None:
    got = byline(["Translated by Ollie Richardson for Fort Russ", "18th February, 2016", BODY])
    assert got is not None
    assert (got.source, got.consumed) == (None, 2)


# ----- format 3: "Fort Russ, March 24th, 2017" / "Translation by X" -----


@pytest.mark.parametrize(
    "verb", ["Translation by", "Translation and preface by", "Translated by", "translation by"]
)
def test_fortruss_date_then_translation(verb: str) -> None:
    got = byline(["Fort Russ, March 24th, 2017", f"{verb} Tatzhit", BODY])
    assert got == Byline(
        published=date(2017, 3, 24),
        source=None,
        translator="Tatzhit",
        author=None,
        site="Fort Russ",
        consumed=2,
    )


def test_short_heading_after_translation_is_not_a_source() -> None:
    got = byline(["Fort Russ, March 24th, 2017", "Translation by Tatzhit", "Preface", BODY])
    assert got is not None
    assert (got.source, got.consumed) == (None, 2)


# ----- formats 4 and 5: "Written by Name", "By: Name" -----


@pytest.mark.parametrize(
    ("line", "author"),
    [
        ("Written by Marek Havel", "Marek Havel"),
        ("Written by: Nikola Petrović", "Nikola Petrović"),
        ("By: Daria Volkova", "Daria Volkova"),
        ("By: Tomás Rivera", "Tomás Rivera"),
        ("By Sophie Laurent", "Sophie Laurent"),
        ("By: Omar al Haddad", "Omar al Haddad"),
    ],
)
def test_author_lines(line: str, author: str) -> None:
    got = byline([line, BODY])
    assert got == Byline(None, None, None, author, None, 1)


# ----- no byline, and prose that looks a bit like one -----


@pytest.mark.parametrize(
    "first",
    [
        "By the end of 2016, the front line had barely moved.",
        "By the end of 2016",
        "By Sunday, the troops had withdrawn from the city.",
        "Translated documents show that the deal was signed in 2015.",
        "July 23rd, 2017 was the hottest day of the year in Moscow.",
        "Moscow – Russian forces have advanced twenty kilometres.",
        "Tvzvezda",
        "Background",
        "Fort Russ readers asked us about the sanctions.",
        BODY,
        "",
    ],
)
def test_not_a_byline(first: str) -> None:
    assert byline([first, BODY]) is None


def test_no_lines() -> None:
    assert byline([]) is None


def test_byline_stops_at_prose() -> None:
    got = byline(["Written by Marek Havel", "By the end of 2016, the war went on.", BODY])
    assert got is not None and got.consumed == 1


def test_overlong_line_is_not_byline() -> None:
    assert byline(["Written by " + "Verylongname " * 20]) is None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=200), max_size=8))
def test_fuzz_never_crashes_and_consumes_a_prefix(lines: list[str]) -> None:
    got = byline(lines)
    if got is not None:
        assert 1 <= got.consumed <= min(len(lines), 6)
