"""``/v1/volumes`` (ZStack data volumes; CONTRACT §5) and clones from snapshots."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.auth import authenticate
from api.body import action_params, create_params, read_json, resource_uuid_of
from api.handlers import actions_endpoint, create_endpoint, delete_endpoint
from api.listing import list_collection
from api.query import QueryableResource, QueryRelation
from api.resources import D, F, I, S, fields
from api.submit import submit
from schemas.infra import PrimaryStorage
from schemas.storage import DiskOffering, Volume, VolumeSnapshot
from schemas.storage_inventories import volume_inventory
from schemas.zstack_wire import VOLUME_TYPE_NAMES
from volplane.catalog.clones import CREATE_DATA_VOLUME_FROM_VOLUME_SNAPSHOT
from volplane.catalog.manage import UNMANAGE_VOLUME
from volplane.catalog.volumes import (
    CHANGE_VOLUME_STATE,
    CREATE_DATA_VOLUME,
    DELETE_VOLUME,
    EXPUNGE_DATA_VOLUME,
    FLATTEN_VOLUME,
    RECOVER_DATA_VOLUME,
    RESIZE_DATA_VOLUME,
    SYNC_VOLUME_SIZE,
    UPDATE_VOLUME,
)
from volplane.operation import Operation
from volplane.runtime import Runtime
from volplane.store.accounts import Caller
from volplane.tenancy import may_see

_ACTIONS: dict[str, Operation[Any]] = {
    "resizeDataVolume": RESIZE_DATA_VOLUME,
    "updateVolume": UPDATE_VOLUME,
    "syncVolumeSize": SYNC_VOLUME_SIZE,
    "flattenVolume": FLATTEN_VOLUME,
    "changeVolumeState": CHANGE_VOLUME_STATE,
    "recoverDataVolume": RECOVER_DATA_VOLUME,
    "expungeDataVolume": EXPUNGE_DATA_VOLUME,
    "unmanageVolume": UNMANAGE_VOLUME,  # workers/operations/manage.py
}


async def snapshot_volume_uuid(request: Request, caller: Caller, snapshot_uuid: str) -> str | None:
    """The volume of a snapshot the caller may see (the key its jobs serialize on), or
    None: the job then answers not found, as for any missing resource."""
    runtime: Runtime = request.app.state.runtime

    def lookup() -> str | None:
        with runtime.sessions() as session:
            snapshot = session.get(VolumeSnapshot, snapshot_uuid)
        if snapshot is None or not may_see(snapshot, caller):
            return None
        return snapshot.volume_uuid

    return await run_in_threadpool(lookup)


create_data_volume = create_endpoint(CREATE_DATA_VOLUME, name="create_data_volume")


async def create_from_snapshot(request: Request) -> Response:
    caller = await authenticate(request)
    body = await read_json(request)
    snapshot_uuid = request.path_params["volumeSnapshotUuid"]
    params: dict[str, Any] = {
        **create_params(body, path=request.path_params),
        "snapshotUuid": snapshot_uuid,
        "sourceVolumeUuid": await snapshot_volume_uuid(request, caller, snapshot_uuid),
    }
    if params["sourceVolumeUuid"] is None:
        del params["sourceVolumeUuid"]
    resource_uuid = resource_uuid_of(params)
    return await submit(
        request,
        caller,
        CREATE_DATA_VOLUME_FROM_VOLUME_SNAPSHOT,
        params,
        resource_uuid=resource_uuid,
        raw_body=body,
    )


async def list_volumes(request: Request) -> Response:
    return await list_collection(request, "volume")


volume_actions = actions_endpoint(_ACTIONS, name="volume_actions")


async def resize_action(request: Request) -> Response:
    """ZStack's ``PUT /v1/volumes/data/resize/{uuid}/actions {"resizeDataVolume": ...}``."""
    caller = await authenticate(request)
    body = await read_json(request)
    _, params = action_params(body, {"resizeDataVolume"}, path=request.path_params)
    uuid = request.path_params["uuid"]
    return await submit(
        request,
        caller,
        RESIZE_DATA_VOLUME,
        {**params, "uuid": uuid},
        resource_uuid=uuid,
        raw_body=body,
    )


delete_volume = delete_endpoint(DELETE_VOLUME, name="delete_volume")


ROUTES = [
    Route("/v1/volumes/data", create_data_volume, methods=["POST"]),
    Route(
        "/v1/volumes/data/from/volume-snapshots/{volumeSnapshotUuid}",
        create_from_snapshot,
        methods=["POST"],
    ),
    Route("/v1/volumes/data/resize/{uuid}/actions", resize_action, methods=["PUT"]),
    Route("/v1/volumes", list_volumes, methods=["GET"]),
    Route("/v1/volumes/{uuid}", list_volumes, methods=["GET"]),
    Route("/v1/volumes/{uuid}", delete_volume, methods=["DELETE"]),
    Route("/v1/volumes/{uuid}/actions", volume_actions, methods=["PUT"]),
]

QUERYABLE = [
    (
        QueryableResource(
            name="volume",
            model=Volume,
            fields=fields(
                ("uuid", Volume.uuid, S),
                ("name", Volume.name, S),
                ("description", Volume.description, S),
                ("type", Volume.type, S, VOLUME_TYPE_NAMES),
                ("kind", Volume.type, S),
                ("diskOfferingUuid", Volume.disk_offering_uuid, S),
                ("format", Volume.format, S),
                ("primaryStorageUuid", Volume.primary_storage_uuid, S),
                ("hostUuid", Volume.host_uuid, S),
                ("accountUuid", Volume.account_uuid, S),
                ("size", Volume.size, I),
                ("actualSize", Volume.actual_size, I),
                ("snapshotSize", Volume.snapshot_size, I),
                ("snapshotCapacity", Volume.snapshot_capacity, I),
                ("state", Volume.state, S),
                ("status", Volume.status, S),
                ("parentSnapshotUuid", Volume.parent_snapshot_uuid, S),
                ("cloneProgress", Volume.clone_progress, F),
                ("installPath", Volume.install_path, S),
                ("createDate", Volume.create_date, D),
                ("lastOpDate", Volume.last_op_date, D),
            ),
            relations={
                "primaryStorage": QueryRelation(
                    "primaryStorage",
                    "primaryStorage",
                    Volume.primary_storage_uuid,
                    PrimaryStorage.uuid,
                ),
                "snapshots": QueryRelation(
                    "snapshots", "volumeSnapshot", Volume.uuid, VolumeSnapshot.volume_uuid
                ),
                "diskOffering": QueryRelation(
                    "diskOffering", "diskOffering", Volume.disk_offering_uuid, DiskOffering.uuid
                ),
                "parentSnapshot": QueryRelation(
                    "parentSnapshot",
                    "volumeSnapshot",
                    Volume.parent_snapshot_uuid,
                    VolumeSnapshot.uuid,
                ),
            },
            tag_resource_type="Volume",
        ),
        volume_inventory,
    )
]
