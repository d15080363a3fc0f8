"""Replay: a verified local mirror of a site's archive, served by pywb or packed as WACZ."""

from flows.replay.mirror import Mirror, mirror_site
from flows.replay.pywb import running_pywb, serve_forever, write_config
from flows.replay.wacz import export_wacz

__all__ = ["Mirror", "export_wacz", "mirror_site", "running_pywb", "serve_forever", "write_config"]
