"""The agent's one frozen configuration, built once at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, kw_only=True)
class AgentConfig:
    """Where the agent listens, where it keeps its state, and the token it demands.

    ``allowed_roots`` empty lets any absolute directory become a pool.
    """

    data_dir: Path
    token: str = field(repr=False)
    host: str = "127.0.0.1"
    port: int = 7070
    allowed_roots: tuple[Path, ...] = ()
    max_wait_seconds: float = 60.0
    # The release it runs when deployed over SSH (drivers/release.py), else None.
    release: str | None = None
    # How often leftovers of dead operations are looked for (also once at start).
    sweep_seconds: float = 60.0
    # A clone's export nobody wrote or fetched for this long is removed by the sweep.
    export_grace_seconds: float = 600.0
    # How long a finished operation is remembered (and journaled) for a rerun to find.
    operation_retention_seconds: float = 86400.0

    def __post_init__(self) -> None:
        if not self.token:
            raise ValueError("the agent needs a non-empty token")


def parse_listen(value: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:7070`` for IPv6) to its parts."""
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"expected HOST:PORT, got {value!r}")
    return host.strip("[]"), int(port)
