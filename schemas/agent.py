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
    root: str
    total_bytes: int
    available_bytes: int


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


EXPORT_PATH = "/v1/exports"


def export_ticket(token: str, path: str, expires: int) -> str:
    """What lets another agent read one exported file until ``expires`` (unix seconds)
    without knowing this agent's token: an HMAC of the path and expiry under the token."""
    message = f"export\n{path}\n{expires}".encode()
    return hmac.new(token.encode(), message, hashlib.sha256).hexdigest()
