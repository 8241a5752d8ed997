"""Temporaries in a pool: found, counted, and removed when no live operation holds them.

What an agent writes on the way lives beside its result and ends in ``.part``: a copy
(``<image>.qcow2.part``, on either side of a cross-host clone), a pulled image, a
restore's ``.raw.part`` scratch and ``.part`` image, a backup's ``.<uuid>.raw.part``.
A chunk store (a pool holding ``chunks/`` and ``manifests/``) keeps its own in
``tmp/`` and its backups' pins in ``pins/`` (``drivers.chunkstore.LocalChunkStore.sweep``).
Whatever a live operation writes is held in ``drivers.scratch``; the rest is left over.

A clone's export (``volume-<uuid>.export.qcow2``) outlives the operation that wrote it:
another host's agent pulls it, then the clone job deletes it. When that delete could not
reach this agent (it was down as the job failed), nothing else would: an export nobody
has written or fetched for ``export_grace`` seconds is removed too. Serving an export
refreshes its mtime (``drivers.agent.app``), and a pull under way keeps reading a file
removed meanwhile.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

from drivers import scratch
from drivers.chunkstore import LocalChunkStore, SweepResult
from volplane import layout

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


def stale_exports(root: Path, grace: float, now: float) -> list[Path]:
    """Complete exports in the pool nobody wrote or fetched for ``grace`` seconds."""
    found = []
    for entry in os.scandir(root):
        role = layout.recognize(entry.name)
        if role is None or role.role != "export" or role.partial:
            continue
        with contextlib.suppress(FileNotFoundError):
            if now - entry.stat().st_mtime > grace:
                found.append(Path(entry.path))
    return found


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


def sweep_pool(root: Path, *, export_grace: float) -> SweepResult:
    """Removes the pool's temporaries that no live operation holds, and exports left
    alone for ``export_grace`` seconds."""
    removed: list[Path] = []
    freed = 0

    def unlink(path: Path) -> None:
        nonlocal freed
        size = _allocated(path)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(path)
            freed += size

    for path in [*temporaries(root), *stale_exports(root, export_grace, time.time())]:
        scratch.remove_unheld(path, unlink)
    if is_chunk_store(root):
        found = LocalChunkStore(root).sweep()
        removed += found.removed
        freed += found.freed_bytes
    return SweepResult(removed, freed)
