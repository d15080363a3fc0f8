"""The one exception tree of newsvault.

Every error a user can cause or meet is a ``NewsvaultError`` whose message is a single line that
names what was wrong and what to do about it. Third-party exceptions (botocore, OSError, Scrapy)
are translated once, where they cross into our code, with ``raise ... from exc``; the CLI prints
``str(error)`` and exits non-zero without a traceback.
"""

from __future__ import annotations


class NewsvaultError(Exception):
    """Base of every error newsvault raises on purpose."""

    exit_code: int = 1


class ConfigError(NewsvaultError):
    """A setting, profile or argument is wrong (unknown site, bad URL, bad TOML)."""

    exit_code = 2


class InfraError(NewsvaultError):
    """A local server could not be started or reached (port taken, binary missing)."""


class StoreError(NewsvaultError):
    """The object store refused or could not be reached; the local spool is kept."""


class StoreUnreachableError(StoreError):
    """No S3 server answers at the configured endpoint."""


class StoreAuthError(StoreError):
    """The S3 server answered but rejected the credentials."""


class StoreVerifyError(StoreError):
    """An uploaded object does not match the local file (size or SHA-256)."""


class StoreNotFoundError(StoreError):
    """The object (or its bucket) does not exist."""


class StoreNoBucketError(StoreNotFoundError):
    """The bucket does not exist."""


class StorePreconditionError(StoreError):
    """A conditional write lost: the object appeared or changed since it was read."""


class CrawlError(NewsvaultError):
    """The crawl subprocess failed; what it fetched stays in the spool."""


class ExtractionError(NewsvaultError):
    """A page could not be turned into an article (not HTML, no content found)."""


class HealthCheckError(NewsvaultError):
    """A run finished but crossed a health threshold of its site profile (see
    flows.orchestrate.health)."""


class RunStoppedError(NewsvaultError):
    """A run was asked to stop (SIGTERM: ``newsvault down``, a shutdown); what it fetched stays
    in the spool for the next run."""

    exit_code = 143  # 128 + SIGTERM, as a shell reports a process ended by it


class DiskFullError(NewsvaultError):
    """A disk the run writes to (its spool, the stack's home) is full; nothing already fetched
    or archived is lost, the next run after freeing space recovers it."""
