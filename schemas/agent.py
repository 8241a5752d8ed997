"""Messages between workers and host agents.

Both sides validate with these models, so the wire format is defined once. Fields
travel in camelCase (``opId``, ``backingFile``) but snake_case is accepted too.
"""

from __future__ import annotations

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
