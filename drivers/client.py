"""``AgentClient``: the one way workers talk to a host agent.

Synchronous (Celery tasks are). httpx errors are translated here, at the edge:
connection failures become ``AgentUnreachable``, timeouts ``AgentTimeout``, a 401
``AgentAuthFailed``, and an error the agent reports becomes the error class of its code.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

import httpx

from schemas.agent import (
    EXPORT_PATH,
    OP_ID_PATTERN,
    BackupCreateArgs,
    BackupCreated,
    BackupDeleteArgs,
    BackupRestoreArgs,
    ChunkStoreRef,
    ConvertArgs,
    DiscoverArgs,
    Health,
    HostFacts,
    ImageChain,
    ImageInfo,
    ImageMap,
    LocateArgs,
    LocatedImage,
    ManageableImages,
    OperationRecord,
    OperationState,
    OverlayArgs,
    OwnedImage,
    PathArgs,
    PoolArgs,
    PoolCapacity,
    PoolConnectArgs,
    PoolDisconnected,
    PoolFiles,
    PullArgs,
    RebaseArgs,
    RenameArgs,
    StartOperation,
    StoreGcResult,
    StoreUsage,
    VolumeCreateArgs,
    VolumeDeleted,
    VolumeResizeArgs,
    chunk_store_ticket,
    export_ticket,
)
from volplane.errors import (
    AgentAuthFailed,
    AgentError,
    AgentTimeout,
    AgentUnreachable,
    InvalidParameter,
    JobCancelled,
    ResourceNotFound,
    VolplaneError,
)

ProgressCallback = Callable[[int], None]
CancelCheck = Callable[[], bool]


def new_op_id() -> str:
    """For read-only commands, where repeating the work is harmless."""
    return uuid.uuid4().hex


def operation_path(op_id: str) -> str:
    # Checked here too: an id like "../x" would otherwise address another URL.
    if not OP_ID_PATTERN.match(op_id):
        raise InvalidParameter(f"invalid operation id {op_id!r}")
    return f"/v1/operations/{op_id}"


def error_from_response(response: httpx.Response) -> VolplaneError:
    """The error an agent's non-2xx answer stands for."""
    if response.status_code == 401:
        return AgentAuthFailed(f"agent at {response.request.url.host} refused the token")
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return VolplaneError.from_body(body)
    return AgentError(f"agent answered HTTP {response.status_code}: {response.text[:500]}")


def raise_for_record(record: OperationRecord) -> dict[str, Any]:
    """The result of a finished operation, or the error it ended with."""
    if record.state is OperationState.SUCCEEDED:
        return record.result or {}
    if record.state is OperationState.CANCELLED:
        raise JobCancelled(f"agent operation {record.op_id} was cancelled")
    if record.error is not None:
        raise VolplaneError.from_body(record.error)
    raise AgentError(f"agent operation {record.op_id} ended {record.state.value} without error")


@contextmanager
def _mapped_errors(base_url: str) -> Iterator[None]:
    try:
        yield
    except httpx.ConnectTimeout as exc:
        raise AgentUnreachable(f"agent at {base_url} cannot be reached: {exc}") from exc
    except httpx.TimeoutException as exc:
        raise AgentTimeout(f"agent at {base_url} did not answer in time: {exc}") from exc
    except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.NetworkError) as exc:
        raise AgentUnreachable(f"agent at {base_url} cannot be reached: {exc}") from exc
    except httpx.HTTPError as exc:
        raise AgentError(f"talking to agent at {base_url} failed: {exc}") from exc


class AgentClient:
    """A typed client for one agent. Use as a context manager or call ``close()``.

    ``poll_seconds`` is how long each long-poll may wait on the agent; the read
    timeout always leaves room for it. ``progress_seconds`` is how often, at most, a
    running operation's progress is fetched for ``on_progress``; its end is always
    answered at once.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        connect_timeout: float = 3.0,
        read_timeout: float = 30.0,
        poll_seconds: float = 10.0,
        progress_seconds: float = 0.25,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.poll_seconds = poll_seconds
        self.progress_seconds = progress_seconds
        self._read_timeout = read_timeout
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AgentClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- raw protocol -------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        wait: float = 0.0,
        progress_every: float = 0.0,
        json: Any = None,
    ) -> dict[str, Any]:
        params = {"waitSeconds": f"{wait:g}"} if wait else {}
        if wait and progress_every:
            params["progressSeconds"] = f"{progress_every:g}"
        timeout = httpx.Timeout(self._read_timeout + wait, connect=self._http.timeout.connect)
        with _mapped_errors(self.base_url):
            response = self._http.request(method, path, params=params, json=json, timeout=timeout)
        if response.is_error:
            raise error_from_response(response)
        body: dict[str, Any] = response.json()
        return body

    def health(self) -> Health:
        return Health.model_validate(self._request("GET", "/v1/health"))

    def facts(self) -> HostFacts:
        return HostFacts.model_validate(self._request("GET", "/v1/facts"))

    def start(
        self, op_id: str, command: str, args: dict[str, Any], *, wait: float = 0.0
    ) -> OperationRecord:
        # The request's own timeout: after it, this client has given up on the answer.
        not_after = time.time() + self._read_timeout + wait
        body = StartOperation(command=command, args=args, not_after=not_after).wire()
        answer = self._request("PUT", operation_path(op_id), json=body, wait=wait)
        return OperationRecord.model_validate(answer)

    def operation(
        self, op_id: str, *, wait: float = 0.0, progress_every: float = 0.0
    ) -> OperationRecord:
        """The operation's record; with ``wait``, once it changes or ends. With
        ``progress_every`` a progress change answers no sooner than that."""
        path = operation_path(op_id)
        answer = self._request("GET", path, wait=wait, progress_every=progress_every)
        return OperationRecord.model_validate(answer)

    def cancel(self, op_id: str) -> OperationRecord:
        answer = self._request("POST", operation_path(op_id) + "/cancel")
        return OperationRecord.model_validate(answer)

    def run(
        self,
        op_id: str,
        command: str,
        args: dict[str, Any],
        *,
        on_progress: ProgressCallback | None = None,
        should_cancel: CancelCheck | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Starts (or re-attaches to) an operation and waits for its result.

        Raises the operation's error, ``JobCancelled`` if it was cancelled, or
        ``AgentTimeout`` if it has not ended within ``timeout`` seconds.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        # With a cancel check the poll must come back often enough to act on it.
        poll = min(self.poll_seconds, 1.0) if should_cancel is not None else self.poll_seconds
        record = self.start(op_id, command, args, wait=min(poll, 1.0))
        last_progress: int | None = None
        cancel_sent = False
        while True:
            if on_progress is not None and record.progress not in (None, last_progress):
                last_progress = record.progress
                on_progress(record.progress)
            if record.state.finished:
                return raise_for_record(record)
            if not cancel_sent and should_cancel is not None and should_cancel():
                self.cancel(op_id)
                cancel_sent = True
            wait = poll
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AgentTimeout(f"agent operation {op_id} ({command}) did not end in time")
                wait = min(wait, left)
            # Without a progress callback only the end is worth an answer.
            every = self.progress_seconds if on_progress is not None else wait
            try:
                record = self.operation(op_id, wait=wait, progress_every=every)
            except ResourceNotFound:
                # The agent restarted and lost the unfinished operation: start it again.
                record = self.start(op_id, command, args)

    # --- typed commands -------------------------------------------------------

    def connect_pool(
        self, root: str, *, create: bool = False, op_id: str | None = None
    ) -> PoolCapacity:
        args = PoolConnectArgs(root=root, create=create).wire()
        return PoolCapacity.model_validate(self.run(op_id or new_op_id(), "pool.connect", args))

    def pool_capacity(self, root: str, *, op_id: str | None = None) -> PoolCapacity:
        result = self.run(op_id or new_op_id(), "pool.capacity", PoolArgs(root=root).wire())
        return PoolCapacity.model_validate(result)

    def pool_files(self, root: str, *, op_id: str | None = None) -> PoolFiles:
        result = self.run(op_id or new_op_id(), "pool.files", PoolArgs(root=root).wire())
        return PoolFiles.model_validate(result)

    def disconnect_pool(self, root: str, *, op_id: str | None = None) -> PoolDisconnected:
        result = self.run(op_id or new_op_id(), "pool.disconnect", PoolArgs(root=root).wire())
        return PoolDisconnected.model_validate(result)

    def create_volume(
        self, op_id: str, path: str, *, size: int | None = None, backing_file: str | None = None
    ) -> ImageInfo:
        args = VolumeCreateArgs(path=path, size=size, backing_file=backing_file).wire()
        return ImageInfo.model_validate(self.run(op_id, "volume.create", args))

    def volume_info(self, path: str, *, op_id: str | None = None) -> ImageInfo:
        result = self.run(op_id or new_op_id(), "volume.info", PathArgs(path=path).wire())
        return ImageInfo.model_validate(result)

    def delete_volume(self, op_id: str, path: str) -> VolumeDeleted:
        result = self.run(op_id, "volume.delete", PathArgs(path=path).wire())
        return VolumeDeleted.model_validate(result)

    def resize_volume(self, op_id: str, path: str, size: int) -> ImageInfo:
        args = VolumeResizeArgs(path=path, size=size).wire()
        return ImageInfo.model_validate(self.run(op_id, "volume.resize", args))

    def create_overlay(self, op_id: str, path: str, backing: str) -> ImageInfo:
        args = OverlayArgs(path=path, backing=backing).wire()
        return ImageInfo.model_validate(self.run(op_id, "image.overlay", args))

    def commit_image(self, op_id: str, path: str) -> ImageInfo:
        result = self.run(op_id, "image.commit", PathArgs(path=path).wire())
        return ImageInfo.model_validate(result)

    def rebase_image(
        self, op_id: str, path: str, backing: str, *, unsafe: bool = False
    ) -> ImageInfo:
        """An empty ``backing`` flattens the image."""
        args = RebaseArgs(path=path, backing=backing, unsafe=unsafe).wire()
        return ImageInfo.model_validate(self.run(op_id, "image.rebase", args))

    def convert_image(
        self,
        op_id: str,
        src: str,
        dst: str,
        *,
        compress: bool = False,
        rate_limit: int | None = None,
        on_progress: ProgressCallback | None = None,
        should_cancel: CancelCheck | None = None,
        timeout: float | None = None,
    ) -> ImageInfo:
        args = ConvertArgs(src=src, dst=dst, compress=compress, rate_limit=rate_limit).wire()
        result = self.run(
            op_id,
            "image.convert",
            args,
            on_progress=on_progress,
            should_cancel=should_cancel,
            timeout=timeout,
        )
        return ImageInfo.model_validate(result)

    def map_image(self, path: str, *, op_id: str | None = None) -> ImageMap:
        result = self.run(op_id or new_op_id(), "image.map", PathArgs(path=path).wire())
        return ImageMap.model_validate(result)

    def locate_image(self, root: str, path: str, *, op_id: str | None = None) -> LocatedImage:
        """Where ``path`` really leads inside the pool ``root``, with its backing chain."""
        result = self.run(
            op_id or new_op_id(), "image.locate", LocateArgs(root=root, path=path).wire()
        )
        return LocatedImage.model_validate(result)

    def image_chain(self, path: str, *, op_id: str | None = None) -> ImageChain:
        result = self.run(op_id or new_op_id(), "image.chain", PathArgs(path=path).wire())
        return ImageChain.model_validate(result)

    # --- volumes area: renames and cross-host copies ---------------------------

    def rename_image(self, op_id: str, src: str, dst: str) -> ImageInfo:
        args = RenameArgs(src=src, dst=dst).wire()
        return ImageInfo.model_validate(self.run(op_id, "image.rename", args))

    def export_url(self, path: str, *, expires: int) -> str:
        """A URL another agent may GET ``path`` from (for ``pull_image``) until ``expires``
        (unix seconds). Deterministic, so a rerun of a job sends the same pull again."""
        ticket = export_ticket(self._token, path, expires)
        query = urlencode({"path": path, "expires": expires, "ticket": ticket})
        return f"{self.base_url}{EXPORT_PATH}?{query}"

    def pull_image(
        self,
        op_id: str,
        url: str,
        dst: str,
        *,
        keep_backing: bool = False,
        on_progress: ProgressCallback | None = None,
        should_cancel: CancelCheck | None = None,
    ) -> ImageInfo:
        """This agent fetches the image another agent exports at ``url`` into ``dst``
        (``keep_backing``: an image of a chain whose backing file is already here)."""
        args = PullArgs(url=url, dst=dst, keep_backing=keep_backing).wire()
        result = self.run(
            op_id, "image.pull", args, on_progress=on_progress, should_cancel=should_cancel
        )
        return ImageInfo.model_validate(result)

    # --- manageable images ------------------------------------------------------

    def manageable_images(
        self,
        root: str,
        owned: list[OwnedImage],
        *,
        names: list[str] | None = None,
        op_id: str | None = None,
    ) -> ManageableImages:
        """The pool's files that volumes do not own, judged safe to manage or not."""
        args = DiscoverArgs(root=root, owned=owned, names=names).wire()
        result = self.run(op_id or new_op_id(), "pool.manageable", args)
        return ManageableImages.model_validate(result)

    # --- backups: chunk stores on backup storage --------------------------------

    def chunk_store_ref(self, root: str, *, expires: int, mode: str = "r") -> ChunkStoreRef:
        """How another agent reaches the chunk store at ``root`` on this agent's host
        (``mode`` "r" to restore, "rw" to back up) until ``expires`` (unix seconds)."""
        ticket = chunk_store_ticket(self._token, root, expires, mode)
        return ChunkStoreRef(
            root=root, url=self.base_url, expires=expires, mode=mode, ticket=ticket
        )

    def create_backup(
        self,
        op_id: str,
        src: str,
        backup_uuid: str,
        store: ChunkStoreRef,
        *,
        base_uuid: str | None = None,
        on_progress: ProgressCallback | None = None,
        should_cancel: CancelCheck | None = None,
    ) -> BackupCreated:
        """Backs the image at ``src`` up into ``store``; with ``base_uuid`` incrementally."""
        args = BackupCreateArgs(
            src=src, backup_uuid=backup_uuid, store=store, base_uuid=base_uuid
        ).wire()
        result = self.run(
            op_id, "backup.create", args, on_progress=on_progress, should_cancel=should_cancel
        )
        return BackupCreated.model_validate(result)

    def restore_backup(
        self,
        op_id: str,
        backup_uuid: str,
        store: ChunkStoreRef,
        dst: str,
        *,
        on_progress: ProgressCallback | None = None,
        should_cancel: CancelCheck | None = None,
    ) -> ImageInfo:
        """Writes the backup into a new image at ``dst``, every chunk verified."""
        args = BackupRestoreArgs(backup_uuid=backup_uuid, store=store, dst=dst).wire()
        result = self.run(
            op_id, "backup.restore", args, on_progress=on_progress, should_cancel=should_cancel
        )
        return ImageInfo.model_validate(result)

    def delete_backup(
        self, op_id: str, root: str, backup_uuid: str, *, grace_seconds: float = 0.0
    ) -> StoreGcResult:
        args = BackupDeleteArgs(
            root=root, backup_uuid=backup_uuid, grace_seconds=grace_seconds
        ).wire()
        return StoreGcResult.model_validate(self.run(op_id, "backup.delete", args))

    def store_usage(self, root: str, *, op_id: str | None = None) -> StoreUsage:
        result = self.run(op_id or new_op_id(), "store.usage", PoolArgs(root=root).wire())
        return StoreUsage.model_validate(result)


class AgentClients:
    """Agent clients cached per (agent, token): one connection pool each."""

    def __init__(self) -> None:
        self._clients: dict[tuple[str, str], AgentClient] = {}

    def __call__(self, base_url: str, token: str) -> AgentClient:
        key = (base_url, token)
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = AgentClient(base_url, token)
        return client
