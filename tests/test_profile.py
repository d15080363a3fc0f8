"""Site profiles: loading, validation and the one-line errors for bad ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.errors import ConfigError
from flows.sites import available_profiles, load_profile


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


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("base_url = ", "cannot read site profile"),
        (
            'base_url = "https://x.example"\n[politeness]\nspeed = 3\n',
            "unknown key in \\[politeness\\]",
        ),
        ('base_url = "https://x.example"\npoliteness = 3\n', "must be a table"),
        ('base_url = "https://x.example"\n[discovery]\narticle_pattern = "("\n', "not a regex"),
        ('name = "Bad Name"\nbase_url = "https://x.example"\n', "must be lowercase"),
    ],
)
def test_bad_profiles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    write(tmp_path, "broken", text, monkeypatch)
    with pytest.raises(ConfigError, match=message):
        load_profile("broken")


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
