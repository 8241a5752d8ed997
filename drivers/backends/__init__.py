"""Storage backends of the agent, one per file: how each pool type is reached.

``directory``: local directories and mounts; ``nfs``: NFS exports through libnfs and
qemu's ``nfs://`` driver; ``samba``: SMB shares mounted with smbnetfs (FUSE).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from drivers.backends.base import PoolBackend
from drivers.backends.directory import DirectoryBackend
from drivers.backends.nfs import NfsBackend
from drivers.backends.smb import SmbBackend
from volplane.errors import InvalidStoragePath

__all__ = ["DirectoryBackend", "NfsBackend", "PoolBackend", "SmbBackend", "from_spec"]


def from_spec(spec: dict[str, Any] | str) -> PoolBackend:
    """A backend from what ``spec()`` saved (a bare string: a directory, older agents)."""
    if isinstance(spec, str):
        return DirectoryBackend(Path(spec))
    kind = spec.get("kind")
    if kind == DirectoryBackend.kind:
        return DirectoryBackend(Path(spec["root"]))
    if kind == NfsBackend.kind:
        return NfsBackend(spec["server"], spec["export"])
    if kind == SmbBackend.kind:
        return SmbBackend(
            spec["server"],
            spec["share"],
            Path(spec["mountDir"]),
            spec["username"],
            spec["password"],
        )
    raise InvalidStoragePath(f"unknown pool backend {kind!r}")
