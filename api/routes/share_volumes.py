"""``/v1/volume/share/*`` of the share-storage dialect (seed 001): volumes, clones,
snapshots and backups.

Each mutating call is one existing operation: ``create`` → ``CreateDataVolume``,
``delete`` → ``DeleteVolume``, ``used/update`` and ``snap_length/update`` →
``SyncVolumeSize``, ``clone`` → ``CreateDataVolumeFromVolumeSnapshot``,
``snapshot/create|delete|rollback`` → ``CreateVolumeSnapshot``,
``DeleteVolumeSnapshot``, ``RevertVolumeFromSnapshot``, ``backup/add|delete|restore``
→ ``CreateVolumeBackup``, ``DeleteVolumeBackup``, ``CreateDataVolumeFromVolumeBackup``.
A new volume belongs to the tenant the call names (an admin may name any tenant: the
job then runs as that account). ``docs/share-api.md`` maps every field.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.share import requests as rq
from api.share.calls import acting_for, authenticate, in_session, submit_share, viewer
from api.share.envelope import ok
from api.share.inventories import (
    SnapshotTree,
    VolumeContext,
    cluster_fields,
    share_snapshot,
    share_volume,
    unix,
)
from api.share.store import (
    account_names,
    cluster_or_404,
    latest_job,
    like_condition,
    page_pairs,
    pool_hosts,
    pool_in_cluster,
    query_page,
    share_snapshots,
    share_volumes,
    snapshot_tree,
    volume_in_cluster,
    volume_page,
    zone_names,
)
from schemas.backups import BackupStatus, VolumeBackup
from schemas.infra import BackupStorage, Cluster, PrimaryStorage, ZoneBackupStorage
from schemas.storage import Volume, VolumeSnapshot, VolumeStatus
from schemas.tables import new_uuid, utcnow
from volplane import layout
from volplane.capacity import default_snapshot_capacity
from volplane.catalog.backups import (
    CREATE_DATA_VOLUME_FROM_VOLUME_BACKUP,
    CREATE_VOLUME_BACKUP,
    DELETE_VOLUME_BACKUP,
)
from volplane.catalog.clones import CREATE_DATA_VOLUME_FROM_VOLUME_SNAPSHOT
from volplane.catalog.snapshots import (
    CREATE_VOLUME_SNAPSHOT,
    DELETE_VOLUME_SNAPSHOT,
    REVERT_VOLUME_FROM_SNAPSHOT,
)
from volplane.catalog.volumes import CREATE_DATA_VOLUME, DELETE_VOLUME, SYNC_VOLUME_SIZE
from volplane.errors import InvalidParameter, ResourceNotFound, VolplaneError
from volplane.jobs import JobState
from volplane.store.accounts import Caller
from volplane.tenancy import Actor, get_visible, may_see

CLONE_OPERATIONS = (
    CREATE_DATA_VOLUME_FROM_VOLUME_SNAPSHOT.api_name,
    CREATE_DATA_VOLUME_FROM_VOLUME_BACKUP.api_name,
)


def _volume_data(
    volume: dict[str, Any] | None,
    *,
    clone_progress: float = 0,
    cluster: Cluster | None = None,
    tenant: str = "",
    tenant_name: str = "",
) -> dict[str, Any]:
    return {
        "volume": volume,
        "clone_progress": clone_progress,
        **cluster_fields(
            cluster.uuid if cluster else "",
            cluster.name if cluster else "",
            tenant=tenant,
            tenant_name=tenant_name,
        ),
    }


def _initial_volume(
    session: Session,
    pool: PrimaryStorage,
    *,
    uuid: str,
    name: str,
    size: int,
    snapshot_capacity: int,
    parent_snapshot: VolumeSnapshot | None = None,
) -> dict[str, Any]:
    """The share object of a volume whose job was just accepted."""
    now = utcnow().isoformat()
    inventory = {
        "uuid": uuid,
        "name": name,
        "type": "Data",
        "kind": "block",
        "primaryStorageUuid": pool.uuid,
        "size": size,
        "actualSize": 0,
        "snapshotSize": 0,
        "snapshotCapacity": snapshot_capacity,
        "status": VolumeStatus.CREATING,
        "parentSnapshotUuid": parent_snapshot.uuid if parent_snapshot else None,
        "installPath": layout.head_path(pool.mount_path, uuid),
        "createDate": now,
        "lastOpDate": now,
    }
    context = VolumeContext(
        pool_name=pool.name,
        zone_uuid=pool.zone_uuid,
        zone_name=zone_names(session, [pool.zone_uuid]).get(pool.zone_uuid, ""),
        host_uuids=[h.uuid for h in pool_hosts(session, [pool])[pool.uuid]],
        parent_volume_uuid=parent_snapshot.volume_uuid if parent_snapshot else "",
    )
    return share_volume(inventory, context)


# --- volumes -----------------------------------------------------------------------


async def list_volumes(request: Request) -> Response:
    caller = await authenticate(request)
    body = await rq.read_request(request, rq.VolumeList)
    shown_to = viewer(caller, body.tenant)

    def read(session: Session) -> dict[str, Any]:
        cluster = cluster_or_404(session, body.cluster_uuid)
        volumes, total = volume_page(
            session,
            cluster.uuid,
            actor=shown_to,
            pool_uuid=body.filter_pool_uuid,
            filter_name=body.filter_name,
            page_num=body.page_num,
            page_size=body.page_size,
        )
        names = account_names(session, [v.account_uuid for v in volumes])
        where = {"cluster_uuid": cluster.uuid, "cluster_name": cluster.name, "cluster_mode": ""}
        entries = [
            {
                "tenant": volume.account_uuid,
                "tenant_name": names.get(volume.account_uuid, ""),
                "volume": shown,
                **where,
            }
            for volume, shown in zip(volumes, share_volumes(session, volumes), strict=True)
        ]
        return {
            "list": entries,
            "each_range_list_state": [
                {
                    **where,
                    "namespace_uuid": "",
                    "result": {
                        "scode": 0,
                        "desc": "",
                        "message": "success",
                        "message_cn": "成功",
                        "stack": None,
                        "data": "",
                    },
                    "total_count": total,
                }
            ],
            "TotalCount": total,
        }

    return ok(await in_session(request, read))


async def get_volume(request: Request) -> Response:
    caller = await authenticate(request)
    body = await rq.read_request(request, rq.VolumeRef)
    shown_to = viewer(caller, body.tenant)

    def read(session: Session) -> dict[str, Any]:
        cluster = cluster_or_404(session, body.cluster_uuid)
        volume = volume_in_cluster(session, body.volume_uuid, cluster.uuid, actor=shown_to)
        names = account_names(session, [volume.account_uuid])
        return _volume_data(
            share_volumes(session, [volume])[0],
            clone_progress=volume.clone_progress or 0,
            cluster=cluster,
            tenant=volume.account_uuid,
            tenant_name=names.get(volume.account_uuid, ""),
        )

    return ok(await in_session(request, read))


async def create_volume(request: Request) -> Response:
    caller = await authenticate(request)
    body = await rq.read_request(request, rq.VolumeCreate)
    if body.volume_type != "block":
        raise InvalidParameter(f"volume_type {body.volume_type}: volplane makes block volumes")
    actor = await acting_for(request, caller, body.tenant)
    uuid = new_uuid()

    def read(session: Session) -> dict[str, Any]:
        cluster = cluster_or_404(session, body.cluster_uuid)
        pool = pool_in_cluster(session, body.pool_uuid, cluster.uuid, actor=actor)
        shown = _initial_volume(
            session,
            pool,
            uuid=uuid,
            name=body.volume_name,
            size=body.capacity or 0,
            snapshot_capacity=body.snap_capacity,
        )
        return _volume_data(shown, cluster=cluster, tenant=actor.account_uuid)

    data = await in_session(request, read)
    params = {
        "name": body.volume_name,
        "diskSize": body.capacity or None,
        "primaryStorageUuid": body.pool_uuid,
        "backingFile": body.backing_file or None,
        "snapshotCapacity": body.snap_capacity,
        "description": body.desc or None,
        "resourceUuid": uuid,
    }
    return await submit_share(
        request,
        actor,
        CREATE_DATA_VOLUME,
        params,
        resource_uuid=uuid,
        raw_body=body.model_dump(),
        data=data,
    )


async def _existing_volume(request: Request, caller: Caller, body: rq.VolumeRef) -> dict[str, Any]:
    shown_to = viewer(caller, body.tenant)

    def read(session: Session) -> dict[str, Any]:
        volume = volume_in_cluster(session, body.volume_uuid, body.cluster_uuid, actor=shown_to)
        return share_volumes(session, [volume])[0]

    return await in_session(request, read)


async def delete_volume(request: Request) -> Response:
    caller = await authenticate(request)
    body = await rq.read_request(request, rq.VolumeDelete)
    await _existing_volume(request, caller, body)
    return await submit_share(
        request,
        caller,
        DELETE_VOLUME,
        # The share-storage product has no recycle bin: its delete is ZStack's Direct.
        {"uuid": body.volume_uuid, "force": body.force, "deletionPolicy": "Direct"},
        resource_uuid=body.volume_uuid,
        raw_body=body.model_dump(),
        data=_volume_data(None),
    )


async def refresh_volume_sizes(request: Request) -> Response:
    """``used/update`` and ``snap_length/update``: both sizes are read from the images."""
    caller = await authenticate(request)
    body = await rq.read_request(request, rq.VolumeNamedRef)
    await _existing_volume(request, caller, body)
    return await submit_share(
        request,
        caller,
        SYNC_VOLUME_SIZE,
        {"uuid": body.volume_uuid},
        resource_uuid=body.volume_uuid,
        raw_body=body.model_dump(),
        data=_volume_data(None),
    )


# --- clones ------------------------------------------------------------------------


async def clone_volume(request: Request) -> Response:
    caller = await authenticate(request)
    body = await rq.read_request(request, rq.VolumeClone)
    actor = await acting_for(request, caller, body.clone_dst_vol_tenant)
    uuid = new_uuid()

    def read(session: Session) -> dict[str, Any]:
        cluster = cluster_or_404(session, body.cluster_uuid)
        volume_in_cluster(session, body.volume_uuid, cluster.uuid, actor=caller)
        snapshot = session.get(VolumeSnapshot, body.snapshot_uuid)
        if (
            snapshot is None
            or snapshot.volume_uuid != body.volume_uuid
            or not may_see(snapshot, caller)
        ):
            raise ResourceNotFound(
                f"snapshot {body.snapshot_uuid} of volume {body.volume_uuid} does not exist"
            )
        pool = pool_in_cluster(session, body.clone_dst_pool_uuid, cluster.uuid, actor=actor)
        shown = _initial_volume(
            session,
            pool,
            uuid=uuid,
            name=body.clone_dst_vol_name,
            size=snapshot.volume_size,
            snapshot_capacity=default_snapshot_capacity(snapshot.volume_size),
            parent_snapshot=snapshot if body.is_link else None,
        )
        return _volume_data(shown, cluster=cluster, tenant=actor.account_uuid)

    data = await in_session(request, read)
    params = {
        "snapshotUuid": body.snapshot_uuid,
        "sourceVolumeUuid": body.volume_uuid,
        "name": body.clone_dst_vol_name,
        "primaryStorageUuid": body.clone_dst_pool_uuid,
        "linked": body.is_link,
        "resourceUuid": uuid,
    }
    return await submit_share(
        request,
        actor,
        CREATE_DATA_VOLUME_FROM_VOLUME_SNAPSHOT,
        params,
        resource_uuid=uuid,
        raw_body=body.model_dump(),
        data=data,
    )


async def clone_progress(request: Request) -> Response:
    """The progress (0-100) of the job making the volume (a clone or a restore): the
    running job's own progress; 100 once the volume is made. A failed job answers
    its error."""
    caller = await authenticate(request)
    body = await rq.read_request(request, rq.VolumeRef)
    shown_to = viewer(caller, body.tenant)

    def read(session: Session) -> float:
        cluster_or_404(session, body.cluster_uuid)
        volume = session.get(Volume, body.volume_uuid)
        if volume is not None and not may_see(volume, shown_to):
            volume = None
        job = latest_job(
            session,
            api_names=CLONE_OPERATIONS,
            resource_uuids=[body.volume_uuid],
            actor=shown_to,
        )
        if job is None and volume is None:
            raise ResourceNotFound(f"volume {body.volume_uuid} does not exist")
        if job is not None:
            state = JobState(job.state)
            if state in (JobState.FAILED, JobState.CANCELLED):
                raise VolplaneError.from_body(job.error or {})
            if not state.is_final:
                return float(job.progress or (volume.clone_progress if volume else 0) or 0)
        return 100.0

    progress = await in_session(request, read)
    return ok(_volume_data(None, clone_progress=progress))


# --- snapshots ---------------------------------------------------------------------


def _snapshot_data(
    snapshot: dict[str, Any] | None, tree: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {"snapshot": snapshot, "tree": tree, **cluster_fields()}


async def create_snapshot(request: Request) -> Response:
    caller = await authenticate(request)
    body = await rq.read_request(request, rq.SnapshotCreate)
    shown_to = viewer(caller, body.tenant)
    uuid = new_uuid()

    def read(session: Session) -> dict[str, Any]:
        volume = volume_in_cluster(session, body.volume_uuid, body.cluster_uuid, actor=shown_to)
        tree, _ = snapshot_tree(session, volume)
        now = utcnow().isoformat()
        inventory = {
            "uuid": uuid,
            "name": body.snapshot_name,
            "volumeUuid": volume.uuid,
            "description": body.desc,
            "status": VolumeStatus.CREATING,
            "size": 0,
            "createDate": now,
        }
        # Once made, the new snapshot sits where the head is now, and the head on it.
        grown = SnapshotTree.of(
            [
                *[
                    {"uuid": s, "name": tree.label(s), "parentUuid": tree.parents[s]}
                    for s in tree.order
                ],
                {"uuid": uuid, "name": body.snapshot_name, "parentUuid": tree.current},
            ],
            uuid,
        )
        return share_snapshot(inventory, grown)

    snapshot = await in_session(request, read)
    params = {
        "volumeUuid": body.volume_uuid,
        "name": body.snapshot_name,
        "description": body.desc or None,
        "resourceUuid": uuid,
    }
    return await submit_share(
        request,
        caller,
        CREATE_VOLUME_SNAPSHOT,
        params,
        resource_uuid=uuid,
        raw_body=body.model_dump(),
        data=_snapshot_data(snapshot),
    )


async def _check_snapshot(request: Request, caller: Caller, body: rq.SnapshotRef) -> None:
    shown_to = viewer(caller, body.tenant)

    def read(session: Session) -> None:
        volume_in_cluster(session, body.volume_uuid, body.cluster_uuid, actor=shown_to)
        snapshot = session.get(VolumeSnapshot, body.snapshot_uuid)
        if (
            snapshot is None
            or snapshot.volume_uuid != body.volume_uuid
            or not may_see(snapshot, caller)
        ):
            raise ResourceNotFound(
                f"snapshot {body.snapshot_uuid} of volume {body.volume_uuid} does not exist"
            )

    await in_session(request, read)


async def delete_snapshot(request: Request) -> Response:
    caller = await authenticate(request)
    body = await rq.read_request(request, rq.SnapshotDelete)
    await _check_snapshot(request, caller, body)
    return await submit_share(
        request,
        caller,
        DELETE_VOLUME_SNAPSHOT,
        {"uuid": body.snapshot_uuid, "volumeUuid": body.volume_uuid},
        resource_uuid=body.snapshot_uuid,
        raw_body=body.model_dump(),
        data=_snapshot_data(None),
    )


async def rollback_snapshot(request: Request) -> Response:
    caller = await authenticate(request)
    body = await rq.read_request(request, rq.SnapshotRef)
    await _check_snapshot(request, caller, body)
    return await submit_share(
        request,
        caller,
        REVERT_VOLUME_FROM_SNAPSHOT,
        {"uuid": body.snapshot_uuid, "volumeUuid": body.volume_uuid},
        resource_uuid=body.snapshot_uuid,
        raw_body=body.model_dump(),
        data=_snapshot_data(None),
    )


async def snapshot_tree_of_volume(request: Request) -> Response:
    caller = await authenticate(request)
    body = await rq.read_request(request, rq.VolumeRef)
    shown_to = viewer(caller, body.tenant)

    def read(session: Session) -> dict[str, Any]:
        volume = volume_in_cluster(session, body.volume_uuid, body.cluster_uuid, actor=shown_to)
        tree, _ = snapshot_tree(session, volume)
        return tree.view()

    return ok(_snapshot_data(None, await in_session(request, read)))


async def list_snapshots(request: Request) -> Response:
    caller = await authenticate(request)
    body = await rq.read_request(request, rq.VolumeRef)
    shown_to = viewer(caller, body.tenant)

    def read(session: Session) -> list[dict[str, Any]]:
        volume = volume_in_cluster(session, body.volume_uuid, body.cluster_uuid, actor=shown_to)
        return share_snapshots(session, volume)

    return ok({"list": await in_session(request, read)})


# --- backups -----------------------------------------------------------------------


def _share_backups(
    session: Session, backups: list[VolumeBackup], cluster: Cluster
) -> list[dict[str, Any]]:
    names = account_names(session, [b.account_uuid for b in backups])
    storages = dict(
        session.execute(
            select(BackupStorage.uuid, BackupStorage.name).where(
                BackupStorage.uuid.in_({b.backup_storage_uuid for b in backups})
            )
        ).all()
    )
    snapshot_uuids = [b.snapshot_uuid for b in backups if b.snapshot_uuid]
    snapshots = dict(
        session.execute(
            select(VolumeSnapshot.uuid, VolumeSnapshot.name).where(
                VolumeSnapshot.uuid.in_(snapshot_uuids)
            )
        ).all()
    )
    volume_types = dict(
        session.execute(
            select(Volume.uuid, Volume.type).where(
                Volume.uuid.in_({b.volume_uuid for b in backups})
            )
        ).all()
    )
    return [
        {
            "tenant": b.account_uuid,
            "tenant_name": names.get(b.account_uuid, ""),
            "UUID": b.uuid,
            "Name": b.name,
            "BpUUID": b.backup_storage_uuid,
            "NsUUID": "",
            "VolumeUUID": b.volume_uuid,
            "VolumeCapacity": b.size,
            "Snapshot": snapshots.get(b.snapshot_uuid or "", ""),
            "Ctime": unix(b.create_date.astimezone(UTC).isoformat()),
            "Desc": b.description or "",
            "Attr": None,
            "VolumeType": volume_types.get(b.volume_uuid, "block"),
            "Mtime": unix(b.last_op_date.astimezone(UTC).isoformat()),
            "BpName": storages.get(b.backup_storage_uuid, ""),
            "ExpiredTime": 0,
            "VolumeEventStatus": 0,
            "SnapshotUUID": b.snapshot_uuid or "",
            "Status": b.status,
            "cluster_uuid": cluster.uuid,
            "cluster_name": cluster.name,
            "cluster_mode": "",
        }
        for b in backups
    ]


async def add_backup(request: Request) -> Response:
    caller = await authenticate(request)
    body = await rq.read_request(request, rq.BackupAdd)
    uuid = new_uuid()

    def read(session: Session) -> dict[str, Any]:
        cluster = cluster_or_404(session, body.cluster_uuid)
        volume = volume_in_cluster(session, body.volume_uuid, cluster.uuid, actor=caller)
        snapshot = session.get(VolumeSnapshot, body.snapshot_uuid)
        if snapshot is None or snapshot.volume_uuid != volume.uuid:
            raise ResourceNotFound(
                f"snapshot {body.snapshot_uuid} of volume {body.volume_uuid} does not exist"
            )
        if session.get(BackupStorage, body.backup_point_uuid) is None:
            raise ResourceNotFound(f"backup point {body.backup_point_uuid} does not exist")
        now = utcnow()
        initial = VolumeBackup(
            uuid=uuid,
            name=body.backup_name,
            description=body.desc,
            volume_uuid=volume.uuid,
            account_uuid=volume.account_uuid,
            backup_storage_uuid=body.backup_point_uuid,
            snapshot_uuid=snapshot.uuid,
            status=BackupStatus.STARTED,
            size=snapshot.volume_size,
            create_date=now,
            last_op_date=now,
        )
        shown = _share_backups(session, [initial], cluster)[0]
        return shown

    backup = await in_session(request, read)
    params = {
        "volumeUuid": body.volume_uuid,
        "backupStorageUuid": body.backup_point_uuid,
        "name": body.backup_name,
        "description": body.desc or None,
        "snapshotUuid": body.snapshot_uuid,
        "resourceUuid": uuid,
    }
    return await submit_share(
        request,
        caller,
        CREATE_VOLUME_BACKUP,
        params,
        resource_uuid=uuid,
        raw_body=body.model_dump(),
        data={"backup": backup},
    )


def _visible_backup(session: Session, uuid: str, actor: Actor) -> VolumeBackup:
    return get_visible(session, VolumeBackup, uuid, actor, what="backup")


async def delete_backup(request: Request) -> Response:
    caller = await authenticate(request)
    body = await rq.read_request(request, rq.BackupDelete)
    shown_to = viewer(caller, body.tenant)

    def read(session: Session) -> None:
        cluster_or_404(session, body.cluster_uuid)
        _visible_backup(session, body.backup_uuid, shown_to)

    await in_session(request, read)
    return await submit_share(
        request,
        caller,
        DELETE_VOLUME_BACKUP,
        {"uuid": body.backup_uuid},
        resource_uuid=body.backup_uuid,
        raw_body=body.model_dump(),
        data={},
    )


async def restore_backup(request: Request) -> Response:
    caller = await authenticate(request)
    body = await rq.read_request(request, rq.BackupRestore)
    actor = await acting_for(request, caller, body.new_volume_tenant)
    uuid = new_uuid()

    def read(session: Session) -> dict[str, Any]:
        cluster = cluster_or_404(session, body.cluster_uuid)
        backup = _visible_backup(session, body.backup_uuid, actor)
        pool = pool_in_cluster(session, body.new_pool_uuid, cluster.uuid, actor=actor)
        return _initial_volume(
            session,
            pool,
            uuid=uuid,
            name=body.new_volume_name,
            size=backup.size,
            snapshot_capacity=default_snapshot_capacity(backup.size),
        )

    volume = await in_session(request, read)
    params = {
        "backupUuid": body.backup_uuid,
        "name": body.new_volume_name,
        "primaryStorageUuid": body.new_pool_uuid,
        "resourceUuid": uuid,
    }
    return await submit_share(
        request,
        actor,
        CREATE_DATA_VOLUME_FROM_VOLUME_BACKUP,
        params,
        resource_uuid=uuid,
        raw_body=body.model_dump(),
        data={"backup": None, "volume": volume},
    )


async def list_backups(request: Request) -> Response:
    """Backups on the backup points of the cluster's zone, newest first."""
    caller = await authenticate(request)
    body = await rq.read_request(request, rq.BackupList)
    shown_to = viewer(caller, body.tenant)
    pairs = [
        *like_condition("description", body.filter_desc),
        *like_condition("name", body.filter_name),
        *([("q", f"volumeUuid={body.filter_volume_uuid}")] if body.filter_volume_uuid else []),
        *(
            [("q", f"createDate>={body.filter_start_time * 1000}")]
            if body.filter_start_time is not None
            else []
        ),
        *(
            # Ctime is whole seconds: the window ends with the end second's last instant.
            [("q", f"createDate<{(body.filter_end_time + 1) * 1000}")]
            if body.filter_end_time is not None
            else []
        ),
        ("sort", "-createDate"),
        *page_pairs(body.page_num, body.page_size),
    ]

    def read(session: Session) -> dict[str, Any]:
        cluster = cluster_or_404(session, body.cluster_uuid)
        reachable = select(ZoneBackupStorage.backup_storage_uuid).where(
            ZoneBackupStorage.zone_uuid == cluster.zone_uuid
        )
        page = query_page(
            session,
            "volumeBackup",
            pairs,
            actor=shown_to,
            where=[VolumeBackup.backup_storage_uuid.in_(reachable)],
        )
        backups = _share_backups(session, page.rows, cluster)
        return {"backup": backups or None, "TotalCount": page.total}

    return ok(await in_session(request, read))


ROUTES = [
    Route("/v1/volume/share/list", list_volumes, methods=["POST"]),
    Route("/v1/volume/share/create", create_volume, methods=["POST"]),
    Route("/v1/volume/share/delete", delete_volume, methods=["POST"]),
    Route("/v1/volume/share/get", get_volume, methods=["POST"]),
    Route("/v1/volume/share/used/update", refresh_volume_sizes, methods=["POST"]),
    Route("/v1/volume/share/snap_length/update", refresh_volume_sizes, methods=["POST"]),
    Route("/v1/volume/share/clone", clone_volume, methods=["POST"]),
    Route("/v1/volume/share/clone/progress", clone_progress, methods=["GET"]),
    Route("/v1/volume/share/backup/add", add_backup, methods=["POST"]),
    Route("/v1/volume/share/backup/delete", delete_backup, methods=["POST"]),
    Route("/v1/volume/share/backup/restore", restore_backup, methods=["POST"]),
    Route("/v1/volume/share/backup/list", list_backups, methods=["GET"]),
    Route("/v1/volume/share/snapshot/create", create_snapshot, methods=["POST"]),
    Route("/v1/volume/share/snapshot/delete", delete_snapshot, methods=["POST"]),
    Route("/v1/volume/share/snapshot/rollback", rollback_snapshot, methods=["POST"]),
    Route("/v1/volume/share/snapshot/tree/get", snapshot_tree_of_volume, methods=["POST"]),
    Route("/v1/volume/share/snapshot/list", list_snapshots, methods=["POST"]),
]
