"""One WARC record as one gzip member, and how each kind of body is deflated.

How a member is deflated is the spool's choice (``Deflate``): zlib's default level, stored, or
``FAST``, ISA-L (``isal``, Intel's storage acceleration library) at its level 2 for bodies
already compressed by their own format: on the replica's JPEGs 5x less CPU than zlib's level 6
for a 2.3 % larger member, where zlib's fastest level still took 3.7x ISA-L's time. With
2 cores shared by the crawl and the site, every CPU second spent here shows in a crawl's
wall time, in whichever process it runs.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from enum import Enum

from isal import isal_zlib

GZIP_WBITS = zlib.MAX_WBITS | 16  # a gzip header and trailer around the deflate stream
JOIN_LIMIT = 1024 * 1024  # records up to this size are deflated in one call (gzip_member)


class Deflate(Enum):
    """How a member is deflated (see the module)."""

    DEFAULT = "zlib level 6"  # zlib's default, as Heritrix's GZIPOutputStream
    FAST = "ISA-L level 2"
    STORED = "zlib level 0"


def gzip_member(parts: Sequence[bytes | bytearray], how: Deflate) -> bytes:
    """One gzip member of ``parts`` as if joined. A record up to ``JOIN_LIMIT`` is joined and
    deflated in one call (in a thread, each call gave up the interpreter lock and had to win it
    back from the reactor); a larger record's body is deflated as its own part, never copied to
    join it (a 30 MB page is held once)."""
    level = 0 if how is Deflate.STORED else 6
    if sum(len(part) for part in parts) <= JOIN_LIMIT:
        data = parts[0] if len(parts) == 1 else b"".join(parts)
        if how is Deflate.FAST:
            return isal_zlib.compress(data, 2, GZIP_WBITS)
        return zlib.compress(data, level, GZIP_WBITS)
    deflate: zlib._Compress | isal_zlib.Compress
    if how is Deflate.FAST:
        deflate = isal_zlib.compressobj(2, isal_zlib.DEFLATED, GZIP_WBITS)
    else:
        deflate = zlib.compressobj(level, zlib.DEFLATED, GZIP_WBITS)
    chunks = [deflate.compress(part) for part in parts]
    chunks.append(deflate.flush())
    return b"".join(chunks)


def member_bound(size: int) -> int:
    """An upper bound of a gzip member's length for ``size`` bytes, however deflated: zlib's own
    conservative ``deflateBound`` (ISA-L stays within it: tests/test_warcspool.py), plus the
    gzip header and trailer (18 bytes), plus a margin."""
    return size + ((size + 7) >> 3) + ((size + 63) >> 6) + 5 + 18 + 64
