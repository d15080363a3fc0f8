"""Site profiles: loading, validation and the one-line errors for bad ones."""

from __future__ import annotations

import os
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from flows.errors import ConfigError
from flows.sites import SECTIONS, SiteProfile, available_profiles, load_profile, reference

REPO = Path(__file__).resolve().parents[1]


def test_shipped_profiles_load() -> None:
    assert {"replica", "fortruss"} <= set(available_profiles())
    replica = load_profile("replica")
    assert replica.base_url == "http://127.0.0.1:8765"
    assert replica.allowed_domains == ("127.0.0.1",)
    assert replica.is_article_path("/2017/07/iraq-to-join-forces-with-iran-in/")
    assert not replica.is_article_path("/category/world/page/2/")
    real = load_profile("fortruss")
    assert real.politeness.obey_robots and real.politeness.download_delay >= 1
    assert "+http" in real.politeness.user_agent  # identifying, with a contact URL
    assert set(real.allowed_domains) == {"www.fort-russ.com", "fort-russ.com"}


def test_base_url_override() -> None:
    profile = load_profile("fortruss", "http://127.0.0.1:9999/")
    assert profile.base_url == "http://127.0.0.1:9999"
    assert profile.allowed_domains[0] == "127.0.0.1"
    assert profile.url("/robots.txt") == "http://127.0.0.1:9999/robots.txt"


@pytest.mark.parametrize("bad", ["ftp://x/", "127.0.0.1:8765", "http://", ""])
def test_bad_base_url(bad: str) -> None:
    with pytest.raises(ConfigError, match="absolute http"):
        load_profile("replica", bad or "nohost")


def test_unknown_site_names_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown site 'nope'.*replica"):
        load_profile("nope")


def write(tmp_path: Path, name: str, text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / f"{name}.toml").write_text(text)
    monkeypatch.setenv("NEWSVAULT_PROFILES", str(tmp_path))


def test_user_profile_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(
        tmp_path,
        "mysite",
        'base_url = "https://news.example"\n[politeness]\ndownload_delay = 3.0\n',
        monkeypatch,
    )
    profile = load_profile("mysite")
    assert profile.politeness.download_delay == 3.0 and profile.host == "news.example"


HEAD = 'base_url = "https://x.example"\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("base_url = ", "cannot read site profile"),
        (HEAD + "[politeness]\nspeed = 3\n", r"unknown key 'speed' in \[politeness\]: keys: "),
        (
            HEAD + "[politeness]\ndownload_dealy = 3\n",
            r"unknown key 'download_dealy' in \[politeness\]: did you mean download_delay\?",
        ),
        (
            HEAD + "[politness]\nobey_robots = true\n",
            r"unknown section \[politness\]: did you mean",
        ),
        (HEAD + "colour = 3\n", r"unknown key 'colour' in the top level"),
        (HEAD + "politeness = 3\n", r"politeness must be a \[politeness\] table"),
        (HEAD + '[discovery]\narticle_pattern = "("\n', "not a regex RE2 runs"),
        (
            HEAD + '[politeness]\nconcurrent_requests = "sixteen"\n',
            r"politeness.concurrent_requests must be a whole number, not 'sixteen'; fix the value",
        ),
        (HEAD + "[politeness]\nconcurrent_requests = 0\n", r"must be at least 1"),
        (HEAD + "[politeness]\nautothrottle = 1\n", r"autothrottle must be true or false"),
        (HEAD + "[health]\nmax_failed_share = 2\n", r"must be between 0 and 1"),
        (HEAD + "[extract]\nsite_names = [3]\n", r"site_names must be a list of non-empty"),
        (HEAD + '[discovery]\nsitemaps = "/s.xml"\n', r"sitemaps must be a list of"),
        ('name = "replica"\n' + HEAD, r"name = 'replica' is not the file's name 'broken'.*remove"),
        ("title = 'x'\n", r"base_url is missing"),
        ("base_url = 3\n", r"base_url must be a string"),
    ],
)
def test_bad_profiles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    """Every mistake is one line naming the file, the key and the fix, before anything runs."""
    write(tmp_path, "broken", text, monkeypatch)
    with pytest.raises(ConfigError, match=message) as caught:
        load_profile("broken")
    assert str(tmp_path / "broken.toml") in str(caught.value)
    assert "\n" not in str(caught.value)


def test_file_name_is_the_site_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "Bad Name", HEAD, monkeypatch)
    with pytest.raises(ConfigError, match=r"must be lowercase.*rename the file"):
        load_profile("Bad Name")
    write(tmp_path, "noname", HEAD, monkeypatch)
    profile = load_profile("noname")
    assert (profile.name, profile.title) == ("noname", "noname")


def test_two_profiles_for_one_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two profile directories naming one site would archive two sites into one prefix."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "news.toml").write_text(HEAD)
    (tmp_path / "b" / "news.toml").write_text(HEAD)
    monkeypatch.setenv("NEWSVAULT_PROFILES", f"{tmp_path / 'a'}{os.pathsep}{tmp_path / 'b'}")
    with pytest.raises(ConfigError, match=r"site 'news' has two profiles.*rename or remove one"):
        load_profile("news")


def test_empty_text_means_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "plain", HEAD + '[extract]\ntheme = ""\ncontent_selector = ""\n', monkeypatch)
    extract = load_profile("plain").extract
    assert extract.theme is None and extract.content_selector is None


def test_template_is_polite_and_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "mynews", (REPO / "docs" / "site-template.toml").read_text(), monkeypatch)
    profile = load_profile("mynews")
    assert profile.politeness.concurrent_requests == 1
    assert profile.politeness.download_delay >= 1 and profile.politeness.autothrottle
    assert "+https://" in profile.politeness.user_agent and profile.extract.theme is None
    assert "test crawl" in load_profile("replica").politeness.user_agent  # stays a replica's


def test_reference_doc_is_up_to_date() -> None:
    """docs/PROFILES.md is rendered from the schema: regenerate it with
    `newsvault site reference > docs/PROFILES.md`."""
    assert (REPO / "docs" / "PROFILES.md").read_text() == reference()
    classes: list[type[Any]] = [SiteProfile, *SECTIONS.values()]
    for cls in classes:
        for f in fields(cls):
            assert f.name == "source" or f.metadata.get("doc") or f.name in SECTIONS


def test_one_version_named_everywhere() -> None:
    """pyproject.toml is the one source: the package metadata, ``flows.__version__`` and every
    shipped profile's user agent name the same release."""
    import tomllib
    from importlib.metadata import version

    import flows

    declared = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert declared["project"]["version"] == version("newsvault") == flows.__version__
    for site in sorted(available_profiles()):
        agent = load_profile(site).politeness.user_agent
        assert agent.startswith(f"newsvault/{flows.__version__} "), (site, agent)
