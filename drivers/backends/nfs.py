"""NFS pools, reached in userspace: qemu's ``nfs://`` driver opens the images, libnfs
does the file operations (``drivers.libnfs``). Nothing is mounted on the host.

A pool ``server:/export`` has the root ``nfs://server/export``; every image name in
it, backing file names included, is an absolute ``nfs://`` URL (qemu 7.2 resolves a
relative backing name under the overlay's own name, so relative names would break).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from drivers import libnfs
from drivers.libnfs import NfsClient
from drivers.qemu_support import qemu_protocols
from schemas.agent import PoolCapacity, PoolFile
from volplane.errors import InvalidStoragePath

SCHEME = "nfs://"
_SOURCE = re.compile(
    r"^(?P<server>[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\]):(?P<export>/[A-Za-z0-9._/\-]*)$"
)
_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._\-]*$")


def unsupported_reason() -> str | None:
    """Why this host cannot run NFS pools (libnfs and qemu's nfs driver), or None."""
    problems = [why for why in (libnfs.unavailable_reason(),) if why]
    if "nfs" not in qemu_protocols():
        problems.append("qemu-img has no nfs driver (install qemu-block-extra)")
    return "; ".join(problems) or None


def parse_source(source: str) -> tuple[str, str]:
    """``server:/export`` (ZStack's NFS url) as (server, export)."""
    found = _SOURCE.match(source.strip())
    if found is None or any(s in (".", "..") for s in found["export"].split("/")):
        raise InvalidStoragePath(f"{source!r} is not an NFS source like server:/export")
    export = "/" + found["export"].strip("/")
    return found["server"], export


def url_of(server: str, export: str) -> str:
    return f"{SCHEME}{server}{export.rstrip('/')}"


class NfsBackend:
    kind = "nfs"
    builds_in_place = False

    def __init__(self, server: str, export: str) -> None:
        self.server = server
        self.export = export
        self.root = url_of(server, export)
        self.client = NfsClient(server.strip("[]"), export)

    @classmethod
    def from_source(cls, source: str, options: Sequence[str] = ()) -> NfsBackend:
        """A pool ``server:/export``. The server is found through its portmapper, as
        NFSv3 clients do; the only option understood is the standard ``port=2049``."""
        unknown = [o for o in options if o not in ("port=2049",)]
        if unknown:
            raise InvalidStoragePath(
                f"NFS pools take no mount options (the server's portmapper names its "
                f"ports); got {unknown}"
            )
        return cls(*parse_source(source))

    def spec(self) -> dict[str, Any]:
        return {"kind": self.kind, "server": self.server, "export": self.export}

    def connect(self) -> PoolCapacity:
        """Checks the export answers (a MOUNT and a statvfs) and reads its capacity."""
        return self.capacity()

    def resolve(self, path: str) -> str:
        prefix = self.root + "/"
        inside = path[len(prefix) :] if path.startswith(prefix) else None
        if not inside or not all(_SEGMENT.match(s) for s in inside.split("/")):
            raise InvalidStoragePath(f"{path} is not inside the NFS pool {self.root}")
        return path

    def _in_export(self, path: str) -> str:
        return "/" + self.resolve(path)[len(self.root) + 1 :]

    def exists(self, path: str) -> bool:
        return self.client.stat(self._in_export(path)) is not None

    def is_file(self, path: str) -> bool:
        found = self.client.stat(self._in_export(path))
        return found is not None and (found.st_mode & 0o170000) == 0o100000

    def remove(self, path: str) -> bool:
        return self.client.unlink(self._in_export(path))

    def rename(self, src: str, dst: str) -> None:
        self.client.rename(self._in_export(src), self._in_export(dst))

    def finish(self, part: str, dst: str) -> None:
        # qemu flushes (NFS COMMIT) when it closes an image, and an NFS server makes a
        # RENAME stable before it answers: the rename is all that is left.
        self.rename(part, dst)

    def writing_behind(self, path: str) -> AbstractContextManager[object]:
        return nullcontext()

    def capacity(self) -> PoolCapacity:
        total, available = self.client.statvfs()
        return PoolCapacity(root=self.root, total_bytes=total, available_bytes=available)

    def files(self) -> list[PoolFile]:
        return [
            PoolFile(name=name, size=entry.size)
            for name, entry in self.client.walk("/")
            if entry.is_file
        ]

    def local_path(self, path: str) -> Path | None:
        return None
