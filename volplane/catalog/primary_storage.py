"""Primary storage operations, declared: ``workers/operations/primary_storage.py`` runs them."""

from __future__ import annotations

from schemas import infra_requests as rq
from schemas.requests import DeleteResource
from volplane.operation import Operation


def _on_host(req: rq.AddPrimaryStorage, resource_uuid: str | None) -> str:
    # Pools of one host are created one at a time, so two of the same URL cannot race.
    if req.hostUuid is not None:
        return f"Host:{req.hostUuid}"
    return f"PrimaryStorage:zone:{req.zoneUuid}"


def _on_pool(req: rq.AttachPrimaryStorage, resource_uuid: str | None) -> str:
    return f"PrimaryStorage:{req.primaryStorageUuid}"


ADD_PRIMARY_STORAGE = Operation(
    "AddPrimaryStorage", rq.AddPrimaryStorage, "PrimaryStorage", admin_only=True, sync_key=_on_host
)
ATTACH_PRIMARY_STORAGE_TO_CLUSTER = Operation(
    "AttachPrimaryStorageToCluster",
    rq.AttachPrimaryStorage,
    "PrimaryStorage",
    admin_only=True,
    sync_key=_on_pool,
)
DETACH_PRIMARY_STORAGE_FROM_CLUSTER = Operation(
    "DetachPrimaryStorageFromCluster",
    rq.AttachPrimaryStorage,
    "PrimaryStorage",
    admin_only=True,
    sync_key=_on_pool,
)
RECONNECT_PRIMARY_STORAGE = Operation(
    "ReconnectPrimaryStorage", rq.ReconnectPrimaryStorage, "PrimaryStorage", admin_only=True
)
SYNC_PRIMARY_STORAGE_CAPACITY = Operation(
    "SyncPrimaryStorageCapacity", rq.SyncPrimaryStorageCapacity, "PrimaryStorage", admin_only=True
)
CHANGE_PRIMARY_STORAGE_STATE = Operation(
    "ChangePrimaryStorageState", rq.ChangePrimaryStorageState, "PrimaryStorage", admin_only=True
)
UPDATE_PRIMARY_STORAGE = Operation(
    "UpdatePrimaryStorage", rq.UpdatePrimaryStorage, "PrimaryStorage", admin_only=True
)
DELETE_PRIMARY_STORAGE = Operation(
    "DeletePrimaryStorage", DeleteResource, "PrimaryStorage", admin_only=True
)
