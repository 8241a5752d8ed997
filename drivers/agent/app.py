"""The agent's HTTP surface: bearer-token auth and routes onto the operation table."""

from __future__ import annotations

import asyncio
import hmac
import json
import os
import shutil
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version
from typing import Any

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from drivers.agent.chunk_routes import chunk_store_routes
from drivers.agent.config import AgentConfig
from drivers.agent.operations import Operation, OperationTable
from drivers.agent.pools import ConnectedPools
from drivers.agent.sweeper import sweep_forever, sweep_journal
from drivers.facts import host_facts
from schemas.agent import (
    CHUNK_STORE_PATH,
    EXPORT_PATH,
    Health,
    OperationRecord,
    StartOperation,
    export_ticket,
)
from volplane import layout
from volplane.errors import (
    AgentAuthFailed,
    InvalidJSON,
    InvalidParameter,
    InvalidStoragePath,
    MethodNotAllowed,
    RouteNotFound,
    VolplaneError,
)


def _carries_ticket(path: str) -> bool:
    return path == EXPORT_PATH or path.startswith(CHUNK_STORE_PATH + "/")


class BearerAuth:
    """Refuses every request that lacks ``Authorization: Bearer <token>``."""

    def __init__(self, app: ASGIApp, *, token: str) -> None:
        self.app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Exports carry their own ticket (schemas.agent.export_ticket), checked by the route.
        if scope["type"] == "http" and not _carries_ticket(scope["path"]):
            given = dict(scope["headers"]).get(b"authorization", b"")
            if not hmac.compare_digest(given, self._expected):
                # AgentAuthFailed is a 502 when a worker reports it; here it is the 401 itself.
                refused = AgentAuthFailed("missing or wrong agent token")
                response = JSONResponse(
                    refused.to_body(), status_code=401, headers={"WWW-Authenticate": "Bearer"}
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _error_response(exc: VolplaneError) -> JSONResponse:
    return JSONResponse(exc.to_body(), status_code=exc.status)


async def _volplane_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, VolplaneError)
    return _error_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        return _error_response(MethodNotAllowed())
    return _error_response(RouteNotFound(f"{request.method} {request.url.path}"))


def _seconds(request: Request, name: str, limit: float) -> float:
    raw = request.query_params.get(name, "0")
    try:
        value = float(raw)
    except ValueError as exc:
        raise InvalidParameter(f"{name} must be a number, got {raw!r}") from exc
    return min(max(value, 0.0), limit)


def create_agent_app(config: AgentConfig) -> Starlette:
    config.data_dir.mkdir(parents=True, exist_ok=True)
    pools = ConnectedPools(config.data_dir / "pools.json", allowed_roots=config.allowed_roots)
    table = OperationTable(
        journal_dir=config.data_dir / "operations",
        pools=pools,
        retention_seconds=config.operation_retention_seconds,
    )

    async def health(request: Request) -> Response:
        return JSONResponse(
            Health(
                status="ok",
                version=version("volplane"),
                release=config.release,
                qemu_img=shutil.which("qemu-img") is not None,
            ).wire()
        )

    async def facts(request: Request) -> Response:
        found = await asyncio.to_thread(host_facts, config.data_dir)
        return JSONResponse(found.wire())

    async def start_operation(request: Request) -> Response:
        try:
            body: Any = await request.json()
        except json.JSONDecodeError as exc:
            raise InvalidJSON() from exc
        try:
            start = StartOperation.model_validate(body)
        except ValidationError as exc:
            raise InvalidParameter(str(exc)) from exc
        op = table.start(request.path_params["op_id"], start)
        return JSONResponse((await _wait(request, op)).wire())

    async def get_operation(request: Request) -> Response:
        op = table.get(request.path_params["op_id"])
        return JSONResponse((await _wait(request, op)).wire())

    async def _wait(request: Request, op: Operation) -> OperationRecord:
        """``waitSeconds`` long-polls; ``progressSeconds`` spaces out progress-only answers."""
        limit = config.max_wait_seconds
        return await table.wait(
            op,
            _seconds(request, "waitSeconds", limit),
            progress_every=_seconds(request, "progressSeconds", limit),
        )

    async def cancel_operation(request: Request) -> Response:
        op = table.cancel(request.path_params["op_id"])
        return JSONResponse(op.record.wire())

    async def export_file(request: Request) -> Response:
        """One pool file for another agent's ``image.pull``, if the ticket is valid."""
        path = request.query_params.get("path", "")
        try:
            expires = int(request.query_params.get("expires", ""))
        except ValueError as exc:
            raise InvalidParameter("expires must be unix seconds") from exc
        expected = export_ticket(config.token, path, expires)
        ticket = request.query_params.get("ticket", "")
        if expires < time.time() or not hmac.compare_digest(ticket.encode(), expected.encode()):
            refused = AgentAuthFailed("missing, wrong or expired export ticket")
            return JSONResponse(refused.to_body(), status_code=401)
        resolved = pools.resolve(path)
        if not resolved.is_file():
            raise InvalidStoragePath(f"{path} does not exist or is not a file")
        role = layout.recognize(resolved.name)
        if role is not None and role.role == "export":
            # Fetched now: the sweep leaves the export alone for its grace from here.
            os.utime(resolved)
        return FileResponse(resolved, media_type="application/octet-stream")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Nothing runs yet: whatever a killed agent left is nobody's.
        sweep_journal(config.data_dir / "operations")
        # Shares this agent mounts (smbnetfs) live as long as it does.
        await asyncio.to_thread(pools.mount_all)
        # The first sweep runs at once, beside the first requests: an agent busy sweeping
        # a large pool must not look dead (what operations hold is never removed).
        grace = config.export_grace_seconds
        sweeping = asyncio.create_task(
            sweep_forever(pools, config.sweep_seconds, export_grace=grace, also=table.prune_journal)
        )
        yield
        sweeping.cancel()
        await table.shutdown()
        await asyncio.to_thread(pools.unmount_all)

    return Starlette(
        routes=[
            Route("/v1/health", health),
            Route("/v1/facts", facts),
            Route("/v1/operations/{op_id}", start_operation, methods=["PUT"]),
            Route("/v1/operations/{op_id}", get_operation, methods=["GET"]),
            Route("/v1/operations/{op_id}/cancel", cancel_operation, methods=["POST"]),
            Route(EXPORT_PATH, export_file, methods=["GET"]),
            *chunk_store_routes(config.token, pools),
        ],
        middleware=[Middleware(BearerAuth, token=config.token)],
        exception_handlers={VolplaneError: _volplane_error, HTTPException: _http_error},
        lifespan=lifespan,
    )
