"""Cinder's error shape, ``{"<fault>": {"code": <status>, "message": "..."}}``: the one
place errors of the Cinder dialect become HTTP.

The ``/v3`` mount is an app of its own whose exception handlers are these
(``EXCEPTION_HANDLERS``), so every failure under it — a
``VolplaneError`` from shared code (auth, submission, the store), a ``CinderFault``
from Cinder's own validation, an unknown path or method, an unexpected exception —
is answered in Cinder's shape instead of ZStack's.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Scope

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
    log.exception("unexpected error", extra={"path": path}, exc_info=exc)
    return fault_response(
        500,
        "The server has either erred or is incapable of performing the requested "
        f"operation. ({type(exc).__name__})",
    )


async def cinder_error(request: Request, exc: Exception) -> Response:
    return response_for(exc, request.scope)


# The Cinder app's handlers (api/cinder/routes.py): the one place this dialect turns
# errors into responses.
EXCEPTION_HANDLERS = {
    CinderFault: cinder_error,
    VolplaneError: cinder_error,
    HTTPException: cinder_error,
    Exception: cinder_error,
}
