"""The site template a run cleans with: the state's statistics plus the run's own article pages.

Learned before cleaning, from every article page the run archived (so a site's first run already
cleans with what its pages share), and only for sites the profile gives no content container
(``[extract] content_selector`` or ``theme``): there the profile already says where the article
is, and the template would change nothing but the cost. The statistics after the run are
archived with it (``template.json.gz``) and folded into the site state (``flows.state.fold``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

from flows.clean import TemplateStats
from flows.derive.process import MAX_PAYLOAD, is_article_capture, iter_captures, page_charset
from flows.errors import ExtractionError
from flows.sites import SiteProfile

__all__ = ["learn_template", "learns_template"]

log = logging.getLogger(__name__)


def learns_template(profile: SiteProfile) -> bool:
    return not profile.extract.content_selector and not profile.extract.theme


def learn_template(
    warcs: list[Path], profile: SiteProfile, previous: TemplateStats | None
) -> TemplateStats | None:
    """``previous`` (the site state's) with the run's article pages added; ``None`` for a site
    whose profile names its content container."""
    if not learns_template(profile):
        return None
    return (previous or TemplateStats()).add(_pages(warcs, profile))


def _pages(warcs: list[Path], profile: SiteProfile) -> Iterator[tuple[bytes, str | None]]:
    """The run's article pages that cleaning will read (an unreadable file or a page too large
    to clean is cleaning's failure to report, not learning's)."""
    limit = min(MAX_PAYLOAD, profile.extract.max_page_bytes)
    for path in warcs:
        try:
            for capture in iter_captures(path):
                if is_article_capture(capture, profile) and not capture.too_large:
                    if len(capture.body) <= limit:
                        yield capture.body, page_charset(capture.content_type)
        except ExtractionError as exc:
            log.warning("site template: %s is read only in part (%s)", path.name, exc)
