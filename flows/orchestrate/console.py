"""Our one-line errors stay one line on the console.

Prefect's engine logs a failed flow or task with its traceback ("Encountered exception during
execution"), so a run that ends on one of our errors (a site unreachable, S3 gone, a full disk)
printed dozens of lines above the one that says what to do. On the console the record keeps its
message (which carries our line) and loses the traceback; the Prefect API handler, and so the
UI, still get it whole. Anything that is not a ``NewsvaultError`` is a bug and keeps its
traceback everywhere.
"""

from __future__ import annotations

import logging

from flows.errors import NewsvaultError


class OneLineErrors(logging.Formatter):
    """Wraps a console handler's formatter: no traceback for a ``NewsvaultError``."""

    def __init__(self, inner: logging.Formatter | None) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        if not (record.exc_info and isinstance(record.exc_info[1], NewsvaultError)):
            return self.inner.format(record)
        saved = record.exc_info, record.exc_text
        record.exc_info, record.exc_text = None, None  # restored for the other handlers
        try:
            return self.inner.format(record)
        finally:
            record.exc_info, record.exc_text = saved


def one_line_errors_on_console() -> None:
    """Install ``OneLineErrors`` on the root logger's console handlers (Prefect's) once."""
    import prefect.logging.configuration  # noqa: F401 (its console handler is set up on import)

    for handler in logging.getLogger().handlers:
        console = isinstance(handler, logging.StreamHandler) and not isinstance(
            handler, logging.FileHandler
        )
        if console and not isinstance(handler.formatter, OneLineErrors):
            handler.setFormatter(OneLineErrors(handler.formatter))
