"""A deterministic replica of Fort Russ News (WordPress, tagDiv "Newspaper" theme) over HTTP.

``Site`` (``content``) is the archive with its ground truth, built from ``catalog`` (positions,
cheap meta, ``permalinks``), ``generator`` (each article's parts from ``(seed, k)``) and ``edits``
into ``records``. ``theme``, ``article_page``, ``pages`` and ``feeds`` render it with the theme's
real page structure, ``routes`` maps URLs to responses, ``handler`` writes them as HTTP and
``server`` serves them on 127.0.0.1 (``ReplicaServer`` in a thread, ``serve_forever`` in the
foreground); ``faults`` is a ``Behaviour`` that misbehaves on demand.
The theme's page requisites: ``assets`` says what pages link (stylesheets, the web font, scripts,
icons, images in their sizes, the image CDN ``Cdn`` on 127.0.0.2), ``asset_files`` serves them
(scripts and stylesheets from ``static/``, images drawn by ``images``).
``days`` is replica time: what each day after day 0 publishes, edits, deletes and republishes
(``Site.events(day)``, ``Site.status(url)``, ``ReplicaServer.set_day(d)``).
"""

from __future__ import annotations

from infra.replica.assets import Cdn
from infra.replica.behaviour import Behaviour, Request
from infra.replica.content import Site
from infra.replica.days import EVENT_KINDS, THEME_UPDATE_DAY
from infra.replica.generator import BYLINE_KINDS
from infra.replica.records import Article, Event
from infra.replica.seed import SEED_PATH, SEED_POST_ID
from infra.replica.server import ReplicaServer, serve_forever
from infra.replica.text import slugify

__all__ = [
    "BYLINE_KINDS",
    "EVENT_KINDS",
    "SEED_PATH",
    "SEED_POST_ID",
    "THEME_UPDATE_DAY",
    "Article",
    "Behaviour",
    "Cdn",
    "Event",
    "ReplicaServer",
    "Request",
    "Site",
    "serve_forever",
    "slugify",
]
