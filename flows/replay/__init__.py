"""Replay: a verified local mirror of a site's archive, served by pywb or packed as WACZ."""

from flows.replay.mirror import Mirror, mirror_site
from flows.replay.pywb import serve_forever, write_config
from flows.replay.wacz import export_wacz

__all__ = ["Mirror", "export_wacz", "mirror_site", "serve_forever", "write_config"]
