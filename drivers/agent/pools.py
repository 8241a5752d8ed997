"""The pool roots an agent serves; every path a command names must lie inside one.

Kept in ``<data_dir>/pools.json`` so a restarted agent still serves its pools.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable
from pathlib import Path

from drivers import local_dir
from volplane.errors import InvalidStoragePath


class ConnectedPools:
    def __init__(self, state_file: Path, *, allowed_roots: Iterable[Path] = ()) -> None:
        self._state_file = state_file
        self._allowed = tuple(allowed_roots)
        self._lock = threading.Lock()
        self._roots: set[Path] = set()
        if state_file.exists():
            self._roots = {Path(p) for p in json.loads(state_file.read_text())}

    @property
    def data_dir(self) -> Path:
        return self._state_file.parent

    def adopt(self, root: Path) -> Path:
        """Serves a directory the agent made itself (a mount under its data dir)."""
        resolved = Path(os.path.realpath(root))
        with self._lock:
            self._roots.add(resolved)
            self._save()
        return resolved

    def roots(self) -> tuple[Path, ...]:
        with self._lock:
            return tuple(sorted(self._roots))

    def connect(self, root: str, *, create: bool = False) -> Path:
        resolved = local_dir.connect(root, create=create, allowed_roots=self._allowed)
        with self._lock:
            self._roots.add(resolved)
            self._save()
        return resolved

    def disconnect(self, root: str) -> bool:
        """True if the root was connected."""
        resolved = Path(os.path.realpath(root))
        with self._lock:
            if resolved not in self._roots:
                return False
            self._roots.discard(resolved)
            self._save()
        return True

    def connected_root(self, root: str) -> Path:
        resolved = Path(os.path.realpath(root))
        if resolved not in self.roots():
            raise InvalidStoragePath(f"{root} is not a connected pool")
        return resolved

    def resolve(self, path: str) -> Path:
        return local_dir.resolve_inside(path, self.roots())

    def _save(self) -> None:
        tmp = self._state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(sorted(str(r) for r in self._roots)))
        os.replace(tmp, self._state_file)
