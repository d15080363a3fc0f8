"""Metadata a researcher can trust: the headline (not ``<title>`` with its suffix), the published
date (not the "updated" stamp, not an event's), people as authors (not the site, no labels, not a
URL). Scored as ``make bench-clean`` scores it, on the labelled set in bench/metadata."""

from __future__ import annotations

import pytest

from flows.clean.cleaner import CleanError, clean_html
from flows.clean.headline import pick_headline, strip_site_suffix
from flows.clean.people import SiteNames, people
from tests.helpers import REPO, bench_module, dev_set_dir

mq = bench_module("metadata_quality")
SITE = SiteNames.of("https://www.jagd-oesterreich.at/x/", ["Jagd Österreich"], ["Jagdblog"])


@pytest.mark.parametrize(
    ("value", "want"),
    [
        ("By Glen Owen And Brendan Carlin For The Mail On Sunday", ("Glen Owen", "Brendan Carlin")),
        ("Autor john", ("john",)),
        ("von Dennis Kochinky", ("Dennis Kochinky",)),
        ("Rob Picheta, CNN", ("Rob Picheta",)),
        ("Markus M. Haefliger, London, Beat Bumbacher", ("Markus M. Haefliger", "Beat Bumbacher")),
        ("erstellt von Dominique — veröffentlicht 28.01.2022 06:00", ("Dominique",)),
        ("Zum Profil von jesusfreak jesusfreak", ("jesusfreak",)),
        ("FOCUS-Online-Experte Robin Tschöpe", ("Robin Tschöpe",)),
        ("https://www.facebook.com/peter.gruber", ()),
        ("Jagd Österreich", ()),
        ("jagd-oesterreich.at", ()),
        ("Jagdblog", ()),
        ("Redaktion", ()),
        ("Redacción El Comercio Perú", ()),
        ("The Economist", ()),
        ("EFE", ()),
        ("Deutsches Rotes Kreuz e.V.", ()),
        ("hessenschau.de, Frankfurt, Germany", ()),
        ("Źródło: Statista.com", ()),
        ("Niko 123", ()),
    ],
)
def test_people_are_people(value: str, want: tuple[str, ...]) -> None:
    assert people(value, SITE) == want


def test_headline_over_title_and_social_variants() -> None:
    site = SiteNames.of("https://www.tagblatt.ch/k/", ["St.Galler Tagblatt"])
    h1 = "Tanz in der St. Galler Lokremise: Mit allen Wassern gewaschen"
    suffixed = f"{h1} | St.Galler Tagblatt"
    assert pick_headline(suffixed, suffixed, [h1], suffixed, site) == h1
    assert strip_site_suffix(suffixed, site) == h1
    # a social og:title, the <h1> confirmed by <title> with a suffix
    other = SiteNames.of("https://menway.interia.pl/x", [])
    got = pick_headline(
        None,
        "Schudł 125 kilogramów! Przez rok odmawiał sobie tylko jednego",
        ["Angus Barbieri. Nie jadł przez 382 dni"],
        "Angus Barbieri. Nie jadł przez 382 dni - Menway w INTERIA.PL",
        other,
    )
    assert got == "Angus Barbieri. Nie jadł przez 382 dni"
    # a slug og:title and a logo <h1> are not headlines
    adac = SiteNames.of("https://www.adac.de/x", ["ADAC"])
    got = pick_headline(
        None, "adac-kindersitztest-herbst", ["18 Kindersitze im Test"], "Test | ADAC", adac
    )
    assert got == "18 Kindersitze im Test"
    # og:title cut at a quote: <title> has the whole headline
    cut = pick_headline(None, "Biden es", [], 'Biden es "incapaz"', other)
    assert cut == 'Biden es "incapaz"'


MADE = sorted(p.stem for p in (REPO / "bench" / "metadata" / "pages").glob("*.html"))


@pytest.mark.parametrize("name", MADE)
def test_made_pages_metadata(name: str) -> None:
    page = next(p for p in mq.labelled_pages(dev_set_dir()) if p.id.endswith(name))
    article = clean_html(page.html, page.url)
    assert mq.title_ok(article.title, page.titles), article.title
    assert mq.published_ok(article.published, page.published), article.published
    assert mq.authors_ok(article.authors, page.authors), article.authors


def test_labelled_set_scores_at_least_095_per_field() -> None:
    score = mq.MetaScore()
    pages = list(mq.labelled_pages(dev_set_dir()))
    assert len([p for p in pages if not p.id.startswith("made:")]) >= 100
    for page in pages:
        try:
            a = clean_html(page.html, page.url)
            got = mq.Meta(a.title, a.published, a.authors)
        except CleanError:
            got = mq.Meta(None, None, ())
        score.add(page, got)
    for name in mq.FIELDS:
        assert score.rate(name) >= 0.95, (name, score.wrong[name])


def test_scorer_rules() -> None:
    assert mq.published_ok("2019-10-18T22:04:00Z", "2019-10-19")  # 00:04 at +02:00
    assert not mq.published_ok("2019-10-17T10:00:00Z", "2019-10-19")
    assert mq.published_ok("2019-10-19", "2019-10-19")
    assert not mq.published_ok(None, "2019-10-19")
    assert mq.title_ok("„Sieci”: IPN", ('"Sieci": IPN',))
    assert mq.authors_ok(("A B", "c d"), ("C  D", "a b"))
    assert not mq.authors_ok(("A B", "Site"), ("A B",))
