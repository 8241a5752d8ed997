"""The directory pool driver (``local-storage`` and ``smp``): a pool is a directory.

Paths are checked after resolving symlinks, so neither ``..`` nor a symlink planted
in a pool can reach outside it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from schemas.agent import PoolCapacity, PoolFile
from volplane.errors import InvalidStoragePath


def _resolve(path: str | Path) -> Path:
    candidate = Path(path)
    if not candidate.is_absolute():
        raise InvalidStoragePath(f"{path!s} is not an absolute path")
    return Path(os.path.realpath(candidate))


def is_within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def connect(root: str | Path, *, create: bool = False, allowed_roots: Iterable[Path] = ()) -> Path:
    """Checks (and optionally creates) a pool root; returns it resolved.

    ``allowed_roots`` empty means any absolute directory may become a pool.
    """
    resolved = _resolve(root)
    allowed = [Path(os.path.realpath(a)) for a in allowed_roots]
    if allowed and not any(is_within(resolved, a) for a in allowed):
        raise InvalidStoragePath(f"{root} is outside the roots this agent may use")
    if not resolved.exists():
        if not create:
            raise InvalidStoragePath(f"{root} does not exist")
        resolved.mkdir(parents=True, exist_ok=True)
    if not resolved.is_dir():
        raise InvalidStoragePath(f"{root} is not a directory")
    return resolved


def resolve_inside(path: str | Path, roots: Iterable[Path]) -> Path:
    """The resolved path, if it lies strictly inside one of ``roots``."""
    resolved = _resolve(path)
    for root in roots:
        if resolved != root and is_within(resolved, root):
            return resolved
    raise InvalidStoragePath(f"{path} is not inside a connected pool")


def capacity(root: Path) -> PoolCapacity:
    stat = os.statvfs(root)
    return PoolCapacity(
        root=str(root),
        total_bytes=stat.f_blocks * stat.f_frsize,
        available_bytes=stat.f_bavail * stat.f_frsize,
    )


def list_files(root: Path) -> list[PoolFile]:
    """Regular files under the pool, by path relative to its root."""
    found = []
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            full = Path(dirpath, name)
            if full.is_file() and not full.is_symlink():
                found.append(PoolFile(name=str(full.relative_to(root)), size=full.stat().st_size))
    return sorted(found, key=lambda f: f.name)
