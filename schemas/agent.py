"""Messages between workers and host agents.

Both sides validate with these models, so the wire format is defined once. Fields
travel in camelCase (``opId``, ``backingFile``) but snake_case is accepted too.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

OP_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class AgentModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)

    def wire(self) -> dict[str, Any]:
        """The JSON-ready form sent over HTTP."""
        return self.model_dump(mode="json", by_alias=True)


# --- operations ------------------------------------------------------------


class OperationState(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self is not OperationState.RUNNING


class StartOperation(AgentModel):
    """Body of ``PUT /v1/operations/{op_id}``."""

    command: str
    args: dict[str, Any] = Field(default_factory=dict)
    # Unix time after which the sender no longer waits for this answer: a start that
    # reaches the agent later (it was hung, the request waited in its socket) is refused,
    # so no work is done for a job that already gave up and undid what it made.
    not_after: float | None = None


# Clocks of the control plane and the hosts may differ by this much.
CLOCK_SKEW_SECONDS = 10.0


class OperationRecord(AgentModel):
    """What the agent answers about one operation, running or finished."""

    op_id: str
    command: str
    args: dict[str, Any] = Field(default_factory=dict)
    state: OperationState
    progress: int | None = None
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


# --- command arguments -----------------------------------------------------


class PoolConnectArgs(AgentModel):
    root: str
    create: bool = False


class PoolArgs(AgentModel):
    root: str


class LocateArgs(AgentModel):
    """A path a caller supplied, to be looked for inside the pool ``root``."""

    root: str
    path: str


class LocatedImage(AgentModel):
    """Where a path really leads inside a pool (symbolic links followed): the file's
    name relative to the pool's root, then its backing files' names (None for one
    outside the pool). ``names`` is empty when no regular file is there."""

    names: list[str | None] = Field(default_factory=list)


class VolumeCreateArgs(AgentModel):
    path: str
    size: int | None = Field(default=None, gt=0)
    backing_file: str | None = None

    @field_validator("backing_file")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None


class DiskConnectArgs(AgentModel):
    """Make ``device`` a pool: a filesystem is made if it is empty, then it is mounted
    at ``<data dir>/mounts/<name>``. ``force`` overwrites data of unknown origin."""

    device: str
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
    force: bool = False


class MountArgs(AgentModel):
    """Mount a network share (``nfs``: ``server:/export``; ``samba``: ``//server/share``)
    at ``<data dir>/mounts/<name>`` and make it a pool."""

    kind: str = Field(pattern=r"^(nfs|samba)$")
    source: str
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
    options: list[str] = Field(default_factory=list)
    password: str | None = None  # samba: the share's password (username is an option)


class PathArgs(AgentModel):
    path: str


class VolumeResizeArgs(AgentModel):
    path: str
    size: int = Field(gt=0)


class OverlayArgs(AgentModel):
    path: str
    backing: str


class RebaseArgs(AgentModel):
    path: str
    backing: str
    unsafe: bool = False


class ConvertArgs(AgentModel):
    src: str
    dst: str
    compress: bool = False
    rate_limit: int | None = Field(default=None, gt=0, description="Bytes per second.")


# --- command results -------------------------------------------------------


class PoolCapacity(AgentModel):
    """The pool's filesystem as ``statvfs`` sees it; ``scratch_bytes`` of what it holds
    are temporaries (copies being written, or left by a killed operation until the
    agent's sweep removes them)."""

    root: str
    total_bytes: int
    available_bytes: int
    scratch_bytes: int = 0


class PoolFile(AgentModel):
    name: str
    size: int


class ImageInfo(AgentModel):
    """The part of ``qemu-img info`` the control plane uses."""

    path: str
    format: str
    virtual_size: int
    actual_size: int | None = None
    backing_file: str | None = None
    backing_format: str | None = None
    cluster_size: int | None = None
    dirty: bool = False


class Extent(AgentModel):
    """One run of ``qemu-img map``: ``data`` means allocated, readable bytes."""

    start: int
    length: int
    data: bool
    zero: bool
    depth: int = 0


class ImageMap(AgentModel):
    path: str
    extents: list[Extent]


class Checksum(AgentModel):
    path: str
    algorithm: str
    digest: str


# --- facts -----------------------------------------------------------------


class Health(AgentModel):
    status: str
    version: str
    release: str | None = None  # the deployed release (drivers/release.py), if deployed
    qemu_img: bool = Field(
        default=True, description="qemu-img is installed; a host without it takes no work."
    )


class BlockDevice(AgentModel):
    name: str
    path: str
    size_bytes: int
    by_id: list[str] = Field(default_factory=list)


class HostFacts(AgentModel):
    hostname: str
    data_dir: str
    data_dir_total_bytes: int
    data_dir_available_bytes: int
    block_devices: list[BlockDevice]
    qemu_img: str | None = Field(default=None, description="qemu-img version, None if absent.")
    pool_types: list[str] = Field(
        default_factory=list, description="Pool drivers this host can run (local-storage, ...)."
    )
    unsupported_pool_types: dict[str, str] = Field(
        default_factory=dict, description="Pool drivers this host cannot run, with the reason."
    )


class PoolFiles(AgentModel):
    root: str
    files: list[PoolFile]


class PoolDisconnected(AgentModel):
    root: str
    was_connected: bool


class ImageChain(AgentModel):
    """An image first, then its backing files down to the base."""

    images: list[ImageInfo]


class VolumeDeleted(AgentModel):
    path: str
    existed: bool


# --- volumes area: renames and cross-host copies ----------------------------


class RenameArgs(AgentModel):
    """Move an image within the pools; repeated after it happened, it answers the same."""

    src: str
    dst: str


class PullArgs(AgentModel):
    """Fetch an image that another agent exports (``url`` carries its ticket) into ``dst``."""

    url: str
    dst: str
    # Moving a snapshot chain host to host: the image may sit on a backing file,
    # which must already be on this host at the path it names.
    keep_backing: bool = False


EXPORT_PATH = "/v1/exports"


def export_ticket(token: str, path: str, expires: int) -> str:
    """What lets another agent read one exported file until ``expires`` (unix seconds)
    without knowing this agent's token: an HMAC of the path and expiry under the token."""
    message = f"export\n{path}\n{expires}".encode()
    return hmac.new(token.encode(), message, hashlib.sha256).hexdigest()


# --- manageable images (adopting existing files; ``drivers/discovery.py``) --------


class OwnedImage(AgentModel):
    """A file a volume owns: its ``head``, a ``snapshot`` image, or its ``base``."""

    path: str
    volume_uuid: str
    role: str = Field(default="head", pattern=r"^(head|snapshot|base)$")


class DiscoverArgs(AgentModel):
    """List the pool's files that could become volumes; ``names`` (relative to the
    root) limits the answer to those files."""

    root: str
    owned: list[OwnedImage] = Field(default_factory=list)
    names: list[str] | None = None


class NotSafeReason(AgentModel):
    code: str  # already-managed, in-use, corrupt, ... (drivers/discovery.py)
    message: str


class ManageableImage(AgentModel):
    name: str  # relative to the pool root
    path: str
    format: str | None = None
    virtual_size: int | None = None
    actual_size: int | None = None
    file_size: int = 0
    backing_file: str | None = None
    safe_to_manage: bool
    reasons: list[NotSafeReason] = Field(default_factory=list)
    volume_uuid: str | None = None  # the volume that owns it


class ManageableImages(AgentModel):
    root: str
    images: list[ManageableImage]


# --- backups: chunk stores on backup storage ---------------------------------

CHUNK_STORE_PATH = "/v1/chunk-store"
CHUNK_SIZE_DEFAULT = 4 << 20


def chunk_store_ticket(token: str, root: str, expires: int, mode: str) -> str:
    """What lets another agent use one chunk store (``mode`` "r" or "rw") until
    ``expires`` without knowing this agent's token."""
    message = f"chunk-store\n{root}\n{expires}\n{mode}".encode()
    return hmac.new(token.encode(), message, hashlib.sha256).hexdigest()


class ChunkStoreRef(AgentModel):
    """A chunk store: a directory on this agent's host, or (``url`` set) on the host of
    the agent at ``url``, used with a ticket from ``chunk_store_ticket``."""

    root: str
    url: str | None = None
    expires: int | None = None
    mode: str = Field(default="r", pattern=r"^(r|rw)$")
    ticket: str | None = None


class BackupCreateArgs(AgentModel):
    src: str
    backup_uuid: str = Field(pattern=r"^[A-Za-z0-9-]{1,64}$")
    store: ChunkStoreRef
    base_uuid: str | None = Field(default=None, pattern=r"^[A-Za-z0-9-]{1,64}$")
    chunk_size: int = Field(default=CHUNK_SIZE_DEFAULT, ge=64 * 1024, le=64 << 20)
    level: int = Field(default=3, ge=1, le=19, description="zstd compression level")


class BackupCreated(AgentModel):
    backup_uuid: str
    base_uuid: str | None
    virtual_size: int
    data_bytes: int = Field(description="Bytes the backup's chunks cover (zeros excluded).")
    chunk_count: int
    read_bytes: int = Field(description="Allocated bytes read from the image.")
    new_chunks: int
    new_stored_bytes: int = Field(description="Compressed bytes this backup added.")
    reused_chunks: int = Field(description="Chunks kept from the base without reading.")
    checksum: str


class BackupRestoreArgs(AgentModel):
    backup_uuid: str = Field(pattern=r"^[A-Za-z0-9-]{1,64}$")
    store: ChunkStoreRef
    dst: str


class BackupDeleteArgs(AgentModel):
    root: str
    backup_uuid: str = Field(pattern=r"^[A-Za-z0-9-]{1,64}$")
    grace_seconds: float = Field(default=0.0, ge=0)


class StoreGcArgs(AgentModel):
    root: str
    grace_seconds: float = Field(default=0.0, ge=0)


class StoreUsage(AgentModel):
    root: str
    stored_bytes: int = Field(description="Chunks and manifests, as stored (compressed).")
    chunk_count: int
    manifest_count: int
    total_bytes: int
    available_bytes: int


class StoreGcResult(AgentModel):
    removed_chunks: int
    freed_bytes: int
    kept_by_pins: int
    manifest_existed: bool | None = None
    usage: StoreUsage
