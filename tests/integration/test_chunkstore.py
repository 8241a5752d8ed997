"""The chunk store and the backup/restore data path on real qcow2 files and directories."""

from __future__ import annotations

import os
import random
import subprocess
import threading
import time
from pathlib import Path

import pytest
import zstandard

from drivers import backup_io, qcow2
from drivers.chunkstore import LocalChunkStore
from schemas.agent import ChunkStoreRef
from tests.agents import running_agent
from volplane.chunking import Manifest
from volplane.errors import AgentAuthFailed, BackupDataMissing, IntegrityError, JobCancelled

pytestmark = pytest.mark.integration

MiB = 1 << 20


def random_image(path: Path, size: int, extents: list[tuple[int, int]], *, seed: int = 1) -> Path:
    """A qcow2 with random bytes at ``extents`` (offset, length) and holes elsewhere;
    the same ``seed`` gives the same bytes."""
    raw = path.with_suffix(".raw")
    with raw.open("wb") as f:
        f.truncate(size)
        for index, (offset, length) in enumerate(extents):
            f.seek(offset)
            f.write(random.Random(seed * 1000 + index).randbytes(length))
    subprocess.run(
        ["qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(raw), str(path)], check=True
    )
    raw.unlink()
    return path


def overlay(path: Path, backing: Path) -> Path:
    qcow2.create_overlay(path, backing)
    return path


def test_round_trip_keeps_data_and_holes_and_reads_only_allocated(tmp_path: Path) -> None:
    src = random_image(
        tmp_path / "v.qcow2",
        48 * MiB,
        [(0, 3 * MiB), (10 * MiB + 4096, 5 * MiB), (47 * MiB, MiB)],
    )
    store = LocalChunkStore(tmp_path / "store")
    stats = backup_io.backup_image(src, store, backup_uuid="b1")
    # Allocation is per qcow2 cluster (64 KiB), so the unaligned extent reads a little more.
    assert 9 * MiB <= stats.read_bytes <= 9 * MiB + 128 * 1024
    assert stats.new_chunks == len(stats.manifest.chunks) == 4
    restored = backup_io.restore_image(store, "b1", tmp_path / "r.qcow2")
    assert restored.virtual_size == 48 * MiB
    assert qcow2.compare(src, tmp_path / "r.qcow2")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.qcow2", "store", "v.qcow2"]


def test_identical_chunks_are_stored_once_across_images(tmp_path: Path) -> None:
    store = LocalChunkStore(tmp_path / "store")
    first = random_image(tmp_path / "a.qcow2", 16 * MiB, [(0, 8 * MiB)], seed=7)
    second = random_image(tmp_path / "b.qcow2", 32 * MiB, [(0, 8 * MiB)], seed=7)
    backup_io.backup_image(first, store, backup_uuid="a")
    again = backup_io.backup_image(second, store, backup_uuid="b")
    assert again.new_chunks == 0 and len(again.manifest.chunks) == 2
    assert store.usage().chunk_count == 2


def test_incremental_reads_only_layers_above_the_base(tmp_path: Path) -> None:
    base = random_image(tmp_path / "s0.qcow2", 64 * MiB, [(0, 32 * MiB)])
    store = LocalChunkStore(tmp_path / "store")
    full = backup_io.backup_image(base, store, backup_uuid="full")
    top = overlay(tmp_path / "s1.qcow2", base)
    qcow2.write_pattern(top, offset=5 * MiB, length=64 * 1024, pattern=0x11)
    qcow2.write_pattern(top, offset=40 * MiB, length=MiB, pattern=0x22)
    inc = backup_io.backup_image(top, store, backup_uuid="inc", base_uuid="full")
    # The chunk at 4 MiB is read whole (its base part too), the one at 40 MiB holds only
    # the new MiB; the other 28 MiB below are not read.
    assert inc.read_bytes == 4 * MiB + MiB
    assert inc.reused_chunks == len(full.manifest.chunks) - 1
    assert inc.new_chunks == 2
    backup_io.restore_image(store, "inc", tmp_path / "r-inc.qcow2")
    backup_io.restore_image(store, "full", tmp_path / "r-full.qcow2")
    assert qcow2.compare(top, tmp_path / "r-inc.qcow2")
    assert qcow2.compare(base, tmp_path / "r-full.qcow2")


def test_incremental_of_a_changed_base_file_reads_everything(tmp_path: Path) -> None:
    src = random_image(tmp_path / "v.qcow2", 16 * MiB, [(0, 8 * MiB)])
    store = LocalChunkStore(tmp_path / "store")
    backup_io.backup_image(src, store, backup_uuid="one")
    qcow2.write_pattern(src, offset=12 * MiB, length=MiB, pattern=0x33)
    inc = backup_io.backup_image(src, store, backup_uuid="two", base_uuid="one")
    assert inc.read_bytes == 9 * MiB and inc.new_chunks == 1
    backup_io.restore_image(store, "two", tmp_path / "r.qcow2")
    assert qcow2.compare(src, tmp_path / "r.qcow2")


def test_compressed_clusters_are_read_through_a_raw_copy(tmp_path: Path) -> None:
    plain = tmp_path / "p.qcow2"
    qcow2.create(plain, size=16 * MiB)
    qcow2.write_pattern(plain, offset=MiB, length=2 * MiB, pattern=0x6B)
    packed = tmp_path / "c.qcow2"
    qcow2.convert(plain, packed, compress=True)
    assert any(s.data and s.host_offset is None for s in backup_io.image_layout(packed).spans)
    store = LocalChunkStore(tmp_path / "store")
    backup_io.backup_image(packed, store, backup_uuid="c")
    backup_io.restore_image(store, "c", tmp_path / "r.qcow2")
    assert qcow2.compare(plain, tmp_path / "r.qcow2")
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_a_corrupt_chunk_fails_the_restore_and_leaves_nothing(tmp_path: Path) -> None:
    src = random_image(tmp_path / "v.qcow2", 16 * MiB, [(0, 8 * MiB)])
    store = LocalChunkStore(tmp_path / "store")
    stats = backup_io.backup_image(src, store, backup_uuid="b")
    victim = store.chunk_path(stats.manifest.chunks[1].digest)
    frame = bytearray(victim.read_bytes())
    frame[len(frame) // 2] ^= 0xFF
    victim.write_bytes(bytes(frame))
    with pytest.raises(IntegrityError):
        backup_io.restore_image(store, "b", tmp_path / "r.qcow2")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store", "v.qcow2"]


def test_a_missing_chunk_or_manifest_is_reported(tmp_path: Path) -> None:
    src = random_image(tmp_path / "v.qcow2", 8 * MiB, [(0, MiB)])
    store = LocalChunkStore(tmp_path / "store")
    stats = backup_io.backup_image(src, store, backup_uuid="b")
    store.chunk_path(stats.manifest.chunks[0].digest).unlink()
    with pytest.raises(IntegrityError, match="missing"):
        backup_io.restore_image(store, "b", tmp_path / "r.qcow2")
    with pytest.raises(BackupDataMissing):
        backup_io.restore_image(store, "nope", tmp_path / "r.qcow2")


def test_a_cancelled_restore_leaves_nothing(tmp_path: Path) -> None:
    src = random_image(tmp_path / "v.qcow2", 32 * MiB, [(0, 32 * MiB)])
    store = LocalChunkStore(tmp_path / "store")
    backup_io.backup_image(src, store, backup_uuid="b")
    seen: list[int] = []
    with pytest.raises(JobCancelled):
        backup_io.restore_image(
            store,
            "b",
            tmp_path / "r.qcow2",
            workers=1,
            on_progress=seen.append,
            should_cancel=lambda: bool(seen),
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store", "v.qcow2"]


def test_a_cancelled_backup_writes_no_manifest(tmp_path: Path) -> None:
    src = random_image(tmp_path / "v.qcow2", 32 * MiB, [(0, 32 * MiB)])
    store = LocalChunkStore(tmp_path / "store")
    seen: list[int] = []
    with pytest.raises(JobCancelled):
        backup_io.backup_image(
            src,
            store,
            backup_uuid="b",
            workers=1,
            on_progress=seen.append,
            should_cancel=lambda: bool(seen),
        )
    assert store.read_manifest("b") is None
    assert list(store.pins.iterdir()) == []
    store.gc()
    assert store.usage().chunk_count == 0


def test_gc_deletes_only_chunks_no_manifest_uses(tmp_path: Path) -> None:
    store = LocalChunkStore(tmp_path / "store")
    shared = random_image(tmp_path / "a.qcow2", 16 * MiB, [(0, 8 * MiB)])
    backup_io.backup_image(shared, store, backup_uuid="a")
    qcow2.write_pattern(shared, offset=12 * MiB, length=MiB, pattern=0x44)
    backup_io.backup_image(shared, store, backup_uuid="b")
    assert store.usage().chunk_count == 3
    store.delete_manifest("a")
    assert store.gc().removed_chunks == 0  # "b" uses all of "a"'s chunks
    store.delete_manifest("b")
    result = store.gc()
    assert result.removed_chunks == 3 and result.freed_bytes > 0
    assert store.usage().chunk_count == 0


def test_gc_never_takes_a_chunk_a_running_backup_reuses(tmp_path: Path) -> None:
    # Given an orphan chunk (its backup was deleted) and a backup that starts reusing it
    store = LocalChunkStore(tmp_path / "store")
    src = random_image(tmp_path / "v.qcow2", 16 * MiB, [(0, 8 * MiB)])
    backup_io.backup_image(src, store, backup_uuid="old")
    store.delete_manifest("old")
    for folder in store.chunks.iterdir():
        for chunk in folder.iterdir():
            os.utime(chunk, (1, 1))  # old enough for any grace period
    # When GC runs again and again while the backup runs
    stop = threading.Event()

    def collect() -> None:
        while not stop.is_set():
            store.gc()

    collector = threading.Thread(target=collect)
    collector.start()
    try:
        for attempt in range(5):
            backup_io.backup_image(src, store, backup_uuid=f"new{attempt}")
    finally:
        stop.set()
        collector.join()
    # Then every backup still restores
    for attempt in range(5):
        dst = tmp_path / f"r{attempt}.qcow2"
        backup_io.restore_image(store, f"new{attempt}", dst)
        assert qcow2.compare(src, dst)


def test_manifest_on_disk_is_checked(tmp_path: Path) -> None:
    store = LocalChunkStore(tmp_path / "store")
    src = random_image(tmp_path / "v.qcow2", 8 * MiB, [(0, MiB)])
    backup_io.backup_image(src, store, backup_uuid="b")
    path = store.manifest_path("b")
    manifest = Manifest.from_json(path.read_bytes())
    path.write_bytes(path.read_bytes().replace(b'"virtualSize":8388608', b'"virtualSize":9388608'))
    with pytest.raises(IntegrityError, match="checksum"):
        store.read_manifest("b")
    assert manifest.virtual_size == 8 * MiB


# --- through real agents -------------------------------------------------------


def test_agents_back_up_and_restore_across_hosts(tmp_path: Path) -> None:
    # Given a store on host A, a volume image on host B and a pool on each
    with (
        running_agent(tmp_path / "a") as host_a,
        running_agent(tmp_path / "b") as host_b,
        host_a.client() as a,
        host_b.client() as b,
    ):
        store_root = a.connect_pool(str(tmp_path / "store"), create=True).root
        pool_a = a.connect_pool(str(tmp_path / "pool-a"), create=True).root
        pool_b = b.connect_pool(str(tmp_path / "pool-b"), create=True).root
        src = random_image(Path(pool_b) / "v.qcow2", 24 * MiB, [(0, 2 * MiB), (13 * MiB, 3 * MiB)])
        expires = int(time.time()) + 600
        # When B backs up into A's store over HTTP, and A restores locally
        progress: list[int] = []
        made = b.create_backup(
            "bk-1",
            str(src),
            "b1",
            a.chunk_store_ref(store_root, expires=expires, mode="rw"),
            on_progress=progress.append,
        )
        local = a.restore_backup("rs-1", "b1", ChunkStoreRef(root=store_root), f"{pool_a}/r.qcow2")
        # Then the data round-trips and the store holds what the backup reported
        assert made.new_chunks == made.chunk_count == 2 and progress[-1] == 100
        assert local.virtual_size == 24 * MiB
        assert qcow2.compare(src, Path(pool_a) / "r.qcow2")
        usage = a.store_usage(store_root)
        assert usage.chunk_count == 2 and usage.stored_bytes >= made.new_stored_bytes
        # And B restores from A's store with a read-only ticket
        b.restore_backup(
            "rs-2", "b1", a.chunk_store_ref(store_root, expires=expires), f"{pool_b}/r.qcow2"
        )
        assert qcow2.compare(src, Path(pool_b) / "r.qcow2")
        # A read-only ticket cannot write, a forged one cannot read
        with pytest.raises(AgentAuthFailed):
            b.create_backup("bk-2", str(src), "b2", a.chunk_store_ref(store_root, expires=expires))
        forged = a.chunk_store_ref(store_root, expires=expires).model_copy(
            update={"ticket": "0" * 64}
        )
        with pytest.raises(AgentAuthFailed):
            b.restore_backup("rs-3", "b1", forged, f"{pool_b}/r2.qcow2")
        assert not (Path(pool_b) / "r2.qcow2").exists()
        # Deleting the backup frees its chunks
        gone = a.delete_backup("del-1", store_root, "b1")
        assert gone.manifest_existed and gone.removed_chunks == 2
        assert gone.usage.chunk_count == 0 and a.store_usage(store_root).manifest_count == 0


def test_an_agent_refuses_a_restore_of_a_corrupt_chunk(tmp_path: Path) -> None:
    with running_agent(tmp_path / "a") as host_a, host_a.client() as a:
        store_root = a.connect_pool(str(tmp_path / "store"), create=True).root
        pool = a.connect_pool(str(tmp_path / "pool"), create=True).root
        src = random_image(Path(pool) / "v.qcow2", 8 * MiB, [(0, MiB)])
        here = ChunkStoreRef(root=store_root)
        made = a.create_backup("bk", str(src), "b1", here)
        store = LocalChunkStore(Path(store_root))
        digest = next(iter(store.read_manifest("b1").digests))  # type: ignore[union-attr]
        store.chunk_path(digest).write_bytes(zstandard.ZstdCompressor().compress(b"x" * MiB))
        with pytest.raises(IntegrityError, match="checksum"):
            a.restore_backup("rs", "b1", here, f"{pool}/r.qcow2")
        assert sorted(p.name for p in Path(pool).iterdir()) == ["v.qcow2"]
        assert made.chunk_count == 1
