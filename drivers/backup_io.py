"""Backup and restore data paths: read only allocated extents, hash and compress on all
cores, and write restored images verified chunk by chunk.

Reading. ``qemu-img map`` says, for every guest range, which file of the image chain
holds it and at which host offset; those bytes are read with ``pread`` straight from
the chain's files (no copy through qemu). An image whose data has no host offset
(compressed clusters, an external data file) is first converted to a sparse raw file.

Work is spread over a thread pool: ``hashlib`` and ``zstandard`` release the GIL on
large buffers, so hashing and compression of different chunks run on all cores.

Restoring writes verified chunks into a sparse raw file beside the destination, then
``qemu-img convert`` makes the qcow2 (dropping zero runs); a failure or cancel removes
both, so the destination never holds a partial image.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import zstandard

from drivers import qcow2, scratch
from drivers.backends.base import PoolBackend
from drivers.chunkstore import ChunkStore, require_manifest
from schemas.agent import ImageInfo
from volplane.chunking import (
    CHUNK_SIZE,
    PIN_HEARTBEAT_SECONDS,
    ChunkPlan,
    ChunkRef,
    FileIdentity,
    Manifest,
    Span,
    plan_incremental,
    reusable_depth,
)
from volplane.errors import IntegrityError, InvalidStoragePath, JobCancelled

ProgressCallback = Callable[[int], None]
CancelCheck = Callable[[], bool]
T = TypeVar("T")
R = TypeVar("R")

DEFAULT_LEVEL = 3
RAW_PART_SUFFIX = ".raw.part"


def default_workers() -> int:
    return max(2, os.cpu_count() or 1)


# --- reading the image ------------------------------------------------------


@dataclass(frozen=True)
class ImageLayout:
    virtual_size: int
    files: list[Path]  # the chain, top first; Span.depth indexes it
    spans: list[Span]
    identities: list[FileIdentity]


def _identity(path: Path) -> FileIdentity:
    st = os.stat(path)
    return FileIdentity(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def parse_map(data: Iterable[dict[str, Any]]) -> list[Span]:
    spans = []
    for item in data:
        readable = bool(item.get("data")) and not bool(item.get("zero"))
        spans.append(
            Span(
                start=int(item["start"]),
                length=int(item["length"]),
                depth=int(item.get("depth", 0)),
                data=readable,
                host_offset=item.get("offset") if readable else None,
            )
        )
    return spans


def image_layout(path: Path, *, fmt: str = qcow2.FORMAT) -> ImageLayout:
    """The image's chain files, their identities and its map, read with ``-U``."""
    chain = json.loads(
        qcow2.run(
            [qcow2.QEMU_IMG, "info", "--output=json", "-U", "-f", fmt, "--backing-chain", str(path)]
        ).stdout
    )
    files = [path]
    for item in chain[1:]:
        name = Path(item["filename"])
        files.append(name if name.is_absolute() else path.parent / name)
    identities = [_identity(f) for f in files]
    mapped = json.loads(
        qcow2.run([qcow2.QEMU_IMG, "map", "--output=json", "-U", "-f", fmt, str(path)]).stdout
    )
    return ImageLayout(int(chain[0]["virtual-size"]), files, parse_map(mapped), identities)


def _bounded_map(
    pool: ThreadPoolExecutor,
    fn: Callable[[T], R],
    items: Iterable[T],
    window: int,
    should_cancel: CancelCheck | None,
) -> Iterator[R]:
    """``pool.map`` with at most ``window`` items in flight, in order, cancellable."""
    pending: deque[Future[R]] = deque()
    try:
        for item in items:
            if should_cancel is not None and should_cancel():
                raise JobCancelled("cancelled")
            pending.append(pool.submit(fn, item))
            if len(pending) >= window:
                yield pending.popleft().result()
        while pending:
            if should_cancel is not None and should_cancel():
                raise JobCancelled("cancelled")
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()
        for future in pending:
            with contextlib.suppress(BaseException):
                future.result()


class _Percent:
    def __init__(self, total: int, report: ProgressCallback | None, low: int, high: int) -> None:
        self.total, self.report, self.low, self.high = max(total, 1), report, low, high
        self.done, self.last = 0, -1

    def add(self, amount: int) -> None:
        self.done += amount
        percent = self.low + (self.high - self.low) * min(self.done, self.total) // self.total
        if self.report is not None and percent != self.last:
            self.last = percent
            self.report(percent)


# --- backup -----------------------------------------------------------------


@dataclass(frozen=True)
class BackupStats:
    manifest: Manifest
    read_bytes: int  # allocated bytes read from the image
    new_chunks: int  # chunks this backup added to the store
    new_stored_bytes: int  # their compressed size
    reused_chunks: int  # chunks kept from the base without reading


class _ChunkWorker:
    """Reads, hashes, and stores one chunk; one compressor per thread."""

    def __init__(self, files: list[Path], store: ChunkStore, level: int) -> None:
        self._fds = [os.open(f, os.O_RDONLY) for f in files]
        self._store = store
        self._level = level
        self._local = threading.local()

    def close(self) -> None:
        for fd in self._fds:
            os.close(fd)

    def __call__(self, plan: ChunkPlan) -> tuple[ChunkRef | None, int]:
        buf = bytearray(plan.length)
        view = memoryview(buf)
        for piece in plan.pieces:
            got = os.preadv(
                self._fds[piece.depth],
                [view[piece.chunk_offset : piece.chunk_offset + piece.length]],
                piece.host_offset,
            )
            if got != piece.length:
                raise InvalidStoragePath(
                    f"short read at offset {piece.host_offset} of layer {piece.depth}"
                )
        if buf.count(0) == len(buf):
            return None, 0  # allocated but zero: restores as a hole
        digest = hashlib.sha256(buf).hexdigest()
        ref = ChunkRef(plan.offset, plan.length, digest)
        if self._store.keep_if_present(digest):
            return ref, 0
        compressor: zstandard.ZstdCompressor | None = getattr(self._local, "zc", None)
        if compressor is None:
            compressor = self._local.zc = zstandard.ZstdCompressor(level=self._level)
        frame = compressor.compress(buf)
        self._store.put(digest, frame)
        return ref, len(frame)


def backup_image(
    src: qcow2.Image,
    store: ChunkStore,
    *,
    backup_uuid: str,
    base_uuid: str | None = None,
    chunk_size: int = CHUNK_SIZE,
    level: int = DEFAULT_LEVEL,
    workers: int | None = None,
    on_progress: ProgressCallback | None = None,
    should_cancel: CancelCheck | None = None,
    scratch_dir: Path | None = None,
) -> BackupStats:
    """Backs ``src`` up into ``store`` as ``backup_uuid``; the manifest is written last.

    With ``base_uuid`` only what changed since that backup is read when the image chain
    allows it (see ``volplane.chunking.plan_incremental``); otherwise all allocated data
    is read and unchanged chunks are still stored only once.
    """
    store.pin(backup_uuid)
    raw: Path | None = None
    heartbeat = _PinHeartbeat(store, backup_uuid)
    try:
        # An image the agent cannot read directly (on a network pool) is read through
        # qemu into a local sparse raw file first, as are images without host offsets.
        layout = image_layout(src) if isinstance(src, Path) else None
        if layout is None or any(s.data and s.host_offset is None for s in layout.spans):
            if scratch_dir is None and not isinstance(src, Path):
                raise InvalidStoragePath(f"reading {src} needs a local scratch folder")
            folder = scratch_dir or Path(src).parent
            folder.mkdir(parents=True, exist_ok=True)
            raw = folder / f".{backup_uuid}{RAW_PART_SUFFIX}"
            scratch.hold(raw)
            raw.unlink(missing_ok=True)
            qcow2.run(
                [
                    qcow2.QEMU_IMG,
                    "convert",
                    "-U",
                    "-f",
                    qcow2.FORMAT,
                    "-O",
                    "raw",
                    str(src),
                    str(raw),
                ]
            )
            layout = image_layout(raw, fmt="raw")
        base = require_manifest(store, base_uuid) if base_uuid else None
        depth = reusable_depth(layout.identities, base.source) if base else None
        if raw is not None:
            depth = None
        plan = plan_incremental(layout.spans, layout.virtual_size, chunk_size, base, depth)
        progress = _Percent(sum(c.data_bytes for c in plan.read), on_progress, 0, 99)
        refs = list(plan.reused)
        new_chunks = new_bytes = read_bytes = 0
        worker = _ChunkWorker(layout.files, store, level)
        threads = workers or default_workers()
        try:
            with ThreadPoolExecutor(threads, thread_name_prefix="backup") as pool:
                results = _bounded_map(pool, worker, plan.read, 2 * threads, should_cancel)
                for chunk, (ref, stored) in zip(plan.read, results, strict=True):
                    read_bytes += chunk.data_bytes
                    progress.add(chunk.data_bytes)
                    if ref is not None:
                        refs.append(ref)
                    if stored:
                        new_chunks += 1
                        new_bytes += stored
        finally:
            worker.close()
        # Reused base chunks must survive a GC that runs before our manifest is written.
        for ref in plan.reused:
            if not store.keep_if_present(ref.digest):
                raise IntegrityError(f"chunk {ref.digest} of base backup {base_uuid} is missing")
        if should_cancel is not None and should_cancel():
            raise JobCancelled(f"backup {backup_uuid} was cancelled")
        # A pin that died meanwhile (this agent stopped past the lease) let GC take
        # chunks this backup wrote: no manifest may name them.
        heartbeat.stop()
        store.renew_pin(backup_uuid)
        manifest = Manifest(
            backup_uuid=backup_uuid,
            virtual_size=layout.virtual_size,
            chunk_size=chunk_size,
            chunks=tuple(sorted(refs, key=lambda r: r.offset)),
            created_at=time.time(),
            base_uuid=base_uuid if base else None,
            source=tuple(layout.identities) if raw is None else (),
            stats={"readBytes": read_bytes, "newChunks": new_chunks, "newBytes": new_bytes},
        )
        store.write_manifest(manifest)
    finally:
        heartbeat.stop()
        if raw is not None:
            raw.unlink(missing_ok=True)
            scratch.release(raw)
        store.unpin(backup_uuid)
    if on_progress is not None:
        on_progress(100)
    return BackupStats(manifest, read_bytes, new_chunks, new_bytes, len(plan.reused))


class _PinHeartbeat:
    """Renews a backup's pin every ``PIN_HEARTBEAT_SECONDS`` while the backup runs."""

    def __init__(self, store: ChunkStore, backup_uuid: str) -> None:
        self._store = store
        self._uuid = backup_uuid
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pin-heartbeat", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped.wait(PIN_HEARTBEAT_SECONDS):
            with contextlib.suppress(Exception):
                # A lost pin is found by the renewal before the manifest is written.
                self._store.renew_pin(self._uuid)

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()


# --- restore ----------------------------------------------------------------


def raw_part_path(dst: Path) -> Path:
    return dst.with_name(dst.name + RAW_PART_SUFFIX)


class _RestoreWorker:
    def __init__(self, fd: int, store: ChunkStore) -> None:
        self._fd = fd
        self._store = store
        self._local = threading.local()

    def __call__(self, ref: ChunkRef) -> int:
        frame = self._store.get(ref.digest)
        decompressor: zstandard.ZstdDecompressor | None = getattr(self._local, "zd", None)
        if decompressor is None:
            decompressor = self._local.zd = zstandard.ZstdDecompressor()
        try:
            data = decompressor.decompress(frame, max_output_size=ref.length)
        except zstandard.ZstdError as exc:
            raise IntegrityError(f"chunk {ref.digest} is damaged: {exc}") from exc
        if len(data) != ref.length or hashlib.sha256(data).hexdigest() != ref.digest:
            raise IntegrityError(
                f"chunk {ref.digest} (guest offset {ref.offset}) does not match its checksum"
            )
        os.pwrite(self._fd, data, ref.offset)
        return ref.length


def restore_image(
    store: ChunkStore,
    backup_uuid: str,
    dst: qcow2.Image,
    *,
    files: PoolBackend = qcow2.LOCAL_FILES,
    scratch_dir: Path | None = None,
    workers: int | None = None,
    on_progress: ProgressCallback | None = None,
    should_cancel: CancelCheck | None = None,
) -> ImageInfo:
    """Writes backup ``backup_uuid`` into a new qcow2 at ``dst``, verifying every chunk."""
    if files.exists(str(dst)):
        raise InvalidStoragePath(f"{dst} already exists")
    manifest = require_manifest(store, backup_uuid)
    if scratch_dir is not None:
        scratch_dir.mkdir(parents=True, exist_ok=True)
        raw = scratch_dir / f".{backup_uuid}{RAW_PART_SUFFIX}"
    else:
        raw = raw_part_path(Path(dst))
    part = qcow2.part_path(dst)
    progress = _Percent(manifest.data_bytes, on_progress, 0, 90)
    local_part = files.local_path(str(part))
    with scratch.holding(raw, *([local_part] if local_part is not None else [])):
        try:
            raw.unlink(missing_ok=True)
            files.remove(str(part))
            fd = os.open(raw, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.ftruncate(fd, manifest.virtual_size)
                threads = workers or default_workers()
                worker = _RestoreWorker(fd, store)
                with ThreadPoolExecutor(threads, thread_name_prefix="restore") as pool:
                    for written in _bounded_map(
                        pool, worker, manifest.chunks, 2 * threads, should_cancel
                    ):
                        progress.add(written)
            finally:
                os.close(fd)
            if should_cancel is not None and should_cancel():
                raise JobCancelled(f"restore of backup {backup_uuid} was cancelled")
            with files.writing_behind(str(part)):
                qcow2.run(
                    [
                        qcow2.QEMU_IMG,
                        "convert",
                        "-f",
                        "raw",
                        "-O",
                        qcow2.FORMAT,
                        str(raw),
                        str(part),
                    ]
                )
            files.finish(str(part), str(dst))
        except BaseException:
            files.remove(str(part))
            raise
        finally:
            raw.unlink(missing_ok=True)
    if on_progress is not None:
        on_progress(100)
    local = files.local_path(str(dst))
    return qcow2.standalone_info(local) if local is not None else qcow2.info(dst)
