"""Steps every share-storage route shares: who calls, for which tenant, and how a
mutating call is handed to the job engine and answered."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from api.auth import authenticate
from api.share.envelope import ok
from api.submit import record_job
from schemas.tables import Account
from volplane.errors import PermissionDenied, ResourceNotFound
from volplane.operation import Operation
from volplane.runtime import Runtime
from volplane.store.accounts import Caller
from volplane.tenancy import Actor, as_tenant, may_act_for

__all__ = [
    "acting_for",
    "authenticate",
    "check_tenant",
    "in_session",
    "submit_share",
    "viewer",
]


def check_tenant(caller: Caller, tenant: str | None) -> None:
    """A tenant may only name itself; an admin may name any account."""
    if tenant is not None and not may_act_for(caller, tenant):
        raise PermissionDenied(f"tenant {tenant} is not the account of this session")


def viewer(caller: Caller, tenant: str | None) -> Actor:
    """Whose view a read shows: the caller's, or (an admin's filter) the named tenant's."""
    check_tenant(caller, tenant)
    return caller if tenant is None else as_tenant(tenant)


async def acting_for(request: Request, caller: Caller, tenant: str | None) -> Caller:
    """The caller a job runs as, so that what it creates belongs to ``tenant``.

    An admin naming another account acts for it: the job runs with that account's
    rights and the new volume is that account's, exactly as if it had called.
    """
    check_tenant(caller, tenant)
    if tenant is None or tenant == caller.account_uuid:
        return caller
    runtime: Runtime = request.app.state.runtime

    def lookup() -> Account | None:
        with runtime.sessions() as session:
            return session.get(Account, tenant)

    account = await run_in_threadpool(lookup)
    if account is None:
        raise ResourceNotFound(f"tenant {tenant} does not exist")
    return Caller(
        session_uuid=caller.session_uuid,
        account_uuid=account.uuid,
        account_name=account.name,
        is_admin=account.is_admin,
    )


async def submit_share(
    request: Request,
    caller: Caller,
    operation: Operation[Any],
    params: dict[str, Any],
    *,
    resource_uuid: str | None,
    raw_body: dict[str, Any],
    data: Any,
    extra: dict[str, Any] | None = None,
    secrets: dict[str, str] | None = None,
) -> JSONResponse:
    """Records the job through the same path as the ZStack dialect and answers at
    once with ``data`` (the object in its initial state) in the envelope, and the
    job's ``Location`` and ``X-Job-UUID`` headers."""
    job = await record_job(
        request,
        caller,
        operation,
        params,
        resource_uuid=resource_uuid,
        raw_body=raw_body,
        secrets=secrets,
    )
    return ok(data, headers={"Location": job.location, "X-Job-UUID": job.job_uuid}, extra=extra)


T = TypeVar("T")


async def in_session(request: Request, read: Callable[[Session], T]) -> T:
    """Runs ``read`` on a database session in a worker thread."""
    runtime: Runtime = request.app.state.runtime

    def run() -> T:
        with runtime.sessions() as session:
            return read(session)

    return await run_in_threadpool(run)
