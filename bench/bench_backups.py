"""Chunked backups (issue 5): throughput against ``qemu-img convert -c``, sparse volumes,
and incremental backups, on real qcow2 files and a real chunk store (no stack needed:
the agent runs exactly ``drivers.backup_io`` for ``backup.create``)."""

from __future__ import annotations

import os
import random
import subprocess
import time
from pathlib import Path

from bench.results import Result
from drivers import backup_io, qcow2
from drivers.chunkstore import LocalChunkStore

MiB = 1 << 20
GiB = 1 << 30
VIRTUAL = 4 * GiB


def _guest_data(path: Path, written: int, *, seed: int) -> None:
    """A 4 GiB qcow2 with ``written`` bytes spread over it in 16 MiB runs: half random
    (incompressible), half text-like (compressible), as a filesystem's data would be."""
    qcow2.create(path, size=VIRTUAL)
    rng = random.Random(seed)
    run = 16 * MiB
    runs = written // run
    stride = VIRTUAL // runs
    words = b"volplane backup chunk store benchmark data "
    raw = path.with_suffix(".raw")
    with raw.open("wb") as f:
        f.truncate(VIRTUAL)
        for index in range(runs):
            f.seek(index * stride)
            if index % 2:
                f.write(rng.randbytes(run))
            else:
                f.write((words * (run // len(words) + 1))[:run])
    path.unlink()
    subprocess.run(
        ["qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(raw), str(path)], check=True
    )
    raw.unlink()


def _drop_output(path: Path) -> None:
    if path.is_dir():
        subprocess.run(["rm", "-rf", str(path)], check=True)
    else:
        path.unlink(missing_ok=True)


def _timed_backup(src: Path, store: Path, uuid: str, base: str | None = None) -> float:
    started = time.perf_counter()
    backup_io.backup_image(src, LocalChunkStore(store), backup_uuid=uuid, base_uuid=base)
    return time.perf_counter() - started


def run(workdir: Path) -> list[Result]:
    results = []
    cores = os.cpu_count() or 1

    # 1. Full backup of 1 GiB written in 4 GiB, against qemu-img convert -c of the same image.
    src = workdir / "one-gib.qcow2"
    _guest_data(src, GiB, seed=1)
    started = time.perf_counter()
    qcow2.convert(src, workdir / "convert-c.qcow2", compress=True)
    convert_seconds = time.perf_counter() - started
    _drop_output(workdir / "convert-c.qcow2")
    full_seconds = _timed_backup(src, workdir / "store", "full")
    ours, theirs = GiB / MiB / full_seconds, GiB / MiB / convert_seconds
    ratio = ours / theirs
    results.append(
        Result(
            "backup: full, 4 GiB volume with 1 GiB written",
            ours,
            "MiB/s",
            theirs,
            "qemu-img convert -O qcow2 -c",
            ratio,
            "ratio ≥ 1.5",
            ratio >= 1.5,
            note=f"{full_seconds:.2f} s against {convert_seconds:.2f} s for the convert; half "
            f"the data random, half compressible; sha256 + zstd level 3 on {cores} cores, "
            "4 MiB chunks, each fsynced, into an empty store.",
        )
    )

    # 2. The same 4 GiB virtual size with only 64 MiB written: time follows the data.
    small = workdir / "sixty-four.qcow2"
    _guest_data(small, 64 * MiB, seed=2)
    small_seconds = _timed_backup(small, workdir / "store-small", "small")
    expected = full_seconds * 64 / 1024
    results.append(
        Result(
            "backup: full, 4 GiB volume with 64 MiB written",
            small_seconds,
            "s",
            full_seconds,
            "same with 1 GiB written",
            small_seconds / full_seconds,
            "ratio ≈ 1/16 (data, not size)",
            small_seconds / full_seconds <= 3 * 64 / 1024,
            note=f"{small_seconds:.3f} s; proportional to data would be {expected:.3f} s. "
            "Holes are never read: only qemu-img map's allocated extents are.",
        )
    )

    # 3. Incremental after a 1% change (40 MiB in 4 GiB), against the full backup.
    snap = workdir / "snap-1.qcow2"
    os.replace(src, snap)
    qcow2.create_overlay(src, snap)  # a snapshot: the backed-up image is frozen under it
    rng = random.Random(3)
    for _ in range(10):
        offset = rng.randrange(0, VIRTUAL // MiB - 4) * MiB
        qcow2.write_pattern(src, offset=offset, length=4 * MiB, pattern=rng.randrange(1, 255))
    base = workdir / "snap-2.qcow2"
    os.replace(src, base)
    inc_seconds = _timed_backup(base, workdir / "store", "inc", base="full")
    ratio = inc_seconds / full_seconds
    results.append(
        Result(
            "backup: incremental after 1% change",
            inc_seconds,
            "s",
            full_seconds,
            "the full backup",
            ratio,
            "ratio ≤ 0.1",
            ratio <= 0.1,
            note="40 MiB changed in 10 places of a 4 GiB volume (1 GiB written), backed up "
            "from a snapshot whose chain holds the full backup's image unchanged: only the "
            "layers above it are read.",
        )
    )
    return results
