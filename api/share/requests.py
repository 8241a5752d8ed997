"""Request bodies of the share-storage dialect, as the seeds name and type them.

Fields marked required (是) in the seeds are required here; unknown fields are
ignored, since the seeds' own examples send fields their tables do not list
(``pool_name`` on volume create, ``ip`` on set/global/config). Uuids are accepted
in the seeds' dashed form or volplane's 32 hex digits and become the latter; an
empty string in an optional uuid filter means "no filter", as in the seeds.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
)
from starlette.requests import Request

from api.body import read_json
from api.submit import validation_error
from volplane.sizes import volume_size

_UUID = re.compile(r"^[0-9a-f]{32}$")


def normalize_uuid(value: Any) -> Any:
    """``a97eb422-f42b-4b85-8556-725f152661f0`` → ``a97eb422f42b4b858556725f152661f0``."""
    if isinstance(value, str):
        compact = value.strip().replace("-", "").lower()
        if _UUID.match(compact):
            return compact
    return value


def _empty_is_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return normalize_uuid(value)


# What ``normalize_uuid`` turns into 32 hex digits: the schema says so (pydantic
# cannot see through the normalizing validator).
UUID_ACCEPTED = r"^\s*(-*[0-9a-fA-F]){32}-*\s*$"
Uuid = Annotated[
    str,
    BeforeValidator(normalize_uuid),
    StringConstraints(pattern=r"^[0-9a-f]{32}$"),
    WithJsonSchema({"type": "string", "pattern": UUID_ACCEPTED}),
]
OptionalUuid = Annotated[Uuid | None, BeforeValidator(_empty_is_none)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=255, strip_whitespace=True)]
Text = Annotated[str, StringConstraints(max_length=2048)]
PageNumber = Annotated[int, Field(ge=0, le=1_000_000)]
PageSize = Annotated[int, Field(ge=0, le=1000)]
Bytes = Annotated[int, Field(ge=0)]
# A volume's size: rounded up to a whole sector, as in every dialect (volplane.sizes).
VolumeBytes = Annotated[int, Field(ge=0), AfterValidator(volume_size)]
Threshold = Annotated[float, Field(gt=0, le=100)]


class ShareRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Paged(ShareRequest):
    page_num: PageNumber = 0
    page_size: PageSize = 0


# --- pools (seed 000) -------------------------------------------------------------


class PoolList(Paged):
    cluster_uuid: Uuid
    tenant: OptionalUuid = None
    filter_name: str = ""


class PoolGet(ShareRequest):
    cluster_uuid: Uuid
    tenant: Uuid
    pool_uuid: Uuid


class PoolCreate(ShareRequest):
    cluster_uuid: Uuid
    pool_name: Name
    pool_type: int
    zone_uuid: Uuid
    ip: str
    port: str = ""
    source: str = ""
    username: str = ""
    password: str = ""
    limit_host: bool = False
    avail_host: list[Uuid] = Field(default_factory=list, max_length=1000)
    avail_tenant: list[Uuid] = Field(default_factory=list, max_length=1000)
    attr: dict[str, str | float | int]


class PoolDelete(ShareRequest):
    tenant: Uuid
    pool_uuid: Uuid
    pool_name: str
    cluster_uuid: Uuid


class PoolSet(ShareRequest):
    tenant: Uuid
    pool_uuid: Uuid
    pool_name: Name
    cluster_uuid: Uuid
    attr: dict[str, str | float | int]


class PoolStatusCheck(ShareRequest):
    tenant: Uuid
    pool_uuid: Uuid
    cluster_uuid: Uuid


class ClusterRef(ShareRequest):
    cluster_uuid: Uuid


class FcDeviceList(ShareRequest):
    cluster_uuid: Uuid
    zone_uuid: Uuid


# --- clusters (seed 003) ----------------------------------------------------------


class ClusterAdd(ShareRequest):
    """``zone_uuid`` is volplane's addition: a cluster lives in a zone. Without it the
    only zone is used."""

    ip: Annotated[str, StringConstraints(min_length=1, max_length=255, strip_whitespace=True)]
    name: Name
    desc: Text = ""
    zone_uuid: OptionalUuid = None


class ClusterDelete(ShareRequest):
    cluster_uuid: Uuid
    force: bool = False


class ClusterList(Paged):
    filter_name: str = ""
    filter_uuid: OptionalUuid = None


class Inspection(ShareRequest):
    cluster_uuid: Uuid
    cluster_name: str
    check_system: bool = False
    check_network: bool = False
    check_hardware: bool = False


class InspectionStop(ShareRequest):
    cluster_uuid: Uuid
    cluster_name: str


class HostTaskProgress(ShareRequest):
    """``host_uuid`` is required by the seed's table but missing from its example;
    without it, the latest task on any host of the cluster answers."""

    cluster_uuid: Uuid
    host_uuid: OptionalUuid = None


class GlobalConfigSet(ShareRequest):
    """The seed's example sends ``ip`` and two of the four thresholds, no cluster:
    without ``cluster_uuid`` the values apply to every cluster."""

    cluster_uuid: OptionalUuid = None
    StorOverAllocationThreshold: Threshold | None = None
    CPUOverAllocationThreshold: Threshold | None = None
    MemOverAllocationThreshold: Threshold | None = None
    USDOverAllocationThreshold: Threshold | None = None


class DataSnapshotSave(ShareRequest):
    cluster_uuid: Uuid
    ip: str


class DataSnapshotDelete(ShareRequest):
    cluster_uuid: Uuid
    ip: str
    file_name: Annotated[str, StringConstraints(min_length=1, max_length=255)]


class DataSnapshotList(ShareRequest):
    cluster_uuid: Uuid
    ip: str
    file_name: str = ""


# --- volumes (seed 001) -----------------------------------------------------------


class VolumeList(Paged):
    cluster_uuid: Uuid
    tenant: Uuid
    filter_pool_uuid: OptionalUuid = None
    filter_name: str = ""


class VolumeCreate(ShareRequest):
    cluster_uuid: Uuid
    tenant: Uuid
    pool_uuid: Uuid
    volume_name: Name
    volume_type: Literal["block", "share", "fs"]
    capacity: VolumeBytes | None = None
    snap_capacity: Bytes
    backing_file: str = ""
    desc: Text = ""


class VolumeRef(ShareRequest):
    volume_uuid: Uuid
    tenant: Uuid
    cluster_uuid: Uuid


class VolumeNamedRef(VolumeRef):
    volume_name: str


class VolumeDelete(VolumeNamedRef):
    force: bool = False


class VolumeClone(ShareRequest):
    volume_uuid: Uuid
    volume_name: str
    cluster_uuid: Uuid
    clone_dst_vol_name: Name
    clone_dst_vol_tenant: Uuid
    clone_dst_pool_uuid: Uuid
    is_link: bool
    snapshot_uuid: Uuid


class BackupAdd(ShareRequest):
    volume_uuid: Uuid
    cluster_uuid: Uuid
    backup_name: Name
    backup_point_uuid: Uuid
    snapshot_uuid: Uuid
    desc: Text = ""


class BackupDelete(ShareRequest):
    tenant: Uuid
    cluster_uuid: Uuid
    backup_uuid: Uuid


class BackupRestore(ShareRequest):
    new_volume_tenant: Uuid
    cluster_uuid: Uuid
    backup_uuid: Uuid
    new_volume_name: Name
    new_pool_uuid: Uuid


class BackupList(Paged):
    """Times are unix seconds, as in the seed's example."""

    cluster_uuid: Uuid
    tenant: OptionalUuid = None
    filter_desc: str = ""
    filter_name: str = ""
    filter_start_time: int | None = None
    filter_end_time: int | None = None
    filter_volume_uuid: OptionalUuid = None


class SnapshotCreate(ShareRequest):
    tenant: Uuid
    cluster_uuid: Uuid
    volume_uuid: Uuid
    snapshot_name: Name
    desc: Text = ""


class SnapshotRef(ShareRequest):
    tenant: Uuid
    cluster_uuid: Uuid
    volume_uuid: Uuid
    snapshot_uuid: Uuid


class SnapshotDelete(SnapshotRef):
    snapshot_name: str


ModelT = TypeVar("ModelT", bound=ShareRequest)


def parse(model: type[ModelT], data: dict[str, Any]) -> ModelT:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from exc


async def read_request(request: Request, model: type[ModelT]) -> ModelT:
    """A POST's JSON body, or a GET's query string (and JSON body, which some seed
    examples send with GET; the query string wins) as ``model``."""
    if request.method == "GET":
        data: dict[str, Any] = await read_json(request, required=False)
        # A query string carries text only; an empty value means "not given".
        data.update((key, value) for key, value in request.query_params.items() if value != "")
    else:
        data = await read_json(request)
    return parse(model, data)
