"""Turns every failure into the ZStack error body: the one place this happens for the
ZStack dialect (the share-storage and Cinder dialects are mounted apps with handlers of
their own: ``api/share/envelope.py``, ``api/cinder/errors.py``). Database outages arrive
as ``DatabaseUnavailable``, mapped at the engine (``volplane/db.py``)."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api.routing import allow_header
from volplane.errors import MethodNotAllowed, RouteNotFound, VolplaneError

log = logging.getLogger("volplane.api")


def error_response(error: VolplaneError, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error.to_body(), status_code=error.status, headers=headers)


async def volplane_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, VolplaneError)
    return error_response(exc)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        return error_response(
            MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}"),
            headers={**(exc.headers or {}), "Allow": allow_header(request.scope)},
        )
    if exc.status_code == 404:
        return error_response(RouteNotFound(f"no API at {request.url.path}"))
    return error_response(VolplaneError(exc.detail))


async def unexpected_error(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error", extra={"path": request.url.path})
    return error_response(VolplaneError(f"internal error: {type(exc).__name__}"))


EXCEPTION_HANDLERS = {
    VolplaneError: volplane_error,
    HTTPException: http_error,
    Exception: unexpected_error,
}
