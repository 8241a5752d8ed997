"""Backup decisions, free of I/O: which chunks to read, what a manifest is, what GC may delete.

A backup cuts the guest's view of an image into fixed, aligned chunks (``CHUNK_SIZE``);
only chunks that hold allocated data are read, and each is stored once under the
sha256 of its bytes. A manifest lists ``(offset, length, digest)`` for every stored
chunk; a chunk missing from it reads as zeros.

Incremental backups read less by trusting the image chain: when the image being
backed up sits on top of the very files the base backup read (same device, inode,
size and mtime), data that resolves to those files is the base's data, so only chunks
touched by the layers above them are read; the rest are copied from the base manifest.

Garbage collection is mark-and-sweep over manifests, made safe against concurrent
backups by *pins*: a backup pins itself before it touches or writes any chunk and
unpins after its manifest is durable, and every chunk it reuses gets its mtime
refreshed. GC deletes a chunk only if no manifest references it and its mtime is
older than both the grace period and the start of the oldest live pin.

A pin lives only as long as its backup (``pin_alive``): one written by a backup the
store's own agent runs is alive while that agent process holds it, so a pin left by a
killed agent is dead as soon as the agent is back; one written over HTTP by a backup
on another host is alive while that backup renews it (every ``PIN_HEARTBEAT_SECONDS``),
and dead once it missed ``PIN_LEASE_SECONDS``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

MiB = 1 << 20
CHUNK_SIZE = 4 * MiB
MANIFEST_VERSION = 1
# A backup renews its pin this often; a pin not renewed for the lease is dead.
PIN_HEARTBEAT_SECONDS = 10.0
PIN_LEASE_SECONDS = 60.0


# --- image layout ----------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """One run of ``qemu-img map``: guest bytes ``[start, start+length)``.

    ``data`` is true when the bytes must be read (allocated, not known to be zero);
    they lie at ``host_offset`` in the chain's file number ``depth``.
    """

    start: int
    length: int
    depth: int
    data: bool
    host_offset: int | None = None

    @property
    def end(self) -> int:
        return self.start + self.length


@dataclass(frozen=True)
class Piece:
    """Bytes to read for a chunk: ``length`` bytes at ``host_offset`` of file ``depth``,
    landing at ``chunk_offset`` inside the chunk's buffer."""

    chunk_offset: int
    length: int
    depth: int
    host_offset: int


@dataclass(frozen=True)
class ChunkPlan:
    """One chunk to read: the guest range and the data pieces in it (the rest is zero)."""

    offset: int
    length: int
    pieces: tuple[Piece, ...]

    @property
    def data_bytes(self) -> int:
        return sum(p.length for p in self.pieces)


def chunk_length(offset: int, virtual_size: int, chunk_size: int) -> int:
    return min(chunk_size, virtual_size - offset)


def plan_chunks(
    spans: Iterable[Span], virtual_size: int, chunk_size: int = CHUNK_SIZE
) -> list[ChunkPlan]:
    """The chunks holding data, in guest order, each with the pieces to read.

    Holes and zero runs are never read; a chunk with no data piece is not planned.
    """
    if chunk_size <= 0:
        raise ValueError("chunk size must be positive")
    pieces: dict[int, list[Piece]] = {}
    for span in spans:
        if not span.data or span.length <= 0:
            continue
        if span.host_offset is None:
            raise ValueError(f"data at guest offset {span.start} has no host offset")
        at = span.start
        while at < span.end:
            chunk = at - at % chunk_size
            stop = min(span.end, chunk + chunk_size)
            pieces.setdefault(chunk, []).append(
                Piece(at - chunk, stop - at, span.depth, span.host_offset + (at - span.start))
            )
            at = stop
    return [
        ChunkPlan(offset, chunk_length(offset, virtual_size, chunk_size), tuple(found))
        for offset, found in sorted(pieces.items())
    ]


# --- manifests -------------------------------------------------------------


@dataclass(frozen=True)
class FileIdentity:
    """What tells an image file is unchanged since a backup read it."""

    dev: int
    ino: int
    size: int
    mtime_ns: int

    def wire(self) -> list[int]:
        return [self.dev, self.ino, self.size, self.mtime_ns]


@dataclass(frozen=True)
class ChunkRef:
    offset: int
    length: int
    digest: str


def image_checksum(virtual_size: int, chunk_size: int, chunks: Sequence[ChunkRef]) -> str:
    """The image's checksum: sha256 over its size and every chunk's place and digest.

    Every chunk is verified against its digest on restore, so this covers every byte
    the guest sees (chunks not listed are zeros).
    """
    h = hashlib.sha256(f"volplane-image\n{virtual_size}\n{chunk_size}\n".encode())
    for ref in chunks:
        h.update(f"{ref.offset} {ref.length} {ref.digest}\n".encode())
    return h.hexdigest()


@dataclass(frozen=True)
class Manifest:
    """Everything needed to rebuild one backup's image from the chunk store."""

    backup_uuid: str
    virtual_size: int
    chunk_size: int
    chunks: tuple[ChunkRef, ...]
    created_at: float
    base_uuid: str | None = None
    # The image chain read (top first); lets the next incremental skip unchanged layers.
    source: tuple[FileIdentity, ...] = ()
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def checksum(self) -> str:
        return image_checksum(self.virtual_size, self.chunk_size, self.chunks)

    @property
    def digests(self) -> set[str]:
        return {ref.digest for ref in self.chunks}

    @property
    def data_bytes(self) -> int:
        return sum(ref.length for ref in self.chunks)

    def to_json(self) -> bytes:
        body = {
            "version": MANIFEST_VERSION,
            "backupUuid": self.backup_uuid,
            "virtualSize": self.virtual_size,
            "chunkSize": self.chunk_size,
            "createdAt": self.created_at,
            "baseUuid": self.base_uuid,
            "source": [f.wire() for f in self.source],
            "stats": self.stats,
            "checksum": self.checksum,
            "chunks": [[r.offset, r.length, r.digest] for r in self.chunks],
        }
        return json.dumps(body, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> Manifest:
        """Parses and checks a manifest; ``ValueError`` if it is damaged."""
        try:
            body: dict[str, Any] = json.loads(raw)
            if body.get("version") != MANIFEST_VERSION:
                raise ValueError(f"unknown manifest version {body.get('version')!r}")
            manifest = cls(
                backup_uuid=str(body["backupUuid"]),
                virtual_size=int(body["virtualSize"]),
                chunk_size=int(body["chunkSize"]),
                chunks=tuple(ChunkRef(int(o), int(n), str(d)) for o, n, d in body["chunks"]),
                created_at=float(body["createdAt"]),
                base_uuid=body.get("baseUuid"),
                source=tuple(FileIdentity(*map(int, f)) for f in body.get("source", [])),
                stats={str(k): int(v) for k, v in body.get("stats", {}).items()},
            )
        except (KeyError, TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"malformed manifest: {exc}") from exc
        if manifest.checksum != body.get("checksum"):
            raise ValueError(f"manifest of {manifest.backup_uuid} fails its checksum")
        return manifest


# --- incremental planning ----------------------------------------------------


def reusable_depth(
    chain: Sequence[FileIdentity], base_source: Sequence[FileIdentity]
) -> int | None:
    """The depth in ``chain`` at which the base backup's whole source chain sits unchanged,
    or None. Data resolving at that depth or deeper is the base's data."""
    if not base_source or len(base_source) > len(chain):
        return None
    depth = len(chain) - len(base_source)
    return depth if tuple(chain[depth:]) == tuple(base_source) else None


@dataclass(frozen=True)
class IncrementalPlan:
    """Chunks to read, and base chunks kept as they are without reading."""

    read: list[ChunkPlan]
    reused: list[ChunkRef]


def plan_incremental(
    spans: Sequence[Span],
    virtual_size: int,
    chunk_size: int,
    base: Manifest | None,
    depth: int | None,
) -> IncrementalPlan:
    """What an incremental backup must read, given the base and ``reusable_depth``.

    A chunk is *dirty* when any span of a layer above ``depth`` (data, zeros or a
    discard) touches it, or when it lies beyond the base's size or chunking. Clean
    chunks take the base's entry (or stay a hole if the base had none).
    """
    full = plan_chunks(spans, virtual_size, chunk_size)
    if base is None or depth is None or base.chunk_size != chunk_size:
        return IncrementalPlan(full, [])
    dirty: set[int] = set()
    for span in spans:
        if span.depth < depth and span.length > 0:
            first = span.start - span.start % chunk_size
            dirty.update(range(first, span.end, chunk_size))
    # A grown image: whatever is past the base's end (and its last partial chunk) is new.
    tail = base.virtual_size - base.virtual_size % chunk_size
    base_by_offset = {ref.offset: ref for ref in base.chunks}
    read = [
        c
        for c in full
        if c.offset in dirty or c.offset >= tail or c.length != _base_length(base_by_offset, c)
    ]
    read_offsets = {c.offset for c in read}
    reused = [
        ref
        for offset, ref in sorted(base_by_offset.items())
        if offset not in dirty
        and offset not in read_offsets
        and offset < tail
        and ref.offset + ref.length <= virtual_size
    ]
    return IncrementalPlan(read, reused)


def _base_length(base_by_offset: dict[int, ChunkRef], chunk: ChunkPlan) -> int:
    ref = base_by_offset.get(chunk.offset)
    return chunk.length if ref is None else ref.length


# --- garbage collection ----------------------------------------------------


def referenced(manifests: Iterable[Manifest]) -> set[str]:
    """Mark: every digest some manifest uses."""
    marked: set[str] = set()
    for manifest in manifests:
        marked |= manifest.digests
    return marked


@dataclass(frozen=True)
class Pin:
    """A running backup's claim on a store: ``owner`` is the agent process that runs it
    when that is the store's own agent ("" when it came over HTTP); ``renewed`` is its
    last heartbeat."""

    started: float
    renewed: float
    owner: str = ""

    def to_json(self) -> bytes:
        return json.dumps({"started": self.started, "owner": self.owner}).encode()

    @classmethod
    def from_file(cls, raw: bytes, mtime: float) -> Pin:
        """A pin file's content and mtime; an unreadable (or older, empty) one started at
        its mtime and came over HTTP."""
        try:
            data = json.loads(raw)
            return cls(float(data["started"]), mtime, str(data.get("owner", "")))
        except (ValueError, TypeError, KeyError):
            return cls(mtime, mtime)


def pin_alive(
    pin: Pin,
    now: float,
    *,
    instance: str,
    held: bool,
    lease: float = PIN_LEASE_SECONDS,
) -> bool:
    """Whether the backup behind ``pin`` may still be running (see the module docstring).

    ``instance`` is the store agent's process, ``held`` whether it holds the pin now.
    """
    if pin.owner:
        return pin.owner == instance and held
    return now - pin.renewed < lease


def gc_cutoff(now: float, grace_seconds: float, pin_starts: Iterable[float]) -> float:
    """Chunks touched at or after this instant are kept whatever the manifests say."""
    return min([now - grace_seconds, *pin_starts])


def collectable(chunks: Iterable[tuple[str, float]], marked: set[str], cutoff: float) -> list[str]:
    """Sweep: digests of chunks (with their mtimes) no manifest uses, older than the cutoff."""
    return sorted(digest for digest, mtime in chunks if digest not in marked and mtime < cutoff)
