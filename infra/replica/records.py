"""The replica's ground truth as records: articles (with their comments and page layout), the
cheap teasers listings need, and the events of a day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from infra.replica.text import slugify


@dataclass(frozen=True, slots=True)
class Comment:
    comment_id: int
    author: str
    date: datetime
    text: str


@dataclass(frozen=True, slots=True)
class Layout:
    """Presentation choices of one page (not ground truth): where the noise goes."""

    style_top: bool  # a pasted <style> block before the byline
    styles_bottom: int  # pasted <style> blocks after the last paragraph
    ad_after: int  # the inline ad follows this many body paragraphs
    byline_br: bool  # byline lines in one <p> joined by <br>
    kinds: tuple[str, ...]  # per paragraph: "p", "h2" or "blockquote"
    nbsp: frozenset[int]  # paragraphs whose <p> ends with a pasted "&nbsp;"
    wordads_id: str


@dataclass(frozen=True, slots=True)
class Teaser:
    """What listings, sidebars and sitemaps need: cheap to compute for any article."""

    post_id: int
    path: str
    title: str
    published: datetime
    modified: datetime
    categories: tuple[str, ...]
    author: str
    excerpt: str
    featured_image: str


@dataclass(frozen=True, slots=True)
class Article:
    """One article and its ground truth: ``paragraphs`` is exactly what a cleaner must output."""

    post_id: int
    slug: str
    path: str
    title: str
    published: datetime
    modified: datetime
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    author: str
    byline_kind: str
    byline_paragraphs: tuple[str, ...]
    original_source: str | None
    translator: str | None
    paragraphs: tuple[str, ...]
    featured_image: str
    excerpt: str
    comments: tuple[Comment, ...]
    views: int
    layout: Layout
    day_published: int = 0
    version: int = 1  # 1 as published; each edit adds one
    copy_of: int | None = None  # a republished copy: the post id it copies

    @property
    def category_slugs(self) -> tuple[str, ...]:
        return tuple(slugify(c) for c in self.categories)

    @property
    def tag_slugs(self) -> tuple[str, ...]:
        return tuple(slugify(t) for t in self.tags)


@dataclass(frozen=True, slots=True)
class Event:
    """Ground truth of one change on one day (``Site.events``).

    ``post_id``/``path`` name the article the event is about; for ``new`` and ``republish_copy``
    the new post, and then ``of_post_id``/``of_path`` name the copied article. ``version`` is the
    article's version after the event (unchanged by ``boilerplate`` and deletions). ``status`` is
    what the article URL answers after the event (200, or 404/410/301 for deletions) and
    ``location`` the redirect target path (``/`` for ``delete_redirect``).
    """

    day: int
    kind: str  # one of days.EVENT_KINDS
    post_id: int
    path: str
    when: datetime
    version: int
    status: int = 200
    location: str | None = None
    of_post_id: int | None = None
    of_path: str | None = None
