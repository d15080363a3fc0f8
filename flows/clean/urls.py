"""URL canonicalisation that knows WordPress: one key per article however it was linked.

``canonical_url`` runs w3lib's ``canonicalize_url`` (percent-encoding normalised, unreserved
characters decoded, query parameters sorted, fragment dropped, host lowercased and IDNA-encoded)
and then applies these rules, in this order, to ``http``/``https`` URLs:

1. query: drop tracking parameters (``TRACKING_PARAMS``, and any name starting with one of
   ``TRACKING_PREFIXES``), WordPress's ``replytocom`` (comment reply links) and ``amp`` (``?amp``,
   ``?amp=1``); names compare case-insensitively after percent-decoding; the rest stays sorted;
2. path: a trailing ``/amp/`` (or ``/amp``) segment is removed, repeatedly, unless only ``/``
   would remain; a path whose last segment has no ``.`` (a pretty permalink, not a file) gets a
   trailing ``/``; the empty path is ``/``;
3. scheme ``http`` becomes ``https`` when ``prefer_https`` (port 80 is dropped with it);
4. host: ``www.`` folded to the site's canonical host when ``base_host`` names it
   (``www.fort-russ.com`` and ``fort-russ.com`` both become ``base_host``); any other host is left
   alone; the default port (80 for http, 443 for https) is dropped.

Other schemes (``mailto:``, ``javascript:``, ``ftp:``), URLs without a host and text that does not
parse as a URL (an out-of-range port, a broken IPv6 literal) come back unchanged apart from
surrounding whitespace: ``canonical_url`` never raises, and ``canonical_url(canonical_url(u)) ==
canonical_url(u)`` for every string ``u``.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

__all__ = [
    "TRACKING_PARAMS",
    "TRACKING_PREFIXES",
    "WORDPRESS_PARAMS",
    "canonical_url",
    "prefer_rel_canonical",
    "shortlink_post_id",
]

TRACKING_PREFIXES: tuple[str, ...] = ("utm_",)  # Google Analytics campaign tags
TRACKING_PARAMS: frozenset[str] = frozenset(
    {
        "fbclid",  # Facebook click id
        "gclid",  # Google Ads click id
        "gclsrc",  # Google Ads click source
        "dclid",  # Google Display & Video click id
        "gbraid",  # Google Ads (iOS, app-to-web)
        "wbraid",  # Google Ads (iOS, web-to-app)
        "msclkid",  # Microsoft Advertising click id
        "mc_cid",  # Mailchimp campaign id
        "mc_eid",  # Mailchimp subscriber id
        "_ga",  # Google Analytics cross-domain linker
        "_gl",  # Google tag linker
        "yclid",  # Yandex click id
        "igshid",  # Instagram share id
        "ref_src",  # Twitter embed referrer
        "ref_url",  # Twitter embed referrer
        "twclid",  # Twitter Ads click id
        "ttclid",  # TikTok click id
        "li_fat_id",  # LinkedIn click id
        "mkt_tok",  # Marketo
        "_hsenc",  # HubSpot
        "_hsmi",  # HubSpot
        "hsctatracking",  # HubSpot
        "oly_anon_id",  # Omeda
        "oly_enc_id",  # Omeda
        "vero_id",  # Vero
        "rb_clickid",  # Rakuten
        "s_cid",  # Adobe campaign id
    }
)
WORDPRESS_PARAMS: frozenset[str] = frozenset(
    {
        "replytocom",  # comment reply links: the same article
        "amp",  # ?amp / ?amp=1: the AMP variant of the same article
    }
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _dropped(name: str) -> bool:
    key = unquote_plus(name).strip().lower()
    return key in TRACKING_PARAMS or key in WORDPRESS_PARAMS or key.startswith(TRACKING_PREFIXES)


def _query(query: str) -> str:
    return "&".join(p for p in query.split("&") if p and not _dropped(p.partition("=")[0]))


def _path(path: str) -> str:
    while True:
        if path.endswith("/amp/"):
            shorter = path[:-4]
        elif path.endswith("/amp"):
            shorter = path[:-3]
        else:
            break
        if shorter in ("", "/"):
            break
        path = shorter
    if not path:
        return "/"
    last = unquote_plus(path.rsplit("/", 1)[-1])
    if not path.endswith("/") and "." not in last:
        path += "/"
    return path


def _fold(host: str, base_host: str | None) -> str:
    if not base_host:
        return host
    base = base_host.strip().lower().rstrip(".")
    bare = base.removeprefix("www.")
    return base if host in (bare, f"www.{bare}") else host


def _canonical(text: str, base_host: str | None, prefer_https: bool) -> str:
    first = urlsplit(text)
    if first.scheme.lower() not in _DEFAULT_PORTS or not first.netloc:
        return text
    parts = urlsplit(canonicalize_url(text, keep_fragments=False))
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return text
    port = parts.port  # ValueError when out of range
    if port == _DEFAULT_PORTS[scheme]:
        port = None
    if prefer_https and scheme == "http":
        scheme = "https"
    if port == _DEFAULT_PORTS[scheme]:
        port = None
    host = _fold(parts.hostname.lower(), base_host)
    userinfo, at, _ = parts.netloc.rpartition("@")
    netloc = (userinfo + at) + (f"[{host}]" if ":" in host else host)
    if port is not None:
        netloc += f":{port}"
    return urlunsplit((scheme, netloc, _path(parts.path), _query(parts.query), ""))


def canonical_url(url: str, *, base_host: str | None = None, prefer_https: bool = False) -> str:
    """The canonical form of ``url`` (see the module docstring for the rules); never raises."""
    text = url.strip()
    try:
        # w3lib quotes a path parameter differently once our trailing slash follows it
        # ("/;[" -> "/;%5B/" -> "/;[/"): iterate to the fixed point so the form is idempotent.
        for _ in range(4):
            once = _canonical(text, base_host, prefer_https)
            if once == text:
                break
            text = once
        return text
    except (ValueError, UnicodeError):
        return url.strip()


def shortlink_post_id(url: str) -> int | None:
    """The post id of a WordPress shortlink (``/?p=123``, with any other parameters), or None."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.path not in ("", "/"):
        return None
    for piece in parts.query.split("&"):
        name, eq, value = piece.partition("=")
        if eq and unquote_plus(name) == "p":
            value = unquote_plus(value).strip()
            if value.isascii() and value.isdigit() and len(value) <= 18:
                post = int(value)
                return post if post > 0 else None
            return None
    return None


def _site_host(host: str) -> str:
    return host.strip().lower().rstrip(".").removeprefix("www.")


def prefer_rel_canonical(
    fetched_url: str, rel_canonical: str | None, allowed_hosts: Iterable[str]
) -> str:
    """The URL to key a page by: its ``rel=canonical`` when that is usable, else ``fetched_url``.

    Usable means: present, absolute-ised against ``fetched_url``, ``http``/``https``, on the same
    site (its host, ``www.`` aside, is one of ``allowed_hosts`` or the fetched URL's host) and not
    the home page (a theme that points every page's canonical at ``/`` would merge them all).
    The result is not canonicalised: pass it through ``canonical_url``.
    """
    if rel_canonical is None or not rel_canonical.strip():
        return fetched_url
    try:
        absolute = urljoin(fetched_url, rel_canonical.strip())
        target, fetched = urlsplit(absolute), urlsplit(fetched_url)
        hostname = target.hostname
    except ValueError:
        return fetched_url
    if target.scheme.lower() not in _DEFAULT_PORTS or not hostname:
        return fetched_url
    hosts = {_site_host(h.split(":", 1)[0] if h.count(":") == 1 else h) for h in allowed_hosts}
    if fetched.hostname:
        hosts.add(_site_host(fetched.hostname))
    if _site_host(hostname) not in hosts:
        return fetched_url
    if target.path in ("", "/") and not target.query:
        return fetched_url
    return absolute
