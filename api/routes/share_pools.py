"""``/v1/pool/share/*`` of the share-storage dialect (seed 000): pools.

``create`` is ``AddPrimaryStorage`` (attached to the cluster), ``delete`` is
``DeletePrimaryStorage``, ``set`` is ``UpdatePrimaryStorage``, ``status/check`` is
``ReconnectPrimaryStorage``; lists and details read the same rows as
``/v1/primary-storage``. ``pool_type/support`` and ``fc_device/list`` answer from the
facts the cluster's agents reported. ``docs/share-api.md`` maps every field.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.share import requests as rq
from api.share.calls import authenticate, in_session, submit_share, viewer
from api.share.envelope import SUCCESS, ok
from api.share.inventories import (
    POOL_TYPE_NUMBERS,
    POOL_TYPE_OF_SHARE,
    SHARE_TYPE_OF_POOL,
    PoolContext,
    cluster_fields,
    share_pool,
)
from api.share.store import (
    account_names,
    cluster_or_404,
    hosts_of_cluster,
    pool_in_cluster,
    pool_page,
    share_pools,
    zone_names,
)
from schemas.infra import Host
from schemas.infra_inventories import host_inventory
from schemas.infra_requests import HOST_POOL_TYPES
from schemas.states import HostStatus, ResourceState
from schemas.tables import Zone, new_uuid, utcnow
from schemas.zstack_wire import POOL_TYPE_NAMES, shown
from volplane import global_config
from volplane.catalog.primary_storage import (
    ADD_PRIMARY_STORAGE,
    DELETE_PRIMARY_STORAGE,
    RECONNECT_PRIMARY_STORAGE,
    UPDATE_PRIMARY_STORAGE,
)
from volplane.errors import InvalidParameter, ResourceNotFound, UnsupportedPoolType
from volplane.store.accounts import Caller

THRESHOLD_ATTR = "overAllocationThreshold"
SHARE_NAME_OF_NUMBER = {number: name for name, number in POOL_TYPE_NUMBERS.items()}


def _threshold(attr: dict[str, Any]) -> float | None:
    raw = attr.get(THRESHOLD_ATTR)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        raise InvalidParameter(f"attr.{THRESHOLD_ATTR} must be a number, not {raw!r}") from None
    if not 0 < value <= 100:
        raise InvalidParameter(f"attr.{THRESHOLD_ATTR} must be in (0, 100]")
    return value


# --- reads ---------------------------------------------------------------------------


async def list_pools(request: Request) -> Response:
    caller = await authenticate(request)
    body = await rq.read_request(request, rq.PoolList)
    shown_to = viewer(caller, body.tenant)

    def read(session: Session) -> dict[str, Any]:
        cluster = cluster_or_404(session, body.cluster_uuid)
        pools, total = pool_page(
            session,
            cluster.uuid,
            actor=shown_to,
            filter_name=body.filter_name,
            page_num=body.page_num,
            page_size=body.page_size,
        )
        names = account_names(session, [body.tenant] if body.tenant else [])
        where = {"cluster_uuid": cluster.uuid, "cluster_name": cluster.name, "cluster_mode": ""}
        return {
            "infos": [
                {
                    "tenant": body.tenant or "",
                    "tenant_name": names.get(body.tenant or "", ""),
                    "pool": pool,
                    **where,
                }
                for pool in pools
            ],
            "each_range_list_state": [
                {
                    **where,
                    "namespace_uuid": "",
                    "result": {**SUCCESS, "data": ""},
                    "total_count": total,
                }
            ],
            "TotalCount": total,
        }

    return ok(await in_session(request, read))


async def get_pool(request: Request) -> Response:
    caller = await authenticate(request)
    body = await rq.read_request(request, rq.PoolGet)
    shown_to = viewer(caller, body.tenant)

    def read(session: Session) -> dict[str, Any]:
        cluster = cluster_or_404(session, body.cluster_uuid)
        pool = pool_in_cluster(session, body.pool_uuid, cluster.uuid, actor=shown_to)
        names = account_names(session, [body.tenant])
        return {
            "pool": share_pools(session, [pool])[0],
            **cluster_fields(
                cluster.uuid,
                cluster.name,
                tenant=body.tenant,
                tenant_name=names.get(body.tenant, ""),
            ),
            "PoolTypes": None,
        }

    return ok(await in_session(request, read))


async def supported_pool_types(request: Request) -> Response:
    """The types some connected host of the cluster can run, in type-number order."""
    await authenticate(request)
    body = await rq.read_request(request, rq.ClusterRef)

    def read(session: Session) -> list[str]:
        cluster_or_404(session, body.cluster_uuid)
        runnable: set[str] = set()
        for host in hosts_of_cluster(session, body.cluster_uuid):
            if host.status == HostStatus.CONNECTED:
                pool_types = (host.facts or {}).get("poolTypes", [])
                runnable.update(pool_types if isinstance(pool_types, list) else [])
        names = {SHARE_TYPE_OF_POOL[t] for t in runnable if t in SHARE_TYPE_OF_POOL}
        return sorted(names, key=POOL_TYPE_NUMBERS.__getitem__)

    types = await in_session(request, read)
    return ok({"pool": None, **cluster_fields(), "PoolTypes": types})


def _device_key(device: dict[str, Any]) -> str:
    """A device's stable name: its WWN link if it has one, else another by-id link,
    else its kernel name (what ``source`` of a disk pool may name)."""
    links = [str(link).rsplit("/", 1)[-1] for link in device.get("byId", [])]
    wwn = [link for link in links if link.startswith("wwn-")]
    return (wwn or links or [str(device.get("name", ""))])[0]


async def list_fc_devices(request: Request) -> Response:
    """Block devices the cluster's hosts in the zone reported, grouped by stable name:
    one seen by several hosts is a shared LUN."""
    await authenticate(request)
    body = await rq.read_request(request, rq.FcDeviceList)

    def read(session: Session) -> dict[str, list[dict[str, str]]]:
        cluster_or_404(session, body.cluster_uuid)
        if session.get(Zone, body.zone_uuid) is None:
            raise ResourceNotFound(f"zone {body.zone_uuid} does not exist")
        found: dict[str, list[dict[str, str]]] = {}
        for host in hosts_of_cluster(session, body.cluster_uuid):
            if host.zone_uuid != body.zone_uuid:
                continue
            devices = (host.facts or {}).get("blockDevices", [])
            for device in devices if isinstance(devices, list) else []:
                if not device.get("sizeBytes"):
                    continue
                found.setdefault(_device_key(device), []).append(
                    {"host_uuid": host.uuid, "host_name": host.name, "disk_path": device["path"]}
                )
        return found

    return ok({"list": await in_session(request, read)})


# --- mutations ---------------------------------------------------------------------


def _pool_host(session: Session, body: rq.PoolCreate) -> Host:
    """The host of a local or disk pool: the first of ``avail_host`` in the cluster,
    else the cluster's only host at ``ip``."""
    hosts = hosts_of_cluster(session, body.cluster_uuid)
    if body.avail_host:
        chosen = next((h for h in hosts if h.uuid in body.avail_host), None)
        if chosen is None:
            raise ResourceNotFound(f"no host of avail_host is in cluster {body.cluster_uuid}")
        return chosen
    at_ip = [h for h in hosts if h.management_ip == body.ip]
    if not at_ip:
        raise ResourceNotFound(f"cluster {body.cluster_uuid} has no host at {body.ip}")
    if len(at_ip) > 1:
        raise InvalidParameter(f"several hosts are at {body.ip}; name one in avail_host")
    return at_ip[0]


def create_params(
    body: rq.PoolCreate, host: Host | None, default_threshold: float
) -> dict[str, Any]:
    """``AddPrimaryStorage`` parameters for a share pool (a pure mapping)."""
    share_type = SHARE_NAME_OF_NUMBER.get(body.pool_type)
    if share_type is None:
        raise InvalidParameter(
            f"pool_type {body.pool_type} is unknown; types: "
            + ", ".join(f"{n}={name}" for name, n in POOL_TYPE_NUMBERS.items())
        )
    pool_type = POOL_TYPE_OF_SHARE.get(share_type)
    if pool_type is None:
        raise UnsupportedPoolType(f"{share_type} pools have no driver in volplane yet")
    threshold = _threshold(body.attr)
    params: dict[str, Any] = {
        "type": pool_type,
        "name": body.pool_name,
        "zoneUuid": body.zone_uuid,
        "clusterUuid": body.cluster_uuid,
        "overAllocationThreshold": threshold if threshold is not None else default_threshold,
        "availTenants": list(body.avail_tenant) or None,
    }
    options: list[str] = []
    if pool_type == "nfs":
        url = f"{body.ip}:{body.source or '/'}"
        if body.port:
            options.append(f"port={body.port}")
    elif pool_type == "samba":
        # The password travels as a job secret (create_pool), never in the parameters.
        if body.port and body.port != "445":
            raise InvalidParameter("samba pools are reached on port 445 only")
        url = f"//{body.ip}/{body.source.strip('/')}"
        if body.username:
            options.append(f"username={body.username}")
    else:
        if not body.source:
            raise InvalidParameter(f"a {share_type} pool needs source (a path or device)")
        url = body.source
    params["url"] = url
    if options:
        params["mountOptions"] = options
    if pool_type in HOST_POOL_TYPES:
        assert host is not None
        params["hostUuid"] = host.uuid
    return params


async def create_pool(request: Request) -> Response:
    caller = await authenticate(request)
    body = await rq.read_request(request, rq.PoolCreate)
    share_type = SHARE_NAME_OF_NUMBER.get(body.pool_type, "")
    needs_host = POOL_TYPE_OF_SHARE.get(share_type) in HOST_POOL_TYPES

    def read(session: Session) -> tuple[Host | None, float, str, str, list[dict[str, Any]]]:
        cluster = cluster_or_404(session, body.cluster_uuid)
        host = _pool_host(session, body) if needs_host else None
        threshold = global_config.read(session, cluster.uuid)[global_config.STORAGE_THRESHOLD]
        reach = [host] if host else hosts_of_cluster(session, cluster.uuid)
        zone = zone_names(session, [body.zone_uuid]).get(body.zone_uuid, "")
        return host, threshold, cluster.name, zone, [host_inventory(h) for h in reach]

    host, default_threshold, cluster_name, zone_name, hosts = await in_session(request, read)
    uuid = new_uuid()
    params = {**create_params(body, host, default_threshold), "resourceUuid": uuid}
    now = utcnow().isoformat()
    initial = {
        "uuid": uuid,
        "name": body.pool_name,
        "type": shown(POOL_TYPE_NAMES, params["type"]),
        "poolType": params["type"],
        "url": params["url"],
        "zoneUuid": body.zone_uuid,
        "hostUuid": params.get("hostUuid"),
        "state": ResourceState.ENABLED,
        "status": HostStatus.CONNECTING,
        "totalCapacity": 0,
        "availableCapacity": 0,
        "allocatedCapacity": 0,
        "overAllocationThreshold": params["overAllocationThreshold"],
        "createDate": now,
        "lastOpDate": now,
    }
    pool = share_pool(initial, PoolContext(zone_name=zone_name, hosts=hosts))
    return await submit_share(
        request,
        caller,
        ADD_PRIMARY_STORAGE,
        params,
        resource_uuid=uuid,
        raw_body=body.model_dump(),
        data={"pool": pool, **cluster_fields(body.cluster_uuid, cluster_name), "PoolTypes": None},
        secrets={"password": body.password} if body.password else None,
    )


async def _pool_now(
    request: Request, caller: Caller, tenant: str, pool_uuid: str, cluster: str
) -> dict[str, Any]:
    shown_to = viewer(caller, tenant)

    def read(session: Session) -> dict[str, Any]:
        pool = pool_in_cluster(session, pool_uuid, cluster, actor=shown_to)
        return share_pools(session, [pool])[0]

    return await in_session(request, read)


async def delete_pool(request: Request) -> Response:
    caller = await authenticate(request)
    body = await rq.read_request(request, rq.PoolDelete)
    pool = await _pool_now(request, caller, body.tenant, body.pool_uuid, body.cluster_uuid)
    return await submit_share(
        request,
        caller,
        DELETE_PRIMARY_STORAGE,
        {"uuid": pool["UUID"]},
        resource_uuid=pool["UUID"],
        raw_body=body.model_dump(),
        data={"pool": {}},
    )


async def set_pool(request: Request) -> Response:
    caller = await authenticate(request)
    body = await rq.read_request(request, rq.PoolSet)
    pool = await _pool_now(request, caller, body.tenant, body.pool_uuid, body.cluster_uuid)
    threshold = _threshold(body.attr)
    params: dict[str, Any] = {"uuid": pool["UUID"], "name": body.pool_name}
    if threshold is not None:
        params["overAllocationThreshold"] = threshold
        pool["Attr"] = {**pool["Attr"], THRESHOLD_ATTR: repr(threshold)}
    pool["Name"] = body.pool_name
    return await submit_share(
        request,
        caller,
        UPDATE_PRIMARY_STORAGE,
        params,
        resource_uuid=pool["UUID"],
        raw_body=body.model_dump(),
        data={"pool": pool, **cluster_fields(), "PoolTypes": None},
    )


async def check_pool_status(request: Request) -> Response:
    caller = await authenticate(request)
    body = await rq.read_request(request, rq.PoolStatusCheck)
    pool = await _pool_now(request, caller, body.tenant, body.pool_uuid, body.cluster_uuid)
    return await submit_share(
        request,
        caller,
        RECONNECT_PRIMARY_STORAGE,
        {"uuid": pool["UUID"]},
        resource_uuid=pool["UUID"],
        raw_body=body.model_dump(),
        data={"pool": pool, **cluster_fields(), "PoolTypes": None},
    )


ROUTES = [
    Route("/v1/pool/share/list", list_pools, methods=["POST"]),
    Route("/v1/pool/share/get", get_pool, methods=["POST"]),
    Route("/v1/pool/share/create", create_pool, methods=["POST"]),
    Route("/v1/pool/share/delete", delete_pool, methods=["POST"]),
    Route("/v1/pool/share/set", set_pool, methods=["POST"]),
    Route("/v1/pool/share/status/check", check_pool_status, methods=["POST"]),
    Route("/v1/pool/share/pool_type/support", supported_pool_types, methods=["GET"]),
    Route("/v1/pool/share/fc_device/list", list_fc_devices, methods=["POST"]),
]
