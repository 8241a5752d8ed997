"""The content-addressed chunk store on a backup storage directory.

    <root>/chunks/ab/abcdef...   one zstd frame per chunk, named by the sha256 of its bytes
    <root>/manifests/<uuid>.json one per backup (``volplane.chunking.Manifest``)
    <root>/pins/<uuid>           a backup in progress (``volplane.chunking.Pin``; mtime:
                                 its last heartbeat)
    <root>/tmp/                  files being written, renamed into place when complete

Every file appears by rename only, so a reader never sees half a chunk or manifest.
``LocalChunkStore`` works on the directory; ``HttpChunkStore`` speaks to the agent on
the store's host (``drivers.agent.chunk_routes``) with a ticket for that one store,
so a backup or restore on another host streams chunks over HTTP.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx

from drivers import scratch
from drivers.client import error_from_response
from drivers.durable import fsync_path
from schemas.agent import CHUNK_STORE_PATH
from volplane import chunking
from volplane.chunking import Manifest, Pin
from volplane.errors import AgentUnreachable, BackupDataMissing, IntegrityError, InvalidParameter


def check_digest(digest: str) -> str:
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise InvalidParameter(f"{digest!r} is not a sha256 hex digest")
    return digest


def check_uuid(uuid: str) -> str:
    if not uuid or len(uuid) > 64 or not all(c.isalnum() or c == "-" for c in uuid):
        raise InvalidParameter(f"{uuid!r} is not a backup uuid")
    return uuid


class ChunkStore(Protocol):
    """What backup and restore need from a store, local or remote."""

    def keep_if_present(self, digest: str) -> bool:
        """True if the chunk is stored; it is then protected from a concurrent GC."""

    def put(self, digest: str, frame: bytes) -> None:
        """Stores a compressed chunk under the sha256 of its uncompressed bytes."""

    def get(self, digest: str) -> bytes:
        """The compressed chunk; ``IntegrityError`` if it is missing."""

    def read_manifest(self, uuid: str) -> Manifest | None: ...

    def write_manifest(self, manifest: Manifest) -> None: ...

    def pin(self, uuid: str) -> None: ...

    def renew_pin(self, uuid: str) -> None:
        """The backup's heartbeat; ``IntegrityError`` if its pin was removed as dead
        (the backup was stopped longer than the lease: its chunks may be gone)."""

    def unpin(self, uuid: str) -> None: ...


@dataclass(frozen=True)
class StoreUsage:
    stored_bytes: int
    chunk_count: int
    manifest_count: int


@dataclass(frozen=True)
class GcResult:
    removed_chunks: int
    freed_bytes: int
    kept_by_pins: int


@dataclass(frozen=True)
class SweepResult:
    removed: list[Path]
    freed_bytes: int


def _write_atomic(tmp_dir: Path, dst: Path, data: bytes, *, sync: bool) -> None:
    tmp = tmp_dir / f"{dst.name}.{secrets.token_hex(6)}"
    with scratch.holding(tmp):
        try:
            with tmp.open("wb") as out:
                out.write(data)
                if sync:
                    out.flush()
                    os.fsync(out.fileno())
            os.replace(tmp, dst)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


def _lost_pin(uuid: str) -> IntegrityError:
    return IntegrityError(
        f"the pin of backup {uuid} was removed as dead (its agent was stopped longer than "
        f"{chunking.PIN_LEASE_SECONDS:g} s); chunks it wrote may have been collected"
    )


class LocalChunkStore:
    """A store in a directory on this host. Safe for concurrent threads and processes.

    ``owner`` names the agent process in the pins of backups it runs itself (it holds
    them while they run); the chunk-store routes, serving backups on other hosts, pass
    "" (their pins live by heartbeat).
    """

    def __init__(self, root: Path, *, sync: bool = True, owner: str = scratch.INSTANCE) -> None:
        self.root = root
        self.sync = sync
        self.owner = owner
        self.chunks = root / "chunks"
        self.manifests = root / "manifests"
        self.pins = root / "pins"
        self.tmp = root / "tmp"
        for folder in (self.chunks, self.manifests, self.pins, self.tmp):
            folder.mkdir(parents=True, exist_ok=True)

    def chunk_path(self, digest: str) -> Path:
        return self.chunks / digest[:2] / digest

    def manifest_path(self, uuid: str) -> Path:
        return self.manifests / f"{check_uuid(uuid)}.json"

    # --- ChunkStore -----------------------------------------------------------

    def keep_if_present(self, digest: str) -> bool:
        try:
            # The refreshed mtime is what keeps a concurrent GC off this chunk.
            os.utime(self.chunk_path(check_digest(digest)))
        except FileNotFoundError:
            return False
        return True

    def put(self, digest: str, frame: bytes) -> None:
        path = self.chunk_path(check_digest(digest))
        path.parent.mkdir(exist_ok=True)
        _write_atomic(self.tmp, path, frame, sync=self.sync)

    def get(self, digest: str) -> bytes:
        try:
            return self.chunk_path(check_digest(digest)).read_bytes()
        except FileNotFoundError as exc:
            raise IntegrityError(f"chunk {digest} is missing from the backup storage") from exc

    def read_manifest(self, uuid: str) -> Manifest | None:
        try:
            raw = self.manifest_path(uuid).read_bytes()
        except FileNotFoundError:
            return None
        try:
            return Manifest.from_json(raw)
        except ValueError as exc:
            raise IntegrityError(str(exc)) from exc

    def write_manifest(self, manifest: Manifest) -> None:
        if self.sync:
            # Chunk renames must be durable before a manifest may name them.
            for folder in {self.chunks, *self.chunks.iterdir()}:
                fsync_path(folder)
        _write_atomic(
            self.tmp, self.manifest_path(manifest.backup_uuid), manifest.to_json(), sync=self.sync
        )
        if self.sync:
            fsync_path(self.manifests)

    def pin(self, uuid: str) -> None:
        # A rerun of the same backup keeps the earlier start: chunks touched by the run
        # before it stay protected.
        path = self.pins / check_uuid(uuid)
        if self.owner:
            scratch.hold(path)
        now = time.time()
        found = self._read_pin(path)
        started = now if found is None else min(found.started, now)
        pin = Pin(started=started, renewed=now, owner=self.owner)
        _write_atomic(self.tmp, path, pin.to_json(), sync=False)

    def renew_pin(self, uuid: str) -> None:
        try:
            os.utime(self.pins / check_uuid(uuid))
        except FileNotFoundError as exc:
            raise _lost_pin(uuid) from exc

    def unpin(self, uuid: str) -> None:
        path = self.pins / check_uuid(uuid)
        path.unlink(missing_ok=True)
        if self.owner:
            scratch.release(path)

    # --- management -----------------------------------------------------------

    def manifest_uuids(self) -> list[str]:
        return sorted(p.stem for p in self.manifests.glob("*.json"))

    def delete_manifest(self, uuid: str) -> bool:
        path = self.manifest_path(uuid)
        existed = path.exists()
        path.unlink(missing_ok=True)
        return existed

    def iter_chunks(self) -> Iterator[tuple[str, os.stat_result]]:
        for folder in self.chunks.iterdir():
            if folder.is_dir():
                for entry in os.scandir(folder):
                    if len(entry.name) == 64:
                        with contextlib.suppress(FileNotFoundError):
                            yield entry.name, entry.stat()

    def usage(self) -> StoreUsage:
        chunk_bytes, count = 0, 0
        for _digest, stat in self.iter_chunks():
            chunk_bytes += stat.st_size
            count += 1
        manifests = list(self.manifests.glob("*.json"))
        manifest_bytes = sum(p.stat().st_size for p in manifests if p.exists())
        return StoreUsage(chunk_bytes + manifest_bytes, count, len(manifests))

    def gc(self, *, grace_seconds: float = 0.0, now: float | None = None) -> GcResult:
        """Deletes chunks no manifest references and no running backup may be using.

        Candidates are moved to a trash folder first; one touched after GC started (a
        backup reusing it) is moved back, so a chunk a backup decided to reuse is never lost.
        """
        started = time.time() if now is None else now
        pin_starts = self._pin_starts(started)
        cutoff = chunking.gc_cutoff(started, grace_seconds, pin_starts)
        marked = chunking.referenced(self._manifests_for_gc())
        stats = {digest: stat for digest, stat in self.iter_chunks()}
        candidates = chunking.collectable(
            ((d, s.st_mtime) for d, s in stats.items()), marked, cutoff
        )
        kept_by_pins = len(
            chunking.collectable(((d, s.st_mtime) for d, s in stats.items()), marked, started)
        ) - len(candidates)
        trash = self.tmp / f"gc-{secrets.token_hex(6)}"
        scratch.hold(trash)
        trash.mkdir()
        removed, freed = 0, 0
        try:
            moved = []
            for digest in candidates:
                with contextlib.suppress(FileNotFoundError):
                    os.replace(self.chunk_path(digest), trash / digest)
                    moved.append(digest)
            # Manifests written while we swept protect their chunks too.
            marked = chunking.referenced(self._manifests_for_gc())
            for digest in moved:
                held = trash / digest
                stat = held.stat()
                if digest in marked or stat.st_mtime >= cutoff:
                    os.replace(held, self.chunk_path(digest))
                else:
                    held.unlink()
                    removed += 1
                    freed += stat.st_size
        finally:
            self._put_back(trash)
            scratch.release(trash)
        return GcResult(removed, freed, kept_by_pins)

    def _put_back(self, trash: Path) -> None:
        """Returns a GC trash folder's chunks to the store (a later GC decides again)."""
        for left in trash.iterdir():
            os.replace(left, self.chunk_path(left.name))
        trash.rmdir()

    def _read_pin(self, path: Path) -> Pin | None:
        try:
            with path.open("rb") as f:
                return Pin.from_file(f.read(), os.fstat(f.fileno()).st_mtime)
        except FileNotFoundError:
            return None

    def _pin_alive(self, path: Path, now: float) -> bool:
        pin = self._read_pin(path)
        if pin is None:
            return False
        return chunking.pin_alive(pin, now, instance=scratch.INSTANCE, held=scratch.is_held(path))

    def _pin_starts(self, now: float) -> list[float]:
        starts = []
        for path in self.pins.iterdir():
            pin = self._read_pin(path)
            if pin is not None and self._pin_alive(path, now):
                starts.append(pin.started)
        return starts

    def sweep(self) -> SweepResult:
        """Removes what dead backups and writers left: dead pins, unheld files in
        ``tmp/``; an unheld GC trash folder goes back into the store."""
        removed: list[Path] = []
        freed = 0
        now = time.time()

        def unlink(path: Path) -> None:
            nonlocal freed
            with contextlib.suppress(FileNotFoundError):
                freed += path.stat().st_blocks * 512
                path.unlink()
                removed.append(path)

        dead_pins = 0
        for path in list(self.pins.iterdir()):
            if not self._pin_alive(path, now) and scratch.remove_unheld(path, unlink):
                dead_pins += 1
        for path in list(self.tmp.iterdir()):
            if path.is_dir():
                scratch.remove_unheld(path, self._put_back)
            else:
                scratch.remove_unheld(path, unlink)
        if dead_pins:
            # The chunks a dead backup wrote that no manifest names.
            freed += self.gc().freed_bytes
        return SweepResult(removed, freed)

    def scratch_bytes(self) -> int:
        """Bytes on disk in ``tmp/`` (being written now, or left over)."""
        total = 0
        for dirpath, _dirs, files in os.walk(self.tmp):
            for name in files:
                with contextlib.suppress(FileNotFoundError):
                    total += os.stat(Path(dirpath, name)).st_blocks * 512
        return total

    def _manifests_for_gc(self) -> list[Manifest]:
        manifests = []
        for uuid in self.manifest_uuids():
            manifest = self.read_manifest(uuid)  # a damaged manifest stops GC (IntegrityError)
            if manifest is not None:
                manifests.append(manifest)
        return manifests


def require_manifest(store: ChunkStore, uuid: str) -> Manifest:
    manifest = store.read_manifest(uuid)
    if manifest is None:
        raise BackupDataMissing(f"backup {uuid} has no manifest on its backup storage")
    return manifest


class HttpChunkStore:
    """A store on another host, reached through that host's agent with a store ticket."""

    def __init__(
        self,
        base_url: str,
        *,
        root: str,
        expires: int,
        mode: str,
        ticket: str,
        timeout: float = 60.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._params = {"root": root, "expires": str(expires), "mode": mode, "ticket": ticket}
        self._timeout = httpx.Timeout(timeout, connect=5.0)
        self._local = threading.local()
        self._clients: list[httpx.Client] = []
        self._lock = threading.Lock()

    def _http(self) -> httpx.Client:
        client: httpx.Client | None = getattr(self._local, "client", None)
        if client is None:
            client = httpx.Client(base_url=self.base_url, timeout=self._timeout)
            self._local.client = client
            with self._lock:
                self._clients.append(client)
        return client

    def close(self) -> None:
        with self._lock:
            for client in self._clients:
                client.close()
            self._clients.clear()

    def _call(
        self, method: str, path: str, *, content: bytes | None = None, ok: tuple[int, ...] = ()
    ) -> httpx.Response:
        try:
            answer = self._http().request(
                method, CHUNK_STORE_PATH + path, params=self._params, content=content
            )
        except httpx.HTTPError as exc:
            raise AgentUnreachable(f"backup storage at {self.base_url}: {exc}") from exc
        if answer.is_error and answer.status_code not in ok:
            raise error_from_response(answer)
        return answer

    def keep_if_present(self, digest: str) -> bool:
        answer = self._call("POST", f"/chunks/{check_digest(digest)}/keep", ok=(404,))
        return answer.status_code != 404

    def put(self, digest: str, frame: bytes) -> None:
        self._call("PUT", f"/chunks/{check_digest(digest)}", content=frame)

    def get(self, digest: str) -> bytes:
        answer = self._call("GET", f"/chunks/{check_digest(digest)}", ok=(404,))
        if answer.status_code == 404:
            raise IntegrityError(f"chunk {digest} is missing from the backup storage")
        return answer.content

    def read_manifest(self, uuid: str) -> Manifest | None:
        answer = self._call("GET", f"/manifests/{check_uuid(uuid)}", ok=(404,))
        if answer.status_code == 404:
            return None
        try:
            return Manifest.from_json(answer.content)
        except ValueError as exc:
            raise IntegrityError(str(exc)) from exc

    def write_manifest(self, manifest: Manifest) -> None:
        self._call(
            "PUT", f"/manifests/{check_uuid(manifest.backup_uuid)}", content=manifest.to_json()
        )

    def pin(self, uuid: str) -> None:
        self._call("PUT", f"/pins/{check_uuid(uuid)}")

    def renew_pin(self, uuid: str) -> None:
        answer = self._call("POST", f"/pins/{check_uuid(uuid)}/renew", ok=(404,))
        if answer.status_code == 404:
            raise _lost_pin(uuid)

    def unpin(self, uuid: str) -> None:
        self._call("DELETE", f"/pins/{check_uuid(uuid)}")
