"""The per-response caches of one replica server: rendered pages (``Router.render``), gzip'd
bodies, ETag digests, drawn article images and each month's image index (``Assets``).

``Caches.sized(N)`` bounds every one of them at N entries; ``None`` caches every response
(a remote site with a full page cache: after one crawl a bench replica spends almost no CPU
on the crawler's machine) and 0 caches nothing. The default ``DEFAULT_SIZE`` keeps the sizes
the replica always had (pages and gzip 256, digests 1024, images 512, months 64), the
body-keyed ones shared by every default server of the process. Every cache but the pages is
keyed by what makes the bytes (the body, the image's name and size), so it may outlive a day
change (``ReplicaServer.set_day``) without serving a stale body; the page cache lives in the
day's ``Router`` and starts empty.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from infra.replica import images

DEFAULT_SIZE = 256
MONTHS = 64  # months of image index a default server keeps


def gzip_body(body: bytes) -> bytes:
    """The body gzip'd deterministically (mtime 0), as the handler sends it."""
    return gzip.compress(body, compresslevel=6, mtime=0)


def digest(body: bytes) -> str:
    """The strong ETag's value for a body."""
    return hashlib.sha256(body).hexdigest()[:32]


_shared_gzip = lru_cache(maxsize=DEFAULT_SIZE)(gzip_body)
_shared_digest = lru_cache(maxsize=4 * DEFAULT_SIZE)(digest)
_shared_image = lru_cache(maxsize=2 * DEFAULT_SIZE)(images.article_image)


@dataclass(frozen=True)
class Caches:
    """One server's caches; ``size`` bounds the pages (and months) each ``Router`` keeps."""

    size: int | None
    months: int | None
    gzip: Callable[[bytes], bytes]
    digest: Callable[[bytes], str]
    image: Callable[[str, int, int], bytes]

    @classmethod
    def sized(cls, size: int | None = DEFAULT_SIZE) -> Caches:
        """Caches of ``size`` entries each (None: unbounded; the default: today's, shared)."""
        if size == DEFAULT_SIZE:
            return cls(size, MONTHS, _shared_gzip, _shared_digest, _shared_image)
        if size is not None and size < 0:
            raise ValueError(f"a cache size is a number of entries >= 0, not {size}")
        own = lru_cache(maxsize=size)
        return cls(size, size, own(gzip_body), own(digest), own(images.article_image))


SHARED = Caches.sized()
