"""newsvault: the pipeline after the crawl (see docs/ARCHITECTURE.md for the map).

``__version__`` is the installed distribution's version: pyproject.toml is its one source, and the
user agent, warcinfo records and WACZ metadata all name it from here or from the same metadata.
"""

from importlib.metadata import version

__version__ = version("newsvault")
