"""Cinder's error shape, ``{"<fault>": {"code": <status>, "message": "..."}}``: the one
place errors of the Cinder dialect become HTTP.

``CinderErrors`` wraps the ``/v3`` mount, so every failure under it — a
``VolplaneError`` from shared code (auth, submission, the store), a ``CinderFault``
from Cinder's own validation, an unknown path or method, an unexpected exception —
is answered in Cinder's shape instead of ZStack's.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.routing import allow_header
from volplane.errors import VolplaneError

log = logging.getLogger("volplane.api.cinder")

# Cinder's wsgi.Fault names by status; anything else is a computeFault.
FAULT_NAMES = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    409: "conflictingRequest",
    413: "overLimit",
    415: "badMediaType",
    429: "overLimit",
    501: "notImplemented",
    503: "serviceUnavailable",
}


class CinderFault(Exception):
    """An error the Cinder dialect itself raises, with Cinder's own message."""

    status: ClassVar[int] = 500

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class CinderBadRequest(CinderFault):
    status = 400


class CinderUnauthorized(CinderFault):
    status = 401


class CinderForbidden(CinderFault):
    status = 403


class CinderNotFound(CinderFault):
    status = 404


class VersionNotAcceptable(CinderFault):
    status = 406


def fault_body(status: int, message: str) -> dict[str, Any]:
    return {FAULT_NAMES.get(status, "computeFault"): {"code": status, "message": message}}


def fault_response(status: int, message: str) -> JSONResponse:
    return JSONResponse(fault_body(status, message), status_code=status)


def response_for(exc: Exception, scope: Scope) -> JSONResponse:
    path = scope.get("path", "")
    if isinstance(exc, CinderFault):
        return fault_response(exc.status, exc.message)
    if isinstance(exc, VolplaneError):
        return fault_response(exc.status, exc.details)
    if isinstance(exc, HTTPException):
        if exc.status_code == 404:
            return fault_response(404, "The resource could not be found.")
        if exc.status_code == 405:
            response = fault_response(405, "The method is not allowed for this resource.")
            response.headers["Allow"] = allow_header(scope)
            return response
        return fault_response(exc.status_code, str(exc.detail))
    if (isinstance(exc, DBAPIError) and exc.connection_invalidated) or isinstance(
        exc, OperationalError
    ):
        log.warning("database unavailable", extra={"path": path})
        return fault_response(503, "The database is unavailable; retry shortly")
    log.exception("unexpected error", extra={"path": path}, exc_info=exc)
    return fault_response(
        500,
        "The server has either erred or is incapable of performing the requested "
        f"operation. ({type(exc).__name__})",
    )


class CinderErrors:
    """ASGI middleware: failures under it answer in Cinder's shape."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        # Starlette lets each route answer errors with the app's (ZStack) handlers;
        # none are registered below this point, so every error reaches this one.
        scope = {**scope, "starlette.exception_handlers": ({}, {})}
        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise
            await response_for(exc, scope)(scope, receive, send)
