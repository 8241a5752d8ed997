"""Temporaries in a pool: found, counted, and removed when no live operation holds them.

What an agent writes on the way lives beside its result and ends in ``.part``: a copy
(``<image>.qcow2.part``, on either side of a cross-host clone), a pulled image, a
restore's ``.raw.part`` scratch and ``.part`` image, a backup's ``.<uuid>.raw.part``.
A chunk store (a pool holding ``chunks/`` and ``manifests/``) keeps its own in
``tmp/`` and its backups' pins in ``pins/`` (``drivers.chunkstore.LocalChunkStore.sweep``).
Whatever a live operation writes is held in ``drivers.scratch``; the rest is left over.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from drivers import scratch
from drivers.chunkstore import LocalChunkStore, SweepResult

PART_SUFFIX = ".part"
_STORE_DIRS = ("chunks", "manifests", "pins", "tmp")


def is_chunk_store(root: Path) -> bool:
    return (root / "chunks").is_dir() and (root / "manifests").is_dir()


def temporaries(root: Path) -> Iterator[Path]:
    """Every ``.part`` file under the pool, held or not (a chunk store's folders aside)."""
    store = is_chunk_store(root)
    for dirpath, dirnames, filenames in os.walk(root):
        if store and Path(dirpath) == root:
            dirnames[:] = [d for d in dirnames if d not in _STORE_DIRS]
        for name in filenames:
            if name.endswith(PART_SUFFIX):
                yield Path(dirpath, name)


def _allocated(path: Path) -> int:
    try:
        return path.lstat().st_blocks * 512
    except FileNotFoundError:
        return 0


def scratch_bytes(root: Path) -> int:
    """Bytes on disk taken by temporaries: being written now, or left over."""
    total = sum(_allocated(path) for path in temporaries(root))
    if is_chunk_store(root):
        total += LocalChunkStore(root).scratch_bytes()
    return total


def sweep_pool(root: Path) -> SweepResult:
    """Removes the pool's temporaries that no live operation holds."""
    removed: list[Path] = []
    freed = 0

    def unlink(path: Path) -> None:
        nonlocal freed
        size = _allocated(path)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(path)
            freed += size

    for path in list(temporaries(root)):
        scratch.remove_unheld(path, unlink)
    if is_chunk_store(root):
        found = LocalChunkStore(root).sweep()
        removed += found.removed
        freed += found.freed_bytes
    return SweepResult(removed, freed)
