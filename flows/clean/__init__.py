"""Clean: one archived page in, article text and metadata out (the facade is
``clean_html``; the parts are normalize, dom, metadata, jsonld, tagdiv, generic, byline,
language and urls). Pure functions of the page bytes and the profile, so a replay reproduces
them; ``template`` learns what a site's pages share (its boilerplate) from the pages themselves."""

from flows.clean.cleaner import (
    CLEANER_VERSION,
    STATUS_OK,
    CleanedArticle,
    CleanError,
    CleanStatus,
    clean_html,
)
from flows.clean.normalize import decode_html
from flows.clean.template import SiteTemplate, TemplateStats
from flows.clean.urls import canonical_url, prefer_rel_canonical

__all__ = [
    "CLEANER_VERSION",
    "STATUS_OK",
    "CleanError",
    "CleanStatus",
    "CleanedArticle",
    "SiteTemplate",
    "TemplateStats",
    "canonical_url",
    "clean_html",
    "decode_html",
    "prefer_rel_canonical",
]
