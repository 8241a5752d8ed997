"""The pools an agent serves; every name a command gives must lie inside one of them.

Each pool is a backend (``drivers.backends``) under its root: a directory, or a URL
such as ``nfs://server/export``. Kept in ``<data_dir>/pools.json`` so a restarted agent
still serves its pools.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from drivers import local_dir
from drivers.backends import DirectoryBackend, PoolBackend, SmbBackend, from_spec
from volplane.errors import InvalidStoragePath, VolplaneError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Located:
    """A name inside a connected pool, and the backend that handles it."""

    backend: PoolBackend
    path: str

    @property
    def local(self) -> Path | None:
        return self.backend.local_path(self.path)


class ConnectedPools:
    def __init__(self, state_file: Path, *, allowed_roots: Iterable[Path] = ()) -> None:
        self._state_file = state_file
        self._allowed = tuple(allowed_roots)
        self._lock = threading.Lock()
        self._pools: dict[str, PoolBackend] = {}
        if state_file.exists():
            for spec in json.loads(state_file.read_text()):
                backend = from_spec(spec)
                self._pools[backend.root] = backend

    @property
    def data_dir(self) -> Path:
        return self._state_file.parent

    def adopt(self, root: Path) -> Path:
        """Serves a directory the agent made itself (a mount under its data dir)."""
        backend = DirectoryBackend(root)
        self.add(backend)
        return backend.path

    def add(self, backend: PoolBackend) -> PoolBackend:
        with self._lock:
            self._pools[backend.root] = backend
            self._save()
        return backend

    def roots(self) -> tuple[Path, ...]:
        """The directory pools' roots."""
        with self._lock:
            return tuple(
                sorted(b.path for b in self._pools.values() if isinstance(b, DirectoryBackend))
            )

    def connect(self, root: str, *, create: bool = False) -> Path:
        resolved = local_dir.connect(root, create=create, allowed_roots=self._allowed)
        self.add(DirectoryBackend(resolved))
        return resolved

    def disconnect(self, root: str) -> bool:
        """True if the root was connected."""
        key = self._key(root)
        with self._lock:
            if key not in self._pools:
                return False
            del self._pools[key]
            self._save()
        return True

    def backend(self, root: str) -> PoolBackend:
        with self._lock:
            found = self._pools.get(self._key(root))
        if found is None:
            raise InvalidStoragePath(f"{root} is not a connected pool")
        return found

    def connected_root(self, root: str) -> Path:
        """A connected directory pool's root."""
        found = self.backend(root)
        if not isinstance(found, DirectoryBackend):
            raise InvalidStoragePath(f"{root} is not a directory pool")
        return found.path

    def locate(self, path: str) -> Located:
        """The pool holding ``path`` (strictly inside its root)."""
        with self._lock:
            backends = list(self._pools.values())
        for backend in backends:
            if isinstance(backend, DirectoryBackend):
                continue
            if path.startswith(backend.root + "/"):
                return Located(backend, backend.resolve(path))
        resolved = local_dir.resolve_inside(path, self.roots())
        for backend in backends:
            if isinstance(backend, DirectoryBackend) and local_dir.is_within(
                resolved, backend.path
            ):
                return Located(backend, str(resolved))
        raise InvalidStoragePath(f"{path} is not inside a connected pool")

    def mount_all(self) -> None:
        """Mounts the shares of the pools kept from an earlier run (failures are left for
        the control plane's reconnect to report)."""
        for backend in self._mountable():
            try:
                backend.mount()
            except VolplaneError:
                log.warning("could not mount %s again", backend.root, exc_info=True)

    def unmount_all(self) -> None:
        for backend in self._mountable():
            backend.unmount()

    def _mountable(self) -> list[SmbBackend]:
        with self._lock:
            return [b for b in self._pools.values() if isinstance(b, SmbBackend)]

    def resolve(self, path: str) -> Path:
        """A local file inside a directory pool."""
        return local_dir.resolve_inside(path, self.roots())

    @staticmethod
    def _key(root: str) -> str:
        return root if "://" in root else os.path.realpath(root)

    def _save(self) -> None:
        tmp = self._state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps([b.spec() for b in self._pools.values()]))
        os.replace(tmp, self._state_file)
