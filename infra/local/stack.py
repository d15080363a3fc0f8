"""Where the local stack lives and what it reports: ``LocalStack``, ``Ports``, ``ServiceState``.

Pure configuration and result types (no processes, no I/O beyond reading the environment), so
every service module (``seaweed``, ``prefect_server``, ``replica_service``) and the facade
``infra.local.control`` can import it without cycles.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from flows.errors import ConfigError
from infra.local.processes import HOST

DEFAULT_HOME_DIRNAME = ".newsvault"
DEFAULT_S3_PORT = 8333
DEFAULT_PREFECT_PORT = 4200
DEFAULT_BUCKET = "newsvault"

ENV_HOME = "NEWSVAULT_HOME"
ENV_S3_PORT = "NEWSVAULT_S3_PORT"
ENV_PREFECT_PORT = "NEWSVAULT_PREFECT_PORT"
ENV_BUCKET = "NEWSVAULT_S3_BUCKET"

ServiceName = Literal["s3", "prefect", "replica", "tsa", "run", "serve"]

_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_UNIX_SOCKET_MAX = 107  # sun_path is 108 bytes including the terminating NUL
_PID_FILE_NAMES: dict[ServiceName, str] = {
    "s3": "seaweedfs.pid",
    "prefect": "prefect.pid",
    "replica": "replica.pid",
    "tsa": "tsa.pid",
}


# --------------------------------------------------------------------------------------------
# configuration


@dataclass(frozen=True)
class Ports:
    """Every TCP port ``weed mini`` listens on (all bound to 127.0.0.1). The defaults lie
    below Linux's ephemeral range (32768-60999), where a client connection of other local
    traffic may hold one at any moment (``admin_grpc`` is not ``admin`` + 10000 for that)."""

    s3: int = DEFAULT_S3_PORT
    s3_grpc: int = 18333
    master: int = 9333
    master_grpc: int = 19333
    volume: int = 9340
    volume_grpc: int = 19340
    filer: int = 8888
    filer_grpc: int = 18888
    admin: int = 23646
    admin_grpc: int = 13646

    def __post_init__(self) -> None:
        values = self.as_dict()
        for name, port in values.items():
            if not 1024 <= port <= 65535:
                raise ConfigError(
                    f"SeaweedFS {name} port {port} is outside 1024-65535; "
                    f"choose another {ENV_S3_PORT} (the other SeaweedFS ports move with it)"
                )
        if len(set(values.values())) != len(values):
            raise ConfigError(f"SeaweedFS ports must all differ, got {values}")

    @classmethod
    def shifted(cls, offset: int) -> Ports:
        """The default ports, each moved by ``offset``."""
        base = cls()
        return cls(**{name: port + offset for name, port in base.as_dict().items()})

    @classmethod
    def for_s3_port(cls, s3_port: int) -> Ports:
        """All ports shifted so that S3 lands on ``s3_port`` (8333 gives the defaults)."""
        return cls.shifted(s3_port - DEFAULT_S3_PORT)

    def as_dict(self) -> dict[str, int]:
        return {
            "s3": self.s3,
            "s3_grpc": self.s3_grpc,
            "master": self.master,
            "master_grpc": self.master_grpc,
            "volume": self.volume,
            "volume_grpc": self.volume_grpc,
            "filer": self.filer,
            "filer_grpc": self.filer_grpc,
            "admin": self.admin,
            "admin_grpc": self.admin_grpc,
        }


@dataclass(frozen=True)
class LocalStack:
    """Where the local stack lives and which ports it uses. ``home`` is made absolute."""

    home: Path
    s3_port: int = DEFAULT_S3_PORT
    prefect_port: int = DEFAULT_PREFECT_PORT
    bucket: str = DEFAULT_BUCKET
    #: explicit SeaweedFS ports; by default derived from ``s3_port`` (see ``Ports.for_s3_port``)
    seaweed_ports: Ports | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "home", Path(os.path.abspath(Path(self.home).expanduser())))
        for name, port in (("S3", self.s3_port), ("Prefect", self.prefect_port)):
            if not 1 <= port <= 65535:
                raise ConfigError(f"{name} port {port} is not a port number (1-65535)")
        if self.seaweed_ports is not None and self.seaweed_ports.s3 != self.s3_port:
            raise ConfigError(
                f"seaweed_ports.s3 ({self.seaweed_ports.s3}) differs from s3_port ({self.s3_port})"
            )
        if self.prefect_port in self.ports.as_dict().values():
            raise ConfigError(f"Prefect port {self.prefect_port} clashes with a SeaweedFS port")
        if not _BUCKET_RE.match(self.bucket) or ".." in self.bucket:
            raise ConfigError(
                f"bucket name {self.bucket!r} is not a valid S3 bucket name "
                "(3-63 characters: lowercase letters, digits, '.', '-')"
            )
        for sock in (self.s3_socket, self.filer_socket):
            if len(os.fsencode(sock)) > _UNIX_SOCKET_MAX:
                raise ConfigError(
                    f"home directory {self.home} is too long for SeaweedFS's Unix sockets "
                    f"(limit {_UNIX_SOCKET_MAX} bytes); set {ENV_HOME} to a shorter path"
                )

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, cwd: Path | None = None
    ) -> LocalStack:
        """Read ``NEWSVAULT_HOME``, ``NEWSVAULT_S3_PORT``, ``NEWSVAULT_PREFECT_PORT`` and
        ``NEWSVAULT_S3_BUCKET``; unset or empty means the default."""
        env = os.environ if environ is None else environ
        home_value = env.get(ENV_HOME, "").strip()
        home = Path(home_value) if home_value else (cwd or Path.cwd()) / DEFAULT_HOME_DIRNAME
        return cls(
            home=home,
            s3_port=_port_from_env(env, ENV_S3_PORT, DEFAULT_S3_PORT),
            prefect_port=_port_from_env(env, ENV_PREFECT_PORT, DEFAULT_PREFECT_PORT),
            bucket=env.get(ENV_BUCKET, "").strip() or DEFAULT_BUCKET,
        )

    # ---- derived locations
    @property
    def ports(self) -> Ports:
        return self.seaweed_ports or Ports.for_s3_port(self.s3_port)

    @property
    def s3_endpoint(self) -> str:
        return f"http://{HOST}:{self.s3_port}"

    @property
    def prefect_url(self) -> str:
        return f"http://{HOST}:{self.prefect_port}"

    @property
    def prefect_api_url(self) -> str:
        return f"{self.prefect_url}/api"

    @property
    def s3_config_path(self) -> Path:
        return self.home / "s3.json"

    @property
    def seaweed_config_dir(self) -> Path:
        """weed's ``-config_dir``: holds the generated ``security.toml`` (JWT keys)."""
        return self.home / "seaweedfs-config"

    @property
    def seaweed_dir(self) -> Path:
        return self.home / "seaweedfs"

    @property
    def prefect_home(self) -> Path:
        return self.home / "prefect"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def seaweed_log(self) -> Path:
        return self.logs_dir / "seaweedfs.log"

    @property
    def seaweed_glog_dir(self) -> Path:
        return self.logs_dir / "seaweedfs"

    @property
    def prefect_log(self) -> Path:
        return self.logs_dir / "prefect.log"

    @property
    def replica_log(self) -> Path:
        return self.logs_dir / "replica.log"

    @property
    def run_dir(self) -> Path:
        return self.home / "run"

    @property
    def tmp_dir(self) -> Path:
        return self.home / "tmp"

    @property
    def s3_socket(self) -> Path:
        return self.run_dir / "s3.sock"

    @property
    def filer_socket(self) -> Path:
        return self.run_dir / "filer.sock"

    def pid_file(self, service: ServiceName) -> Path:
        return self.run_dir / _PID_FILE_NAMES[service]


def _port_from_env(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        port = int(raw)
    except ValueError:
        port = -1
    if not 1 <= port <= 65535:
        raise ConfigError(f"{name} must be a port number (1-65535), got {raw!r}")
    return port


# --------------------------------------------------------------------------------------------
# results


@dataclass(frozen=True)
class ServiceState:
    """One server of the stack, as ``up``/``down``/``status`` found or left it."""

    name: ServiceName
    title: str
    url: str
    running: bool
    pid: int | None = None
    #: what this call did: "started", "already running", "stopped", "not running"
    action: str = ""
    #: extra URLs worth showing (Prefect API, SeaweedFS filer/master UIs)
    links: Mapping[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        pid = f" (pid {self.pid})" if self.pid else ""
        if self.running:
            return f"{self.title}: {self.action or 'running'} at {self.url}{pid}"
        return f"{self.title}: {self.action or 'not running'}"


@dataclass(frozen=True)
class StackReport:
    """What ``up``, ``down`` or ``status`` did or found, one entry per service."""

    home: Path
    services: tuple[ServiceState, ...]

    def lines(self) -> list[str]:
        return [s.describe() for s in self.services]

    def get(self, name: ServiceName) -> ServiceState | None:
        return next((s for s in self.services if s.name == name), None)


UpResult = StackReport
DownResult = StackReport
StatusResult = StackReport
