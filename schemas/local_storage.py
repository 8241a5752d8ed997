"""ZStack's local-storage resource refs: which host holds each volume and snapshot of a
local-storage pool (LocalStorageResourceRefVO), read from the volumes themselves.

Not a table: a volume's host is ``Volume.host_uuid`` (its snapshots are on the same
host), so the refs are a query over volumes and snapshots of local-storage pools,
mapped as a read-only class the query language can filter.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import literal, select, union_all

from schemas.infra import PrimaryStorage
from schemas.inventories import iso
from schemas.storage import Volume, VolumeSnapshot
from schemas.tables import Base

_LOCAL_POOLS = select(PrimaryStorage.uuid).where(PrimaryStorage.type == "local-storage")

_VOLUMES = select(
    Volume.uuid.label("resource_uuid"),
    Volume.primary_storage_uuid.label("primary_storage_uuid"),
    Volume.host_uuid.label("host_uuid"),
    Volume.size.label("size"),
    literal("VolumeVO").label("resource_type"),
    Volume.account_uuid.label("account_uuid"),
    Volume.create_date.label("create_date"),
    Volume.last_op_date.label("last_op_date"),
).where(Volume.host_uuid.is_not(None), Volume.primary_storage_uuid.in_(_LOCAL_POOLS))

_SNAPSHOTS = (
    select(
        VolumeSnapshot.uuid,
        VolumeSnapshot.primary_storage_uuid,
        Volume.host_uuid,
        VolumeSnapshot.size,
        literal("VolumeSnapshotVO"),
        VolumeSnapshot.account_uuid,
        VolumeSnapshot.create_date,
        VolumeSnapshot.last_op_date,
    )
    .join(Volume, Volume.uuid == VolumeSnapshot.volume_uuid)
    .where(Volume.host_uuid.is_not(None), Volume.primary_storage_uuid.in_(_LOCAL_POOLS))
)

_REFS = union_all(_VOLUMES, _SNAPSHOTS).subquery("local_storage_resource_refs")


class LocalStorageResourceRef(Base):
    __table__ = _REFS
    __mapper_args__ = {"primary_key": [_REFS.c.resource_uuid]}
    __tenant_owner__ = "account_uuid"  # volplane.tenancy: a tenant sees its own volumes' refs

    if TYPE_CHECKING:
        resource_uuid: Any
        primary_storage_uuid: Any
        host_uuid: Any
        size: Any
        resource_type: Any
        account_uuid: Any
        create_date: Any
        last_op_date: Any


def resource_ref_inventory(ref: Any) -> dict[str, Any]:
    """A ref as ZStack's LocalStorageResourceRefInventory (a row of the refs, or a
    volume: its own ref)."""
    if isinstance(ref, Volume):
        return {
            "resourceUuid": ref.uuid,
            "primaryStorageUuid": ref.primary_storage_uuid,
            "hostUuid": ref.host_uuid,
            "size": ref.size,
            "resourceType": "VolumeVO",
            "createDate": iso(ref.create_date),
            "lastOpDate": iso(ref.last_op_date),
        }
    created: datetime | None = ref.create_date
    changed: datetime | None = ref.last_op_date
    return {
        "resourceUuid": ref.resource_uuid,
        "primaryStorageUuid": ref.primary_storage_uuid,
        "hostUuid": ref.host_uuid,
        "size": ref.size,
        "resourceType": ref.resource_type,
        "createDate": iso(created),
        "lastOpDate": iso(changed),
    }
