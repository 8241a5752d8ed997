"""Who is calling: the ``Authorization: OAuth <session uuid>`` header."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from volplane.errors import PermissionDenied, SessionInvalid, SessionRequired
from volplane.runtime import Runtime
from volplane.store.accounts import Caller

_OAUTH = re.compile(r"^OAuth\s+([0-9a-fA-F]{32})\s*$")

EndpointT = TypeVar("EndpointT", bound=Callable[..., object])


def public(endpoint: EndpointT) -> EndpointT:
    """Marks an endpoint that answers without a session (login, the docs, metrics).

    Every other endpoint authenticates before it reads anything of the request, so a
    caller without a session learns nothing but 401; ``tests/integration/
    test_auth_first.py`` holds every route of every dialect to it.
    """
    endpoint.public = True  # type: ignore[attr-defined]
    return endpoint


def session_uuid_from(header: str | None) -> str:
    if not header:
        raise SessionRequired()
    match = _OAUTH.match(header)
    if match is None:
        raise SessionInvalid("the Authorization header must be 'OAuth <32 hex session uuid>'")
    return match.group(1).lower()


async def authenticate(request: Request) -> Caller:
    runtime: Runtime = request.app.state.runtime
    session_uuid = session_uuid_from(request.headers.get("authorization"))
    caller = runtime.accounts.cached(session_uuid)
    if caller is None:
        caller = await run_in_threadpool(runtime.accounts.resolve, session_uuid)
    return caller


def require_admin(caller: Caller, what: str) -> None:
    if not caller.is_admin:
        raise PermissionDenied(f"only an admin account may {what}")
