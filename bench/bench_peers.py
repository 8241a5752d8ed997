"""Backups against what users would run instead: restic and borg, in the same run.

One volume (4 GiB virtual, 1 GiB written: half random, half compressible), backed up in
full, again after 1 % changed in 10 places, and restored, by volplane's chunk store
(``drivers.backup_io``, exactly what the agent runs for ``backup.create``), by restic
(repository v2, compression auto) and by borg (``zstd,3``); restic and borg back up the
image file, as their users would. Each tool's wall time, CPU seconds (user + system, its
threads and children) and bytes stored are reported, and beside them the machine's limit
for a full backup: sha256 and zstd level 3 of the written data spread over every core,
plus writing and flushing what is stored, measured in the same run.
"""

from __future__ import annotations

import hashlib
import os
import random
import resource
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import zstandard

from bench.bench_backups import VIRTUAL, _guest_data
from bench.results import Result
from drivers import backup_io, qcow2
from drivers.chunkstore import LocalChunkStore

MiB = 1 << 20
GiB = 1 << 30
CHANGES = 10
CHANGE = 4 * MiB  # ten of 4 MiB: about 1 % of 4 GiB


@dataclass
class Run:
    """One timed step of one tool."""

    seconds: float
    cpu: float


@dataclass
class Tool:
    name: str
    full: Run
    incremental: Run
    restore: Run
    stored: int


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


@contextmanager
def _timed(into: list[Run]) -> Iterator[None]:
    os.sync()
    cpu, started = _cpu(), time.perf_counter()
    yield
    into.append(Run(time.perf_counter() - started, _cpu() - cpu))


def _stored(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _change(path: Path, seed: int) -> None:
    """1 % of the guest's data rewritten in place, in 10 places."""
    rng = random.Random(seed)
    for _ in range(CHANGES):
        offset = rng.randrange(0, VIRTUAL // MiB - 4) * MiB
        qcow2.write_pattern(path, offset=offset, length=CHANGE, pattern=rng.randrange(1, 255))


def _volplane(workdir: Path, image: Path) -> Tool:
    """Full from a snapshot, incremental from the next one (the chain volplane keeps)."""
    runs: list[Run] = []
    store_dir = workdir / "volplane-store"
    store = LocalChunkStore(store_dir)
    snap1 = workdir / "vp-snap-1.qcow2"
    shutil.copyfile(image, snap1)
    with _timed(runs):
        backup_io.backup_image(snap1, store, backup_uuid="full")
    top = workdir / "vp-top.qcow2"
    qcow2.create_overlay(top, snap1)
    _change(top, seed=7)
    snap2 = workdir / "vp-snap-2.qcow2"
    os.replace(top, snap2)
    with _timed(runs):
        backup_io.backup_image(snap2, store, backup_uuid="inc", base_uuid="full")
    restored = workdir / "vp-restored.qcow2"
    with _timed(runs):
        backup_io.restore_image(store, "inc", restored)
    _same(restored, snap2)
    stored = _stored(store_dir)
    for path in (snap1, snap2, restored):
        path.unlink()
    return Tool("volplane", runs[0], runs[1], runs[2], stored)


def _restic(workdir: Path, image: Path) -> Tool:
    repo = workdir / "restic-repo"
    env = {**os.environ, "RESTIC_PASSWORD": "bench", "RESTIC_REPOSITORY": str(repo)}
    run = _runner(env)
    run(["restic", "init", "--repository-version", "2"])
    return _file_tool(
        "restic",
        workdir,
        image,
        backup=lambda src: run(["restic", "backup", "--compression", "auto", str(src)]),
        restore=lambda into: run(["restic", "restore", "latest", "--target", str(into)]),
        repo=repo,
    )


def _borg(workdir: Path, image: Path) -> Tool:
    repo = workdir / "borg-repo"
    env = {
        **os.environ,
        "BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK": "yes",
        "BORG_RELOCATED_REPO_ACCESS_IS_OK": "yes",
        "BORG_BASE_DIR": str(workdir / "borg-home"),
    }
    run = _runner(env)
    run(["borg", "init", "--encryption", "none", str(repo)])
    names = iter(["full", "inc"])

    def backup(src: Path) -> None:
        run(
            ["borg", "create", "--compression", "zstd,3", f"{repo}::{next(names)}", src.name],
            cwd=src.parent,
        )

    def restore(into: Path) -> None:
        into.mkdir()
        run(["borg", "extract", f"{repo}::inc"], cwd=into)

    return _file_tool("borg", workdir, image, backup=backup, restore=restore, repo=repo)


def _runner(env: dict[str, str]) -> Callable[..., None]:
    def run(argv: list[str], cwd: Path | None = None) -> None:
        subprocess.run(argv, env=env, cwd=cwd, check=True, capture_output=True)

    return run


def _file_tool(
    name: str,
    workdir: Path,
    image: Path,
    *,
    backup: Callable[[Path], None],
    restore: Callable[[Path], None],
    repo: Path,
) -> Tool:
    """A file backup tool on a copy of the image, changed in place between the backups."""
    runs: list[Run] = []
    src_dir = workdir / f"{name}-src"
    src_dir.mkdir()
    src = src_dir / "volume.qcow2"
    shutil.copyfile(image, src)
    with _timed(runs):
        backup(src)
    _change(src, seed=7)
    with _timed(runs):
        backup(src)
    into = workdir / f"{name}-restored"
    with _timed(runs):
        restore(into)
    restored = next(p for p in into.rglob("volume.qcow2"))
    _same(restored, src)
    stored = _stored(repo)
    shutil.rmtree(src_dir)
    shutil.rmtree(into)
    return Tool(name, runs[0], runs[1], runs[2], stored)


def _same(a: Path, b: Path) -> None:
    subprocess.run([qcow2.QEMU_IMG, "compare", "-q", str(a), str(b)], check=True)


def _limit(image: Path, stored: int, workdir: Path) -> tuple[float, str]:
    """Seconds a full backup of the written data needs at least on this machine: sha256
    and zstd level 3 of every written byte, on all cores, plus writing and flushing the
    bytes volplane stored. Measured on the guest data itself, read once into memory."""
    raw = workdir / "limit.raw"
    subprocess.run([qcow2.QEMU_IMG, "convert", "-O", "raw", str(image), str(raw)], check=True)
    data = bytearray()
    with raw.open("rb") as f:
        for block in iter(lambda: f.read(4 * MiB), b""):
            if block.count(0) != len(block):
                data += block
    raw.unlink()
    view = memoryview(data)
    chunks = [view[i : i + 4 * MiB] for i in range(0, len(view), 4 * MiB)]
    started = time.perf_counter()
    for chunk in chunks:
        hashlib.sha256(chunk).digest()
    sha = time.perf_counter() - started
    compressor = zstandard.ZstdCompressor(level=3)
    started = time.perf_counter()
    for chunk in chunks:
        compressor.compress(chunk)
    zstd = time.perf_counter() - started
    out = workdir / "limit.out"
    payload = bytes(view[: min(stored, len(view))])
    started = time.perf_counter()
    with out.open("wb") as f:
        written = 0
        while written < stored:
            written += f.write(payload[: stored - written])
        f.flush()
        os.fdatasync(f.fileno())
    write = time.perf_counter() - started
    out.unlink()
    cores = os.cpu_count() or 1
    seconds = (sha + zstd) / cores + write
    gib = len(data) / GiB
    note = (
        f"sha256 {gib / sha:.2f} GiB/s and zstd-3 {gib / zstd:.2f} GiB/s on one core, "
        f"{cores} cores, writing and flushing {stored / MiB:.0f} MiB {write:.2f} s"
    )
    return seconds, note


def run(workdir: Path) -> list[Result]:
    image = workdir / "guest.qcow2"
    _guest_data(image, GiB, seed=1)
    ours = _volplane(workdir, image)
    peers = [_restic(workdir, image), _borg(workdir, image)]
    limit, limit_note = _limit(image, ours.stored, workdir)
    results: list[Result] = []

    def describe(tool: Tool) -> str:
        return (
            f"{tool.name}: full {tool.full.seconds:.2f} s ({tool.full.cpu:.1f} CPU s), "
            f"incremental {tool.incremental.seconds:.2f} s ({tool.incremental.cpu:.1f} CPU s), "
            f"restore {tool.restore.seconds:.2f} s ({tool.restore.cpu:.1f} CPU s), "
            f"{tool.stored / MiB:.0f} MiB stored"
        )

    summary = "; ".join(describe(t) for t in [ours, *peers])
    goals = {"restic": 3.0, "borg": 2.0}
    for peer in peers:
        ratio = peer.full.seconds / ours.full.seconds
        goal = goals[peer.name]
        results.append(
            Result(
                f"backup vs {peer.name}: full, 1 GiB written in 4 GiB",
                GiB / MiB / ours.full.seconds,
                "MiB/s",
                GiB / MiB / peer.full.seconds,
                peer.name,
                ratio,
                f"ratio ≥ {goal:g}",
                ratio >= goal,
                note=summary,
            )
        )
    within = ours.full.seconds / limit
    results.append(
        Result(
            "backup: full against this machine's limit",
            ours.full.seconds,
            "s",
            limit,
            "sha256 + zstd-3 on all cores + write and flush",
            within,
            "ratio ≤ 1.5",
            within <= 1.5,
            note=limit_note,
        )
    )
    for step, goal in (("incremental", 10.0), ("restore", 2.0)):
        for peer in peers:
            mine: Run = getattr(ours, step)
            theirs: Run = getattr(peer, step)
            ratio = theirs.seconds / mine.seconds
            results.append(
                Result(
                    f"backup vs {peer.name}: {step}",
                    mine.seconds,
                    "s",
                    theirs.seconds,
                    peer.name,
                    ratio,
                    f"{peer.name} ÷ volplane ≥ {goal:g}",
                    ratio >= goal,
                    note="1 % changed in 10 places between the two backups"
                    if step == "incremental"
                    else "the incremental backup restored; the copies compared with qemu-img",
                )
            )
    borg = next(p for p in peers if p.name == "borg")
    results.append(
        Result(
            "backup: bytes stored after full + incremental",
            ours.stored / MiB,
            "MiB",
            borg.stored / MiB,
            "borg",
            ours.stored / borg.stored,
            "≤ borg's",
            ours.stored <= borg.stored,
            note=", ".join(f"{t.name} {t.stored / MiB:.0f} MiB" for t in [ours, *peers]),
        )
    )
    return results
