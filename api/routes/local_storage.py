"""ZStack's local storage calls (``/v1/primary-storage/local-storage/...``): which host
holds each volume (resource refs), each host's capacity, and moving a volume between
hosts (``localStorageMigrateVolume``)."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.auth import authenticate
from api.body import action_params, read_json
from api.listing import list_collection
from api.query import QueryableResource
from api.resources import D, I, S, fields
from api.submit import submit
from schemas.local_storage import LocalStorageResourceRef, resource_ref_inventory
from volplane.catalog.local_storage import LOCAL_STORAGE_MIGRATE_VOLUME
from volplane.errors import ResourceNotFound
from volplane.operation import Operation
from volplane.runtime import Runtime
from volplane.store.infra import local_storage_capacities

_ACTIONS: dict[str, Operation[Any]] = {"localStorageMigrateVolume": LOCAL_STORAGE_MIGRATE_VOLUME}


async def resource_refs(request: Request) -> Response:
    return await list_collection(request, "localStorageResourceRef")


async def capacities(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    await authenticate(request)
    pool_uuid = request.path_params["uuid"]
    host_uuid = request.query_params.get("hostUuid") or None

    def run() -> list[dict[str, Any]] | None:
        with runtime.sessions() as session:
            return local_storage_capacities(session, pool_uuid, host_uuid)

    found = await run_in_threadpool(run)
    if found is None:
        raise ResourceNotFound(f"local storage {pool_uuid} does not exist")
    return JSONResponse({"inventories": found, "success": True})


async def volume_actions(request: Request) -> Response:
    caller = await authenticate(request)
    body = await read_json(request)
    action, params = action_params(
        body,
        set(_ACTIONS),
        path=request.path_params,
        path_fields={"localStorageMigrateVolume": {"uuid": "volumeUuid"}},
    )
    uuid = request.path_params["uuid"]
    return await submit(
        request,
        caller,
        _ACTIONS[action],
        {**params, "volumeUuid": uuid},
        resource_uuid=uuid,
        raw_body=body,
    )


ROUTES = [
    Route("/v1/primary-storage/local-storage/resource-refs", resource_refs, methods=["GET"]),
    Route("/v1/primary-storage/local-storage/{uuid}/capacities", capacities, methods=["GET"]),
    Route(
        "/v1/primary-storage/local-storage/volumes/{uuid}/actions",
        volume_actions,
        methods=["PUT"],
    ),
]

Ref = LocalStorageResourceRef
QUERYABLE = [
    (
        QueryableResource(
            name="localStorageResourceRef",
            model=Ref,
            fields=fields(
                ("resourceUuid", Ref.resource_uuid, S),
                ("primaryStorageUuid", Ref.primary_storage_uuid, S),
                ("hostUuid", Ref.host_uuid, S),
                ("size", Ref.size, I),
                ("resourceType", Ref.resource_type, S),
                ("createDate", Ref.create_date, D),
                ("lastOpDate", Ref.last_op_date, D),
            ),
        ),
        resource_ref_inventory,
    )
]
