"""``newsvault site``: add a site (probe it, write its profile), check what the cleaner makes of
its pages, print the reference of every profile key."""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from flows.cli.common import positive
from flows.errors import ConfigError

if TYPE_CHECKING:
    from flows.clean import SiteTemplate
    from flows.cli.common import Subparsers


def register(sub: Subparsers) -> None:
    site = sub.add_parser("site", help="site profiles: add a site, check one, list every key")
    site_sub = site.add_subparsers(dest="site_command", required=True, metavar="ACTION")
    add = site_sub.add_parser(
        "add", help="probe a site politely and write its profile (polite defaults)"
    )
    add.add_argument("url", help="the site's address, such as https://news.example")
    add.add_argument(
        "--name", default=None, help="the site's name (default: from the host, e.g. news_example)"
    )
    add.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="where to write NAME.toml (default: the first directory of NEWSVAULT_PROFILES, "
        "else spiders/profiles)",
    )
    add.set_defaults(handler=_add)
    check = site_sub.add_parser(
        "check", help="fetch a few of the site's article pages and show what the cleaner makes"
    )
    check.add_argument("site", help="the site: the name of its profile")
    check.add_argument("--pages", type=positive, default=5, help="article pages to fetch")
    check.set_defaults(handler=_check)
    ref = site_sub.add_parser(
        "reference", help="print every profile key with its type, default and meaning (Markdown)"
    )
    ref.set_defaults(handler=_reference)


def _add(args: argparse.Namespace) -> int:
    from urllib.parse import urlsplit

    from flows.sites import (
        BUILTIN_DIR,
        Politeness,
        available_profiles,
        fetcher,
        load_profile_file,
        probe_site,
        profile_text,
    )

    host = urlsplit(args.url).hostname or ""
    name = args.name or re.sub(r"[^a-z0-9]+", "_", host.lower().removeprefix("www.")).strip("_")
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,62}", name or "-"):
        raise ConfigError(f"--name {name!r}: use lowercase letters, digits, '-' or '_'")
    if name in available_profiles():
        raise ConfigError(f"site {name!r} already has a profile: choose another --name")
    dirs = [p for p in os.environ.get("NEWSVAULT_PROFILES", "").split(os.pathsep) if p]
    directory = args.dir or (Path(dirs[0]) if dirs else BUILTIN_DIR)
    if not directory.is_dir():
        raise ConfigError(f"{directory} is not a directory: create it or choose another --dir")
    print(f"probing {args.url} (one request at a time, a second apart)...")
    probe = probe_site(args.url, fetcher(Politeness().user_agent))
    print("\n".join(probe.lines()))
    path = directory / f"{name}.toml"
    path.write_text(profile_text(name, probe), encoding="utf-8")
    load_profile_file(path)  # what was written loads
    print(f"wrote {path}: fill in the user agent's contact URL, then `newsvault site check {name}`")
    return 0


def _check(args: argparse.Namespace) -> int:
    from flows.clean import clean_html
    from flows.derive import learns_template
    from flows.errors import ExtractionError
    from flows.sites import fetcher, load_profile, probe_site

    profile = load_profile(args.site)
    fetch = fetcher(profile.politeness.user_agent, max(profile.politeness.download_delay, 1.0))
    probe = probe_site(profile.base_url, fetch)
    urls = [u for u in probe.sample if profile.is_article_url(u) and profile.allows(u)]
    if not urls:
        raise ConfigError(
            f"no article URL of {args.site} found in its sitemaps: check [discovery] sitemaps "
            f"and article_pattern in {profile.source}"
        )
    pages: dict[str, bytes] = {}
    for url in urls[: args.pages]:
        got = fetch(url)
        if got is None or got[0] != 200:
            print(f"FAILED   {url}: {'no response' if got is None else f'HTTP {got[0]}'}")
            continue
        pages[url] = got[1]
    template = _template(pages) if learns_template(profile) else None
    cleaned = 0
    for url, page in pages.items():
        try:
            article = clean_html(
                page,
                url,
                content_selector=profile.extract.content_selector,
                theme=profile.extract.theme,
                site_names=profile.extract.site_names,
                template=template,
            )
        except ExtractionError as exc:
            print(f"FAILED   {url}: {exc}")
            continue
        cleaned += 1
        words = len(article.text.split())
        print(f"ok       {url}: {article.title!r}, {words} words")
        print(f"         {article.text[:160]!r}")
    print(f"{cleaned} of {min(len(urls), args.pages)} article pages cleaned")
    return 0 if cleaned else 1


def _template(pages: dict[str, bytes]) -> SiteTemplate | None:
    """The site template these pages teach (printed), as an archive run would learn it."""
    from flows.clean import TemplateStats

    stats = TemplateStats().add(pages.values())
    print(f"site template: {stats.describe().replace('`', '')}")
    return stats.template()


def _reference(args: argparse.Namespace) -> int:
    from flows.sites import reference

    print(reference(), end="")
    return 0
