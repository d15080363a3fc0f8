"""The ``newsvault`` command line: parse, call one function, print one line on error."""

from flows.cli.main import main

__all__ = ["main"]
