"""Cinder's manageable-volume endpoints (CONTRACT §9), translated onto ManageVolume and
UnmanageVolume (``workers/operations/manage.py``); nothing is implemented twice.

- Auth: ``X-Auth-Token: <session uuid>``. ``{project_id}`` must be the session's
  account; an admin may name any project (a managed volume then belongs to that
  account). Another project's id from a non-admin: ``403 forbidden``.
- Listing, manage and unmanage are admin-only, as Cinder's default policy has them.
- Checks Cinder makes synchronously (host exists, volume exists and has no snapshots)
  are made here too, so clients get Cinder's 400/404; the job checks again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from api.auth import public
from api.cinder import wire
from api.cinder.errors import (
    EXCEPTION_HANDLERS,
    CinderBadRequest,
    CinderForbidden,
    CinderNotFound,
    CinderUnauthorized,
)
from api.cinder.versions import v3_version
from api.json_body import read_json_value
from api.manageable import list_manageable
from api.submit import base_url, record_job
from schemas.infra import Host, PrimaryStorage
from schemas.storage import Volume, VolumeSnapshot, VolumeStatus
from schemas.storage_inventories import reason_not_safe
from schemas.tables import Account, ApiJob, Zone, new_uuid, utcnow
from volplane.catalog.manage import MANAGE_VOLUME, UNMANAGE_VOLUME
from volplane.errors import InvalidJSON, Unauthorized
from volplane.jobs import JobState
from volplane.runtime import Runtime
from volplane.store.accounts import Caller
from volplane.store.manageable import manage_job_of, resolve_pool
from volplane.tenancy import may_act_for, may_see


def _plain(uuid: str) -> str:
    return uuid.replace("-", "").lower()


@dataclass(frozen=True)
class CinderCall:
    caller: Caller
    project_id: str
    version: wire.Version
    runtime: Runtime

    def require_admin(self, policy: str) -> None:
        if not self.caller.is_admin:
            raise CinderForbidden(f"Policy doesn't allow {policy} to be performed.")

    def may_see(self, account_uuid: str) -> bool:
        return may_act_for(self.caller, account_uuid)


async def cinder_call(request: Request) -> CinderCall:
    runtime: Runtime = request.app.state.runtime
    token = _plain(request.headers.get("x-auth-token", "").strip())
    if len(token) != 32:
        raise CinderUnauthorized("The request you have made requires authentication.")
    caller = runtime.accounts.cached(token)
    if caller is None:
        try:
            caller = await run_in_threadpool(runtime.accounts.resolve, token)
        except Unauthorized as exc:
            raise CinderUnauthorized(exc.details) from exc
    project_id = _plain(request.path_params["project_id"])
    if not may_act_for(caller, project_id):
        raise CinderForbidden(
            f"Project {request.path_params['project_id']} is not the session's account"
        )
    version = wire.requested_version(
        request.headers.get("openstack-api-version"),
        request.headers.get("openstack-volume-api-version"),
    )
    return CinderCall(caller, project_id, version, runtime)


def cinder_json(call: CinderCall, body: Any, status: int = 200, **headers: str) -> Response:
    headers = {
        "OpenStack-API-Version": f"volume {wire.format_version(call.version)}",
        "Vary": "OpenStack-API-Version",
        **headers,
    }
    if body is None:
        return Response(status_code=status, headers=headers)
    return JSONResponse(body, status_code=status, headers=headers)


async def read_body(request: Request) -> Any:
    try:
        return (await read_json_value(request))[1]
    except InvalidJSON:
        raise CinderBadRequest("Malformed request body") from None


# --- listing ------------------------------------------------------------------------


async def list_manageable_volumes(request: Request) -> Response:
    return await _listing(request, detailed=False, legacy=False)


async def list_manageable_volumes_detail(request: Request) -> Response:
    return await _listing(request, detailed=True, legacy=False)


async def list_os_volume_manage(request: Request) -> Response:
    return await _listing(request, detailed=False, legacy=True)


async def list_os_volume_manage_detail(request: Request) -> Response:
    return await _listing(request, detailed=True, legacy=True)


async def _listing(request: Request, *, detailed: bool, legacy: bool) -> Response:
    call = await cinder_call(request)
    if not legacy:
        wire.require_version(call.version, wire.MANAGEABLE_VERSION, "manageable_volumes")
    call.require_admin("volume_extension:list_manageable")
    params = dict(request.query_params)
    page = wire.parse_page(params)
    host = params.get("host") or None
    cluster = params.get("cluster") or None if call.version >= wire.LIST_CLUSTER_VERSION else None
    if (host is None) == (cluster is None):
        raise CinderBadRequest("One and only one of cluster and host must be set.")
    runtime = call.runtime

    def ask() -> list[dict[str, Any]]:
        with runtime.sessions() as session:
            pool = resolve_pool(session, host=host, cluster=cluster)
            listing = list_manageable(session, request.app.state.agents, pool.uuid)
        return [
            wire.manageable_entry(
                source_name=image.name,
                size=image.virtual_size if image.virtual_size is not None else image.file_size,
                safe=image.safe_to_manage,
                reason=reason_not_safe(image),
                volume_uuid=image.volume_uuid,
                extra={
                    "format": image.format,
                    "virtual_size": image.virtual_size,
                    "backing_file": image.backing_file,
                    "reasons": [reason.code for reason in image.reasons],
                },
            )
            for image in listing.images
        ]

    entries = wire.paginate(await run_in_threadpool(ask), page)
    if not detailed:
        entries = [wire.summary(entry) for entry in entries]
    return cinder_json(call, {"manageable-volumes": entries})


# --- manage ---------------------------------------------------------------------------


async def manage_volume(request: Request) -> Response:
    return await _manage(request, legacy=False)


async def os_volume_manage(request: Request) -> Response:
    return await _manage(request, legacy=True)


async def _manage(request: Request, *, legacy: bool) -> Response:
    call = await cinder_call(request)
    if not legacy:
        wire.require_version(call.version, wire.MANAGEABLE_VERSION, "manageable_volumes")
    body = await read_body(request)
    wanted = wire.parse_manage(body, call.version)
    call.require_admin("volume_extension:volume_manage")
    if wanted.volume_type is not None:
        raise CinderNotFound(f"Volume type with name {wanted.volume_type} could not be found.")
    runtime = call.runtime

    def place() -> tuple[PrimaryStorage, str | None]:
        with runtime.sessions() as session:
            pool = resolve_pool(session, host=wanted.host, cluster=wanted.cluster)
            if call.project_id != call.caller.account_uuid and (
                session.get(Account, call.project_id) is None
            ):
                raise CinderNotFound(f"Project {call.project_id} could not be found.")
            return pool, _zone_name(session, pool)

    pool, zone = await run_in_threadpool(place)
    params: dict[str, Any] = {"primaryStorageUuid": pool.uuid, "sourceName": wanted.source_name}
    if wanted.name is not None:
        params["name"] = wanted.name
    if wanted.description is not None:
        params["description"] = wanted.description
    if call.project_id != call.caller.account_uuid:
        params["accountUuid"] = call.project_id
    volume_id = new_uuid()
    job = await record_job(
        request, call.caller, MANAGE_VOLUME, params, resource_uuid=volume_id, raw_body=body
    )
    now = utcnow()
    view = wire.volume_view(
        volume_id=volume_id,
        project_id=call.project_id,
        status="creating",
        size=0,
        name=wanted.name,
        description=wanted.description,
        created_at=now,
        updated_at=None,
        base_url=base_url(request, runtime),
        availability_zone=zone,
        host=wanted.host or wanted.cluster,
        metadata=wanted.metadata,
        bootable=wanted.bootable,
        version=call.version,
    )
    return cinder_json(call, {"volume": view}, 202, **{"X-Job-UUID": job.job_uuid})


def _zone_name(session: Any, pool: PrimaryStorage) -> str | None:
    zone = session.get(Zone, pool.zone_uuid)
    return zone.name if zone is not None else None


def _host_name(session: Any, pool: PrimaryStorage) -> str:
    host = session.get(Host, pool.host_uuid) if pool.host_uuid else None
    node = host.name if host is not None else pool.uuid
    return f"{node}@{pool.name}#{pool.name}"


# --- volumes ------------------------------------------------------------------------


async def show_volume(request: Request) -> Response:
    call = await cinder_call(request)
    volume_id = _plain(request.path_params["volume_id"])
    runtime = call.runtime
    root = base_url(request, runtime)

    def view() -> dict[str, Any]:
        with runtime.sessions() as session:
            volume = session.get(Volume, volume_id)
            if volume is not None and may_see(volume, call.caller):
                pool = session.get(PrimaryStorage, volume.primary_storage_uuid)
                return wire.volume_view(
                    volume_id=volume.uuid,
                    project_id=volume.account_uuid,
                    status=wire.STATUS.get(volume.status, volume.status.lower()),
                    size=volume.size,
                    name=volume.name,
                    description=volume.description,
                    created_at=volume.create_date,
                    updated_at=volume.last_op_date,
                    base_url=root,
                    availability_zone=_zone_name(session, pool) if pool else None,
                    host=_host_name(session, pool) if pool and call.caller.is_admin else None,
                    version=call.version,
                )
            if volume is None:
                job = manage_job_of(session, volume_id)
                if job is not None:
                    found = _view_of_job(job, call, root)
                    if found is not None:
                        return found
        raise CinderNotFound(f"Volume {request.path_params['volume_id']} could not be found.")

    return cinder_json(call, {"volume": await run_in_threadpool(view)})


def _view_of_job(job: ApiJob, call: CinderCall, root: str) -> dict[str, Any] | None:
    """A volume still being adopted (or whose adoption failed) has no row yet: its
    job tells what it is, ``creating`` or ``error``."""
    params: dict[str, Any] = (job.request or {}).get("params", {})
    owner = params.get("accountUuid") or job.account_uuid
    if not call.may_see(owner):
        return None
    if job.state in (JobState.PENDING, JobState.RUNNING):
        status = "creating"
    elif job.state in (JobState.FAILED, JobState.CANCELLED):
        status = "error"
    else:
        return None  # it was made, and has gone since
    assert job.resource_uuid is not None
    return wire.volume_view(
        volume_id=job.resource_uuid,
        project_id=owner,
        status=status,
        size=0,
        name=params.get("name"),
        description=params.get("description"),
        created_at=job.create_date,
        updated_at=job.finish_date,
        base_url=root,
        version=call.version,
    )


async def volume_action(request: Request) -> Response:
    call = await cinder_call(request)
    body = await read_body(request)
    if not isinstance(body, dict) or len(body) != 1:
        raise CinderBadRequest("The action body must name exactly one action")
    action, argument = next(iter(body.items()))
    if action != "os-unmanage":
        raise CinderBadRequest(f"There is no such action: {action}")
    if argument is not None and not isinstance(argument, dict):
        raise CinderBadRequest("os-unmanage takes no arguments")
    call.require_admin("volume_extension:volume_unmanage")
    volume_id = _plain(request.path_params["volume_id"])
    runtime = call.runtime

    def check() -> None:
        with runtime.sessions() as session:
            volume = session.get(Volume, volume_id)
            if volume is None:
                raise CinderNotFound(
                    f"Volume {request.path_params['volume_id']} could not be found."
                )
            if volume.status != VolumeStatus.READY:
                raise CinderBadRequest(
                    f"Invalid volume: Volume status must be available, but it is "
                    f"{wire.STATUS.get(volume.status, volume.status.lower())}."
                )
            has_snapshots = session.scalar(
                select(VolumeSnapshot.uuid).where(VolumeSnapshot.volume_uuid == volume.uuid)
            )
            if has_snapshots is not None:
                raise CinderBadRequest(
                    "Invalid volume: Volume cannot be unmanaged while it has snapshots."
                )

    await run_in_threadpool(check)
    job = await record_job(
        request,
        call.caller,
        UNMANAGE_VOLUME,
        {"uuid": volume_id},
        resource_uuid=volume_id,
        raw_body=body,
    )
    return cinder_json(call, None, 202, **{"X-Job-UUID": job.job_uuid})


@public
async def v3_root(request: Request) -> Response:
    """``GET /v3/`` (and ``/v3``, ``api/routes/root.py``): the v3 version document."""
    return JSONResponse({"versions": [v3_version(base_url(request, request.app.state.runtime))]})


def cinder_mount(state: State) -> Mount:
    """Everything under ``/v3``: an app of its own answering errors in Cinder's shape,
    sharing the gateway's ``state``."""
    app = Starlette(
        routes=[
            Route("/", v3_root, methods=["GET"]),
            Route("/{project_id}/manageable_volumes", list_manageable_volumes, methods=["GET"]),
            Route(
                "/{project_id}/manageable_volumes/detail",
                list_manageable_volumes_detail,
                methods=["GET"],
            ),
            Route("/{project_id}/manageable_volumes", manage_volume, methods=["POST"]),
            Route("/{project_id}/os-volume-manage", list_os_volume_manage, methods=["GET"]),
            Route(
                "/{project_id}/os-volume-manage/detail",
                list_os_volume_manage_detail,
                methods=["GET"],
            ),
            Route("/{project_id}/os-volume-manage", os_volume_manage, methods=["POST"]),
            Route("/{project_id}/volumes/{volume_id}", show_volume, methods=["GET"]),
            Route("/{project_id}/volumes/{volume_id}/action", volume_action, methods=["POST"]),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
    )
    app.state = state
    mount = Mount("/v3", app=app)
    # Starlette's ``.*`` stops at a newline: a path under /v3 holding one (%0A) would
    # fall out of the mount and be answered in the ZStack dialect's shape.
    mount.path_regex = re.compile(mount.path_regex.pattern, re.DOTALL)
    return mount
