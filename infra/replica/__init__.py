"""A deterministic replica of Fort Russ News (WordPress, tagDiv "Newspaper" theme) over HTTP.

``Site`` generates the articles and their ground truth (``content``), ``pages``/``feeds`` render
them with the theme's real page structure, ``routes`` maps URLs to responses and ``server`` serves
them on 127.0.0.1 (``ReplicaServer`` in a thread, ``serve_forever`` in the foreground).
``days`` is replica time: what each day after day 0 publishes, edits, deletes and republishes
(``Site.events(day)``, ``Site.status(url)``, ``ReplicaServer.set_day(d)``).
"""

from __future__ import annotations

from infra.replica.content import BYLINE_KINDS, Article, Event, Site
from infra.replica.days import EVENT_KINDS
from infra.replica.seed import SEED_PATH, SEED_POST_ID
from infra.replica.server import Behaviour, ReplicaServer, Request, serve_forever
from infra.replica.text import slugify

__all__ = [
    "BYLINE_KINDS",
    "EVENT_KINDS",
    "SEED_PATH",
    "SEED_POST_ID",
    "Article",
    "Behaviour",
    "Event",
    "ReplicaServer",
    "Request",
    "Site",
    "serve_forever",
    "slugify",
]
