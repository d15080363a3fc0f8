"""Events: the contract of ``events.jsonl.gz`` (``Event``, published as
flows/derive/schema/events.schema.json; tests/test_contracts.py checks that the two agree).

A run's events say what happened to archived articles that is not a new record: a URL found to
be an alias of an archived article (``flows.derive.versions``), an article deleted
(``flows.derive.deletions``) or back after a deletion (``flows.derive.run``). Each names its
evidence in the archive; the state fold (``flows.state.fold``) applies them.
"""

from __future__ import annotations

from typing import Literal, TypedDict

EventKind = Literal["alias", "deleted", "restored"]
# How an article went: an HTTP status, a redirect to the home page or a listing (a soft 404),
# or absence from sitemaps and feed that were read completely.
DeletionHow = Literal["http_404", "http_410", "redirect_home", "redirect_listing", "unlisted"]


class RecordEvidence(TypedDict):
    """The WARC response record that shows it."""

    warc_key: str
    warc_record_id: str
    http_status: int


class ResponseEvidence(RecordEvidence):
    """A 404/410 or redirect response, with its ``Location`` (None for 404/410)."""

    location: str | None


class ListingEvidence(TypedDict):
    """The sitemaps, read completely, that no longer name the article."""

    sitemaps: list[str]


class AliasEvent(TypedDict):
    """``url`` (cleaned under ``alias_id``) has the text of the archived ``article_id``."""

    kind: Literal["alias"]
    article_id: str
    alias_id: str
    url: str
    time: str
    evidence: RecordEvidence


class DeletedEvent(TypedDict):
    kind: Literal["deleted"]
    how: DeletionHow
    article_id: str
    url: str
    time: str
    run_id: str
    evidence: ResponseEvidence | ListingEvidence


class RestoredEvent(TypedDict):
    """A deleted article answered with its page again."""

    kind: Literal["restored"]
    article_id: str
    url: str
    time: str
    run_id: str
    evidence: RecordEvidence


Event = AliasEvent | DeletedEvent | RestoredEvent
