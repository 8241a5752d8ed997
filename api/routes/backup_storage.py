"""``/v1/backup-storage`` (ZStack §4.5): ``image-store`` directories on hosts."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.auth import authenticate
from api.handlers import (
    actions_endpoint,
    attachment_endpoint,
    create_endpoint,
    delete_endpoint,
)
from api.listing import list_collection
from api.query import QueryableResource, QueryRelation
from api.resources import D, I, S, fields
from schemas.infra import BackupStorage, Host
from schemas.infra_inventories import backup_storage_inventory
from schemas.zstack_wire import BACKUP_STORAGE_TYPE_NAMES
from volplane.catalog.backup_storage import (
    ADD_IMAGE_STORE_BACKUP_STORAGE,
    ATTACH_BACKUP_STORAGE_TO_ZONE,
    CHANGE_BACKUP_STORAGE_STATE,
    DELETE_BACKUP_STORAGE,
    DETACH_BACKUP_STORAGE_FROM_ZONE,
    RECONNECT_BACKUP_STORAGE,
    UPDATE_BACKUP_STORAGE,
)
from volplane.operation import Operation
from volplane.runtime import Runtime
from volplane.store.infra import backup_storage_for_capacity

_ACTIONS: dict[str, Operation[Any]] = {
    "reconnectBackupStorage": RECONNECT_BACKUP_STORAGE,
    "changeBackupStorageState": CHANGE_BACKUP_STORAGE_STATE,
    "updateBackupStorage": UPDATE_BACKUP_STORAGE,
}


# ZStack's ssh fields are accepted and never recorded: the agent is reached over HTTP.
add_image_store = create_endpoint(
    ADD_IMAGE_STORE_BACKUP_STORAGE,
    name="add_image_store",
    not_recorded=frozenset({"username", "password", "sshPort"}),
)


async def list_backup_storage(request: Request) -> Response:
    return await list_collection(request, "backupStorage")


def _list_param(request: Request, name: str) -> list[str]:
    values: list[str] = []
    for raw in request.query_params.getlist(name):
        values.extend(v for v in raw.split(",") if v)
    return values


async def capacities(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    await authenticate(request)

    def run() -> dict[str, int]:
        with runtime.sessions() as session:
            found = backup_storage_for_capacity(
                session,
                uuids=_list_param(request, "backupStorageUuids"),
                zone_uuids=_list_param(request, "zoneUuids"),
            )
            return {
                "totalCapacity": sum(s.total_capacity for s in found),
                "availableCapacity": sum(s.available_capacity for s in found),
                "usedCapacity": sum(s.used_capacity for s in found),
            }

    return JSONResponse({**await run_in_threadpool(run), "success": True})


async def types(request: Request) -> Response:
    """ZStack's GetBackupStorageTypes (``types=backupStorageTypes``)."""
    await authenticate(request)
    return JSONResponse({"types": sorted(set(BACKUP_STORAGE_TYPE_NAMES.values()))})


storage_actions = actions_endpoint(_ACTIONS, name="storage_actions")


delete_storage = delete_endpoint(DELETE_BACKUP_STORAGE, name="delete_storage")


attach = attachment_endpoint(
    ATTACH_BACKUP_STORAGE_TO_ZONE,
    name="attach",
    resource=("backupStorageUuid", "backupStorageUuid"),
    target=("zoneUuid", "zoneUuid"),
)
detach = attachment_endpoint(
    DETACH_BACKUP_STORAGE_FROM_ZONE,
    name="detach",
    resource=("backupStorageUuid", "backupStorageUuid"),
    target=("zoneUuid", "zoneUuid"),
)


ROUTES = [
    Route("/v1/backup-storage", list_backup_storage, methods=["GET"]),
    Route("/v1/backup-storage/capacities", capacities, methods=["GET"]),
    Route("/v1/backup-storage/types", types, methods=["GET"]),
    Route("/v1/backup-storage/image-store", add_image_store, methods=["POST"]),
    Route("/v1/backup-storage/{uuid}", list_backup_storage, methods=["GET"]),
    Route("/v1/backup-storage/{uuid}", delete_storage, methods=["DELETE"]),
    Route("/v1/backup-storage/{uuid}/actions", storage_actions, methods=["PUT"]),
    Route("/v1/zones/{zoneUuid}/backup-storage/{backupStorageUuid}", attach, methods=["POST"]),
    Route("/v1/zones/{zoneUuid}/backup-storage/{backupStorageUuid}", detach, methods=["DELETE"]),
]

QUERYABLE = [
    (
        QueryableResource(
            name="backupStorage",
            model=BackupStorage,
            fields=fields(
                ("uuid", BackupStorage.uuid, S),
                ("name", BackupStorage.name, S),
                ("description", BackupStorage.description, S),
                ("type", BackupStorage.type, S, BACKUP_STORAGE_TYPE_NAMES),
                ("storageType", BackupStorage.type, S),
                ("url", BackupStorage.url, S),
                ("hostUuid", BackupStorage.host_uuid, S),
                ("state", BackupStorage.state, S),
                ("status", BackupStorage.status, S),
                ("totalCapacity", BackupStorage.total_capacity, I),
                ("availableCapacity", BackupStorage.available_capacity, I),
                ("usedCapacity", BackupStorage.used_capacity, I),
                ("createDate", BackupStorage.create_date, D),
                ("lastOpDate", BackupStorage.last_op_date, D),
            ),
            relations={
                "host": QueryRelation("host", "host", BackupStorage.host_uuid, Host.uuid),
            },
            tag_resource_type="BackupStorage",
        ),
        backup_storage_inventory,
    )
]
