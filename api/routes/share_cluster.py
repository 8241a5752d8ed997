"""``/v1/cluster/*`` of the share-storage dialect (seed 003, the storage endpoints).

``cluster/add`` and ``cluster/delete`` are ``CreateCluster`` and ``DeleteCluster``;
``inspection`` is ``InspectCluster`` (``inspection/stop`` cancels its job);
``set/global/config`` is ``UpdateGlobalConfig``; ``data/snapshot/{save,delete}`` are
``SaveDatabaseSnapshot`` and ``DeleteDatabaseSnapshot``. The rest are reads.
``docs/share-api.md`` maps every call.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import distinct, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.auth import require_admin
from api.job_service import cancel_job
from api.share import requests as rq
from api.share.calls import authenticate, in_session, submit_share
from api.share.envelope import ok, scode_of
from api.share.inventories import inspection_status, unix
from api.share.store import (
    cluster_or_404,
    hosts_of_cluster,
    in_cluster,
    latest_job,
    like_condition,
    page_pairs,
    query_page,
)
from schemas.infra import Cluster, ClusterPrimaryStorage, Host, PrimaryStorage
from schemas.states import HostStatus
from schemas.storage import Volume, VolumeStatus
from schemas.tables import ApiJob, ResourceTag, Zone, new_uuid
from volplane import global_config
from volplane.catalog.clusters import CREATE_CLUSTER, DELETE_CLUSTER
from volplane.catalog.dbsnapshot import DELETE_DATABASE_SNAPSHOT, SAVE_DATABASE_SNAPSHOT
from volplane.catalog.global_config import UPDATE_GLOBAL_CONFIG
from volplane.catalog.inspection import INSPECT_CLUSTER
from volplane.db_snapshots import list_snapshots
from volplane.errors import InvalidParameter, ResourceNotFound, VolplaneError
from volplane.jobs import JobState
from volplane.runtime import Runtime
from volplane.tenancy import ADMIN, Actor, visible

# cluster/add and cluster/delete answer with these keys in the seed besides the
# usual envelope; clients written against either form find what they read.
LEGACY_ENVELOPE = {"status_code": 0, "message_en": "success"}
WITH_MESSAGE_CN = {"messageCn": ""}
IP_TAG = "shareIp::"


# --- clusters ----------------------------------------------------------------------


def _zone_for(session: Session, requested: str | None) -> str:
    if requested is not None:
        if session.get(Zone, requested) is None:
            raise ResourceNotFound(f"zone {requested} does not exist")
        return requested
    zones = list(session.scalars(select(Zone.uuid).limit(2)))
    if len(zones) != 1:
        why = "no zone exists yet" if not zones else "there are several zones"
        raise InvalidParameter(f"{why}; pass zone_uuid (volplane's addition to cluster/add)")
    return zones[0]


async def add_cluster(request: Request) -> Response:
    caller = await authenticate(request)
    body = await rq.read_request(request, rq.ClusterAdd)
    zone_uuid = await in_session(request, lambda s: _zone_for(s, body.zone_uuid))
    uuid = new_uuid()
    params = {
        "zoneUuid": zone_uuid,
        "name": body.name,
        "description": body.desc or None,
        "resourceUuid": uuid,
        "systemTags": [f"{IP_TAG}{body.ip}"],
    }
    return await submit_share(
        request,
        caller,
        CREATE_CLUSTER,
        params,
        resource_uuid=uuid,
        raw_body=body.model_dump(),
        data={"uuid": uuid, "name": body.name, "desc": body.desc, "ip": body.ip},
        extra=LEGACY_ENVELOPE,
    )


async def delete_cluster(request: Request) -> Response:
    caller = await authenticate(request)
    body = await rq.read_request(request, rq.ClusterDelete)
    cluster = await in_session(request, lambda s: cluster_or_404(s, body.cluster_uuid))
    params = {"uuid": cluster.uuid, "deleteMode": "Enforcing" if body.force else "Permissive"}
    return await submit_share(
        request,
        caller,
        DELETE_CLUSTER,
        params,
        resource_uuid=cluster.uuid,
        raw_body=body.model_dump(),
        data={"uuid": cluster.uuid, "name": cluster.name},
        extra=LEGACY_ENVELOPE,
    )


def _candidates(session: Session, cluster: Cluster, hosts: list[Host]) -> list[str]:
    """The addresses of the cluster's nodes: its hosts and the ip it was added with."""
    tags = session.scalars(
        select(ResourceTag.tag).where(
            ResourceTag.resource_uuid == cluster.uuid, ResourceTag.tag.like(f"{IP_TAG}%")
        )
    )
    found = [host.management_ip for host in hosts] + [t.removeprefix(IP_TAG) for t in tags]
    return list(dict.fromkeys(found))


def _net(host: Host) -> dict[str, Any]:
    # Agents report no interface names or MTUs; the address is the one volplane uses.
    return {"Name": "", "Addrs": [host.management_ip], "MTU": 0, "BridgeUUID": "", "BridgeName": ""}


def _topology_node(index: int, host: Host) -> dict[str, Any]:
    return {
        "UUID": host.uuid,
        "ID": index,
        "managerNet": _net(host),
        "computeNet": None,
        "storageNet": _net(host),
        "backupNet": _net(host),
        "domain": host.zone_uuid,
        "name": host.name,
        "IsSystemService": False,
        "services": {
            "UUID": host.uuid,
            "manager": None,
            "center": None,
            "usm": None,
            "vsm": None,
            "network": None,
            "hyper": None,
            "agentStatus": 1 if host.status == HostStatus.CONNECTED else 0,
            "hostMode": 0,
        },
    }


async def get_cluster(request: Request) -> Response:
    caller = await authenticate(request)
    body = await rq.read_request(request, rq.ClusterRef)

    def read(session: Session) -> dict[str, Any]:
        cluster = cluster_or_404(session, body.cluster_uuid)
        hosts = hosts_of_cluster(session, cluster.uuid)
        attached = select(ClusterPrimaryStorage.primary_storage_uuid).where(
            ClusterPrimaryStorage.cluster_uuid == cluster.uuid
        )
        owners = select(distinct(Volume.account_uuid)).where(
            Volume.primary_storage_uuid.in_(attached)
        )
        owners = owners.where(visible(Volume, caller))
        return {
            "cluster_uuid": cluster.uuid,
            "name": cluster.name,
            "desc": cluster.description or "",
            "tenants": sorted(session.scalars(owners)),
            "candidates": _candidates(session, cluster, hosts),
            "TopoHostNode": [_topology_node(i, h) for i, h in enumerate(hosts)],
        }

    return ok(await in_session(request, read))


async def list_clusters(request: Request) -> Response:
    await authenticate(request)
    body = await rq.read_request(request, rq.ClusterList)
    pairs = [
        *like_condition("name", body.filter_name),
        *([("q", f"uuid={body.filter_uuid}")] if body.filter_uuid else []),
        ("sort", "+createDate"),
        *page_pairs(body.page_num, body.page_size),
    ]

    def read(session: Session) -> dict[str, Any]:
        page = query_page(session, "cluster", pairs, actor=ADMIN)
        entries = []
        for cluster in page.rows:
            hosts = hosts_of_cluster(session, cluster.uuid)
            entries.append(
                {
                    "cluster_uuid": cluster.uuid,
                    "cluster_name": cluster.name,
                    "ctime": unix(cluster.create_date.isoformat()),
                    "candidates": _candidates(session, cluster, hosts) or None,
                }
            )
        return {"list": entries, "total_count": page.total}

    return ok(await in_session(request, read), extra=WITH_MESSAGE_CN)


# --- storage summary -----------------------------------------------------------


def _storage_summary(session: Session, cluster_uuid: str, actor: Actor) -> dict[str, Any]:
    """``inner``: pools that live on the cluster's own hosts (local directories and
    disks); ``external``: shared pools (NFS, Samba, shared mount points)."""
    cluster_or_404(session, cluster_uuid)
    hosts = hosts_of_cluster(session, cluster_uuid)
    pools = list(
        session.scalars(
            select(PrimaryStorage).where(in_cluster(cluster_uuid), visible(PrimaryStorage, actor))
        )
    )
    inner = [p for p in pools if p.host_uuid is not None]
    external = [p for p in pools if p.host_uuid is None]
    volumes = select(Volume.primary_storage_uuid, Volume.status).where(visible(Volume, actor))
    rows = list(
        session.execute(volumes.where(Volume.primary_storage_uuid.in_([p.uuid for p in pools])))
    )

    def statuses(group: list[PrimaryStorage]) -> list[str]:
        uuids = {p.uuid for p in group}
        return [status for pool, status in rows if pool in uuids]

    def used(group: list[PrimaryStorage]) -> int:
        return sum(max(0, p.total_capacity - p.available_capacity) for p in group)

    inner_status = statuses(inner)
    total = sum(p.total_capacity for p in inner)
    healthy_hosts = [h for h in hosts if h.status == HostStatus.CONNECTED]
    storage_hosts = [h for h in hosts if any(p.host_uuid == h.uuid for p in inner)]
    devices = 0
    for host in hosts:
        found = (host.facts or {}).get("blockDevices", [])
        devices += len(found) if isinstance(found, list) else 0
    return {
        "inner": {
            "total_size": total,
            "used": used(inner),
            "allocated": sum(p.allocated_capacity for p in inner),
            "pool_count": len(inner),
            "volume_total_count": len(inner_status),
            "volume_health_count": inner_status.count(VolumeStatus.READY),
            "volume_degrade_count": sum(
                s in (VolumeStatus.CREATING, VolumeStatus.DELETING) for s in inner_status
            ),
            "volume_failed_count": sum(
                s not in (VolumeStatus.READY, VolumeStatus.CREATING, VolumeStatus.DELETING)
                for s in inner_status
            ),
            "physic_host_total_count": len(hosts),
            "physic_host_health_count": len(healthy_hosts),
            "physic_host_down_count": len(hosts) - len(healthy_hosts),
            # Agents report no CPU or memory load; volplane runs no compute.
            "cpu_usage": 0.0,
            "memory_usage": 0.0,
            "capacity_usage": used(inner) / total if total else 0.0,
            "ssd": 0,
            "hdd": 0,
            "data_dev": devices,
            "cache_dev": 0,
            "storage_host_total_count": len(storage_hosts),
            "storage_host_health_count": sum(
                h.status == HostStatus.CONNECTED for h in storage_hosts
            ),
            "storage_host_down_count": sum(h.status != HostStatus.CONNECTED for h in storage_hosts),
        },
        "external": {
            "total_size": sum(p.total_capacity for p in external),
            "used": used(external),
            "pool_count": len(external),
            "volume_total_count": len(statuses(external)),
        },
    }


async def storage_service(request: Request) -> Response:
    caller = await authenticate(request)
    body = await rq.read_request(request, rq.ClusterRef)
    data = await in_session(request, lambda s: _storage_summary(s, body.cluster_uuid, caller))
    return ok(data, extra=WITH_MESSAGE_CN)


# --- inspection ----------------------------------------------------------------------

NOT_STARTED, RUNNING, FINISHED, STOPPED, FAILED = 0, 1, 2, 3, 4


def inspection_report(job: ApiJob | None) -> dict[str, Any]:
    """The seed's inspection object for the cluster's latest inspection job.

    ``state``: 0 not started (or waiting its turn), 1 running, 2 finished,
    3 stopped, 4 failed; ``status.UUID`` is the job's uuid.
    """
    status = inspection_status()
    report: dict[str, Any] = {
        "status": status,
        "normal": 0,
        "alarm": 0,
        "fault": 0,
        "score": 0,
        "system": None,
        "network": None,
        "hardware": None,
        "state": NOT_STARTED,
        "finishedPercent": 0,
        "checking": "",
    }
    if job is None:
        return report
    status["UUID"] = job.uuid
    state = JobState(job.state)
    if state is JobState.SUCCEEDED:
        found = (job.result or {}).get("inventory", {})
        report.update({key: found.get(key, report[key]) for key in ("normal", "alarm", "fault")})
        report.update(
            score=found.get("score", 0),
            system=found.get("system"),
            network=found.get("network"),
            hardware=found.get("hardware"),
            state=FINISHED,
            finishedPercent=100,
        )
    elif state is JobState.RUNNING:
        report.update(
            state=STOPPED if job.cancel_requested else RUNNING,
            finishedPercent=job.progress or 0,
            checking="cluster",
        )
    elif state is JobState.CANCELLED:
        report.update(state=STOPPED, finishedPercent=job.progress or 0)
    elif state is JobState.FAILED:
        error = VolplaneError.from_body(job.error or {})
        status.update(code=scode_of(error.code), message=error.details, desc=error.code)
        report.update(state=FAILED, finishedPercent=job.progress or 0)
    return report


async def _latest_inspection(request: Request, cluster_uuid: str) -> ApiJob | None:
    def read(session: Session) -> ApiJob | None:
        cluster_or_404(session, cluster_uuid)
        return latest_job(
            session,
            api_names=[INSPECT_CLUSTER.api_name],
            resource_uuids=[cluster_uuid],
            actor=ADMIN,
        )

    return await in_session(request, read)


async def start_inspection(request: Request) -> Response:
    caller = await authenticate(request)
    body = await rq.read_request(request, rq.Inspection)
    await in_session(request, lambda s: cluster_or_404(s, body.cluster_uuid))
    params = {
        "clusterUuid": body.cluster_uuid,
        "checkSystem": body.check_system,
        "checkNetwork": body.check_network,
        "checkHardware": body.check_hardware,
    }
    return await submit_share(
        request,
        caller,
        INSPECT_CLUSTER,
        params,
        resource_uuid=body.cluster_uuid,
        raw_body=body.model_dump(),
        data=inspection_report(None),
        extra=WITH_MESSAGE_CN,
    )


async def inspection_progress(request: Request) -> Response:
    await authenticate(request)
    body = await rq.read_request(request, rq.ClusterRef)
    return ok(inspection_report(await _latest_inspection(request, body.cluster_uuid)))


async def stop_inspection(request: Request) -> Response:
    """Cancels the cluster's inspection job if it has not ended (a running one stops
    at its next check); answers the inspection as it then stands."""
    runtime: Runtime = request.app.state.runtime
    caller = await authenticate(request)
    require_admin(caller, "stop an inspection")
    body = await rq.read_request(request, rq.InspectionStop)
    job = await _latest_inspection(request, body.cluster_uuid)
    if job is not None and not JobState(job.state).is_final:
        job = await cancel_job(runtime, job)
    return ok(inspection_report(job), extra=WITH_MESSAGE_CN)


# --- host tasks ----------------------------------------------------------------------


async def host_task_progress(request: Request) -> Response:
    """The progress (0 to 1) of the newest job on the host (or on any host of the
    cluster): 1 once it ended, 0 when the host never had one."""
    caller = await authenticate(request)
    body = await rq.read_request(request, rq.HostTaskProgress)

    def read(session: Session) -> float:
        hosts = [h.uuid for h in hosts_of_cluster(session, body.cluster_uuid)]
        cluster_or_404(session, body.cluster_uuid)
        if body.host_uuid is not None:
            if body.host_uuid not in hosts:
                raise ResourceNotFound(
                    f"host {body.host_uuid} is not in cluster {body.cluster_uuid}"
                )
            hosts = [body.host_uuid]
        job = latest_job(session, resource_uuids=hosts, actor=caller)
        if job is None:
            return 0.0
        if JobState(job.state).is_final:
            return 1.0
        return (job.progress or 0) / 100

    return ok({"progress": await in_session(request, read)})


# --- global config -------------------------------------------------------------------


async def get_global_config(request: Request) -> Response:
    await authenticate(request)
    body = await rq.read_request(request, rq.ClusterRef)

    def read(session: Session) -> dict[str, Any]:
        cluster_or_404(session, body.cluster_uuid)
        return {"cluster_uuid": body.cluster_uuid, **global_config.read(session, body.cluster_uuid)}

    return ok(await in_session(request, read))


async def set_global_config(request: Request) -> Response:
    caller = await authenticate(request)
    body = await rq.read_request(request, rq.GlobalConfigSet)
    changes = {
        key: value for key in global_config.KEYS if (value := getattr(body, key)) is not None
    }
    if not changes:
        raise InvalidParameter(f"set at least one of {', '.join(global_config.KEYS)}")

    def read(session: Session) -> dict[str, float]:
        if body.cluster_uuid is not None:
            cluster_or_404(session, body.cluster_uuid)
        return global_config.read(session, body.cluster_uuid)

    current = await in_session(request, read)
    return await submit_share(
        request,
        caller,
        UPDATE_GLOBAL_CONFIG,
        {"clusterUuid": body.cluster_uuid, **changes},
        resource_uuid=body.cluster_uuid,
        raw_body=body.model_dump(),
        data={"cluster_uuid": body.cluster_uuid or "", **current, **changes},
    )


# --- database snapshots --------------------------------------------------------------


def _meta_data(snapshots: list[str] | None) -> dict[str, Any]:
    return {
        "meta_data": {
            "status": inspection_status(),
            "Snapshot": snapshots,
            "DaemonState": "",
            "SnapshotConfig": None,
        }
    }


async def save_data_snapshot(request: Request) -> Response:
    caller = await authenticate(request)
    body = await rq.read_request(request, rq.DataSnapshotSave)
    await in_session(request, lambda s: cluster_or_404(s, body.cluster_uuid))
    return await submit_share(
        request,
        caller,
        SAVE_DATABASE_SNAPSHOT,
        {"clusterUuid": body.cluster_uuid},
        resource_uuid=None,
        raw_body=body.model_dump(),
        data=_meta_data(None),
    )


async def delete_data_snapshot(request: Request) -> Response:
    caller = await authenticate(request)
    body = await rq.read_request(request, rq.DataSnapshotDelete)
    await in_session(request, lambda s: cluster_or_404(s, body.cluster_uuid))
    return await submit_share(
        request,
        caller,
        DELETE_DATABASE_SNAPSHOT,
        {"clusterUuid": body.cluster_uuid, "fileName": body.file_name},
        resource_uuid=None,
        raw_body=body.model_dump(),
        data=_meta_data(None),
    )


async def list_data_snapshots(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    caller = await authenticate(request)
    require_admin(caller, "list database snapshots")
    body = await rq.read_request(request, rq.DataSnapshotList)
    await in_session(request, lambda s: cluster_or_404(s, body.cluster_uuid))
    names = await run_in_threadpool(list_snapshots, runtime.settings)
    return ok(_meta_data([n for n in names if body.file_name in n]))


ROUTES = [
    Route("/v1/cluster/add", add_cluster, methods=["POST"]),
    Route("/v1/cluster/delete", delete_cluster, methods=["POST"]),
    Route("/v1/cluster/get", get_cluster, methods=["GET"]),
    Route("/v1/cluster/list", list_clusters, methods=["GET"]),
    Route("/v1/cluster/system/service/storage", storage_service, methods=["GET"]),
    Route("/v1/cluster/inspection", start_inspection, methods=["POST"]),
    Route("/v1/cluster/inspection/progress", inspection_progress, methods=["GET"]),
    Route("/v1/cluster/inspection/stop", stop_inspection, methods=["POST"]),
    Route("/v1/cluster/host/task/progress", host_task_progress, methods=["GET"]),
    Route("/v1/cluster/get/global/config", get_global_config, methods=["GET"]),
    Route("/v1/cluster/set/global/config", set_global_config, methods=["POST"]),
    Route("/v1/cluster/data/snapshot/save", save_data_snapshot, methods=["POST"]),
    Route("/v1/cluster/data/snapshot/delete", delete_data_snapshot, methods=["POST"]),
    Route("/v1/cluster/data/snapshot/list", list_data_snapshots, methods=["GET"]),
]
