"""``/v1/volume-snapshots`` and ``/v1/volumes/{uuid}/volume-snapshots`` (CONTRACT §5).

A snapshot tree is the tree of one volume; its uuid is the volume's uuid.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.auth import authenticate
from api.body import action_params, read_json
from api.handlers import create_endpoint, known_query
from api.listing import list_collection, project, query_pairs
from api.query import (
    QueryableResource,
    QueryRelation,
    compile_query,
    parse_query,
    run_query,
)
from api.resources import B, D, I, S, fields, query_registry
from api.routes.volumes import snapshot_volume_uuid
from api.submit import submit
from schemas.inventories import iso
from schemas.storage import Volume, VolumeSnapshot
from schemas.storage_inventories import snapshot_inventory
from volplane.catalog.snapshots import (
    CREATE_VOLUME_SNAPSHOT,
    DELETE_VOLUME_SNAPSHOT,
    REVERT_VOLUME_FROM_SNAPSHOT,
    UPDATE_VOLUME_SNAPSHOT,
)
from volplane.errors import ResourceNotFound
from volplane.operation import Operation
from volplane.runtime import Runtime
from volplane.snapshot_tree import SnapshotNode, VolumeTree, tree_view
from volplane.store.accounts import Caller

_ACTIONS: dict[str, Operation[Any]] = {
    "revertVolumeFromSnapshot": REVERT_VOLUME_FROM_SNAPSHOT,
    "updateVolumeSnapshot": UPDATE_VOLUME_SNAPSHOT,
}


create_snapshot = create_endpoint(
    CREATE_VOLUME_SNAPSHOT, name="create_snapshot", from_path={"volumeUuid": "volumeUuid"}
)


async def list_snapshots(request: Request) -> Response:
    return await list_collection(request, "volumeSnapshot")


async def _submit_on_snapshot(
    request: Request,
    caller: Caller,
    operation: Operation[Any],
    params: dict[str, Any],
    raw_body: dict[str, Any],
) -> Response:
    uuid = request.path_params["uuid"]
    params = {**params, "uuid": uuid}
    params.pop("volumeUuid", None)
    volume_uuid = await snapshot_volume_uuid(request, caller, uuid)
    if volume_uuid is not None:
        params["volumeUuid"] = volume_uuid
    return await submit(request, caller, operation, params, resource_uuid=uuid, raw_body=raw_body)


async def snapshot_actions(request: Request) -> Response:
    caller = await authenticate(request)
    body = await read_json(request)
    action, params = action_params(body, set(_ACTIONS), path=request.path_params)
    return await _submit_on_snapshot(request, caller, _ACTIONS[action], params, body)


async def delete_snapshot(request: Request) -> Response:
    caller = await authenticate(request)
    query = known_query(request, DELETE_VOLUME_SNAPSHOT)
    query.pop("volumeUuid", None)  # found from the snapshot, never the client's to say
    return await _submit_on_snapshot(request, caller, DELETE_VOLUME_SNAPSHOT, query, query)


async def list_trees(request: Request) -> Response:
    """``{"inventories": [{uuid, volumeUuid, current, tree: [leaves]}]}``: each visible
    volume that has snapshots, with its tree (see ``volplane.snapshot_tree.tree_view``)."""
    runtime: Runtime = request.app.state.runtime
    caller = await authenticate(request)
    pairs = query_pairs(request)
    uuid = request.path_params.get("uuid")
    if uuid is not None:
        pairs = [*pairs, ("q", f"uuid={uuid}")]
    spec = parse_query([*pairs, ("q", "snapshots.uuid!=null")])
    compiled = compile_query(query_registry(), "volumeSnapshotTree", spec, actor=caller)

    def run() -> list[dict[str, Any]]:
        with runtime.sessions() as session:
            volumes: list[Volume] = run_query(session, compiled).rows
            snapshots = session.scalars(
                select(VolumeSnapshot)
                .where(VolumeSnapshot.volume_uuid.in_([v.uuid for v in volumes]))
                .order_by(VolumeSnapshot.create_date, VolumeSnapshot.uuid)
            ).all()
        return [
            _tree_inventory(v, [s for s in snapshots if s.volume_uuid == v.uuid]) for v in volumes
        ]

    inventories = await run_in_threadpool(run)
    if uuid is not None and not inventories:
        raise ResourceNotFound(f"snapshot tree {uuid} does not exist")
    return JSONResponse({"inventories": project(inventories, spec.fields)})


def _tree_row(volume: Volume) -> dict[str, Any]:
    """A tree's own fields, the ones its query offers."""
    return {
        "uuid": volume.uuid,
        "volumeUuid": volume.uuid,
        "createDate": iso(volume.create_date),
        "lastOpDate": iso(volume.last_op_date),
    }


def _tree_inventory(volume: Volume, snapshots: list[VolumeSnapshot]) -> dict[str, Any]:
    tree = VolumeTree.of(
        head_path=volume.install_path,
        current=volume.current_snapshot_uuid,
        base_path=volume.base_path,
        snapshots=[SnapshotNode(s.uuid, s.parent_uuid, s.install_path) for s in snapshots],
    )
    roots = tree_view(tree, {s.uuid: snapshot_inventory(s) for s in snapshots})
    # ZStack's VolumeSnapshotTreeInventory: ``tree`` is the root leaf. A volume here
    # has one tree, rooted in its first snapshot.
    return {
        **_tree_row(volume),
        "current": True,
        "status": "Completed",
        "tree": roots[0] if roots else None,
        "currentSnapshotUuid": volume.current_snapshot_uuid,
        "createDate": iso(volume.create_date),
        "lastOpDate": iso(volume.last_op_date),
    }


ROUTES = [
    Route("/v1/volumes/{volumeUuid}/volume-snapshots", create_snapshot, methods=["POST"]),
    Route("/v1/volume-snapshots/trees", list_trees, methods=["GET"]),
    Route("/v1/volume-snapshots/trees/{uuid}", list_trees, methods=["GET"]),
    Route("/v1/volume-snapshots", list_snapshots, methods=["GET"]),
    Route("/v1/volume-snapshots/{uuid}", list_snapshots, methods=["GET"]),
    Route("/v1/volume-snapshots/{uuid}", delete_snapshot, methods=["DELETE"]),
    Route("/v1/volume-snapshots/{uuid}/actions", snapshot_actions, methods=["PUT"]),
]

QUERYABLE = [
    (
        QueryableResource(
            name="volumeSnapshot",
            model=VolumeSnapshot,
            fields=fields(
                ("uuid", VolumeSnapshot.uuid, S),
                ("name", VolumeSnapshot.name, S),
                ("description", VolumeSnapshot.description, S),
                ("volumeUuid", VolumeSnapshot.volume_uuid, S),
                ("treeUuid", VolumeSnapshot.volume_uuid, S),
                ("latest", VolumeSnapshot.latest, B),  # type: ignore[attr-defined]
                ("accountUuid", VolumeSnapshot.account_uuid, S),
                ("primaryStorageUuid", VolumeSnapshot.primary_storage_uuid, S),
                ("parentUuid", VolumeSnapshot.parent_uuid, S),
                ("size", VolumeSnapshot.size, I),
                ("volumeSize", VolumeSnapshot.volume_size, I),
                ("state", VolumeSnapshot.state, S),
                ("status", VolumeSnapshot.status, S),
                ("primaryStorageInstallPath", VolumeSnapshot.install_path, S),
                ("createDate", VolumeSnapshot.create_date, D),
                ("lastOpDate", VolumeSnapshot.last_op_date, D),
            ),
            relations={
                "volume": QueryRelation(
                    "volume", "volume", VolumeSnapshot.volume_uuid, Volume.uuid
                ),
                "parent": QueryRelation(
                    "parent", "volumeSnapshot", VolumeSnapshot.parent_uuid, VolumeSnapshot.uuid
                ),
            },
            tag_resource_type="VolumeSnapshot",
        ),
        snapshot_inventory,
    ),
    (
        QueryableResource(
            name="volumeSnapshotTree",
            model=Volume,
            fields=fields(
                ("uuid", Volume.uuid, S),
                ("volumeUuid", Volume.uuid, S),
                ("createDate", Volume.create_date, D),
                ("lastOpDate", Volume.last_op_date, D),
            ),
            relations={
                "volume": QueryRelation("volume", "volume", Volume.uuid, Volume.uuid),
                "snapshots": QueryRelation(
                    "snapshots", "volumeSnapshot", Volume.uuid, VolumeSnapshot.volume_uuid
                ),
            },
        ),
        _tree_row,
    ),
]
