"""``/v1/primary-storage`` (ZStack §4.4): pools, their capacity, types and clusters.

A pool with ``availTenants`` is visible only to those tenants (and admins); to the
others it does not exist.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.auth import authenticate
from api.body import create_params, read_json, resource_uuid_of
from api.handlers import actions_endpoint, attachment_endpoint, delete_endpoint
from api.listing import query_pairs
from api.query import (
    QueryableResource,
    QueryRelation,
    compile_query,
    parse_query,
    run_query,
)
from api.resources import D, F, I, S, fields, inventory_of, query_registry
from api.submit import submit
from schemas.infra import Host, PrimaryStorage
from schemas.infra_inventories import primary_storage_inventory
from schemas.infra_requests import ALLOCATOR_STRATEGIES, POOL_TYPES
from schemas.storage import Volume
from schemas.tables import Zone
from schemas.zstack_wire import POOL_TYPE_NAMES, shown
from volplane.capacity import PoolCapacity, summed
from volplane.catalog.primary_storage import (
    ADD_PRIMARY_STORAGE,
    ATTACH_PRIMARY_STORAGE_TO_CLUSTER,
    CHANGE_PRIMARY_STORAGE_STATE,
    DELETE_PRIMARY_STORAGE,
    DETACH_PRIMARY_STORAGE_FROM_CLUSTER,
    RECONNECT_PRIMARY_STORAGE,
    SYNC_PRIMARY_STORAGE_CAPACITY,
    UPDATE_PRIMARY_STORAGE,
)
from volplane.errors import InvalidParameter, ResourceNotFound, RouteNotFound
from volplane.operation import Operation
from volplane.runtime import Runtime
from volplane.store.infra import pool_type_support, pools_for_capacity

_ACTIONS: dict[str, Operation[Any]] = {
    "reconnectPrimaryStorage": RECONNECT_PRIMARY_STORAGE,
    "changePrimaryStorageState": CHANGE_PRIMARY_STORAGE_STATE,
    "syncPrimaryStorageCapacity": SYNC_PRIMARY_STORAGE_CAPACITY,
    "updatePrimaryStorage": UPDATE_PRIMARY_STORAGE,
}


async def add_primary_storage(request: Request) -> Response:
    kind = request.path_params["kind"]
    if kind not in POOL_TYPES:
        raise RouteNotFound(f"POST {request.url.path}: pool types are {', '.join(POOL_TYPES)}")
    caller = await authenticate(request)
    body = await read_json(request)
    params = {**create_params(body, path={}), "type": kind}
    # A share's password goes beside the job, never into its record.
    password = params.pop("password", None)
    if password is not None and not isinstance(password, str):
        raise InvalidParameter("password must be a string")
    resource_uuid = resource_uuid_of(params)
    return await submit(
        request,
        caller,
        ADD_PRIMARY_STORAGE,
        params,
        resource_uuid=resource_uuid,
        raw_body=body,
        secrets={"password": password} if password else None,
    )


async def list_primary_storage(request: Request) -> Response:
    """``list_collection``, with inventories made while the session is open."""
    runtime: Runtime = request.app.state.runtime
    caller = await authenticate(request)
    pairs = query_pairs(request)
    uuid = request.path_params.get("uuid")
    if uuid is not None:
        pairs = [*pairs, ("q", f"uuid={uuid}")]
    spec = parse_query(pairs)
    compiled = compile_query(query_registry(), "primaryStorage", spec, actor=caller)

    def run() -> Any:
        with runtime.sessions() as session:
            result = run_query(session, compiled)
            return result, [inventory_of("primaryStorage", row) for row in result.rows]

    result, inventories = await run_in_threadpool(run)
    if uuid is not None and not result.rows and not spec.count:
        raise ResourceNotFound(f"primary storage {uuid} does not exist")
    if spec.count:
        return JSONResponse({"total": result.total})
    if spec.fields:
        inventories = [{k: inv.get(k) for k in spec.fields} for inv in inventories]
    answer: dict[str, Any] = {"inventories": inventories}
    if result.total is not None:
        answer["total"] = result.total
    return JSONResponse(answer)


def _list_param(request: Request, name: str) -> list[str]:
    values: list[str] = []
    for raw in request.query_params.getlist(name):
        values.extend(v for v in raw.split(",") if v)
    return values


async def capacities(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    caller = await authenticate(request)

    def run() -> list[PoolCapacity]:
        with runtime.sessions() as session:
            pools = pools_for_capacity(
                session,
                pool_uuids=_list_param(request, "primaryStorageUuids"),
                zone_uuids=_list_param(request, "zoneUuids"),
                cluster_uuids=_list_param(request, "clusterUuids"),
                actor=caller,
            )
            return [
                PoolCapacity(
                    total=p.total_capacity,
                    available=p.available_capacity,
                    allocated=p.allocated_capacity,
                    threshold=p.over_allocation_threshold,
                )
                for p in pools
            ]

    return JSONResponse({**summed(await run_in_threadpool(run)), "success": True})


async def types(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    await authenticate(request)

    def run() -> tuple[list[str], dict[str, str]]:
        with runtime.sessions() as session:
            return pool_type_support(session)

    supported, unsupported = await run_in_threadpool(run)
    # ZStack's reply (types=primaryStorageTypes) in ZStack's type names; volplane adds
    # why the others cannot run here.
    return JSONResponse(
        {
            "types": [shown(POOL_TYPE_NAMES, kind) for kind in supported],
            "unsupported": {shown(POOL_TYPE_NAMES, k): why for k, why in unsupported.items()},
        }
    )


async def strategies(request: Request) -> Response:
    await authenticate(request)
    return JSONResponse({"strategies": ALLOCATOR_STRATEGIES})


# ZStack's SyncPrimaryStorageCapacity names the path's uuid primaryStorageUuid.
pool_actions = actions_endpoint(
    _ACTIONS,
    name="pool_actions",
    path_fields={"syncPrimaryStorageCapacity": {"uuid": "primaryStorageUuid"}},
)


delete_pool = delete_endpoint(DELETE_PRIMARY_STORAGE, name="delete_pool")


attach = attachment_endpoint(
    ATTACH_PRIMARY_STORAGE_TO_CLUSTER,
    name="attach",
    resource=("primaryStorageUuid", "primaryStorageUuid"),
    target=("clusterUuid", "clusterUuid"),
)
detach = attachment_endpoint(
    DETACH_PRIMARY_STORAGE_FROM_CLUSTER,
    name="detach",
    resource=("primaryStorageUuid", "primaryStorageUuid"),
    target=("clusterUuid", "clusterUuid"),
)


ROUTES = [
    Route("/v1/primary-storage", list_primary_storage, methods=["GET"]),
    Route("/v1/primary-storage/capacities", capacities, methods=["GET"]),
    Route("/v1/primary-storage/types", types, methods=["GET"]),
    Route("/v1/primary-storage/allocators/strategies", strategies, methods=["GET"]),
    Route("/v1/primary-storage/{uuid}", list_primary_storage, methods=["GET"]),
    Route("/v1/primary-storage/{kind}", add_primary_storage, methods=["POST"]),
    Route("/v1/primary-storage/{uuid}", delete_pool, methods=["DELETE"]),
    Route("/v1/primary-storage/{uuid}/actions", pool_actions, methods=["PUT"]),
    Route(
        "/v1/clusters/{clusterUuid}/primary-storage/{primaryStorageUuid}", attach, methods=["POST"]
    ),
    Route(
        "/v1/clusters/{clusterUuid}/primary-storage/{primaryStorageUuid}",
        detach,
        methods=["DELETE"],
    ),
]

QUERYABLE = [
    (
        QueryableResource(
            name="primaryStorage",
            model=PrimaryStorage,
            fields=fields(
                ("uuid", PrimaryStorage.uuid, S),
                ("name", PrimaryStorage.name, S),
                ("description", PrimaryStorage.description, S),
                ("zoneUuid", PrimaryStorage.zone_uuid, S),
                ("hostUuid", PrimaryStorage.host_uuid, S),
                ("type", PrimaryStorage.type, S, POOL_TYPE_NAMES),
                ("poolType", PrimaryStorage.type, S),
                ("url", PrimaryStorage.url, S),
                ("mountPath", PrimaryStorage.mount_path, S),
                ("state", PrimaryStorage.state, S),
                ("status", PrimaryStorage.status, S),
                ("totalCapacity", PrimaryStorage.total_capacity, I),
                ("availableCapacity", PrimaryStorage.available_capacity, I),
                ("totalPhysicalCapacity", PrimaryStorage.total_physical_capacity, I),
                ("availablePhysicalCapacity", PrimaryStorage.available_physical_capacity, I),
                ("allocatedCapacity", PrimaryStorage.allocated_capacity, I),
                ("overAllocationThreshold", PrimaryStorage.over_allocation_threshold, F),
                ("createDate", PrimaryStorage.create_date, D),
                ("lastOpDate", PrimaryStorage.last_op_date, D),
            ),
            relations={
                "zone": QueryRelation("zone", "zone", PrimaryStorage.zone_uuid, Zone.uuid),
                "host": QueryRelation("host", "host", PrimaryStorage.host_uuid, Host.uuid),
                "volumes": QueryRelation(
                    "volumes", "volume", PrimaryStorage.uuid, Volume.primary_storage_uuid
                ),
            },
            tag_resource_type="PrimaryStorage",
        ),
        primary_storage_inventory,
    )
]
