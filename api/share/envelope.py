"""The share-storage envelope, for answers and for errors.

Every share-storage route is served by a mounted app (``api/share/app.py``) whose
exception handlers are these: whatever a route raises becomes ``{"scode": <non-zero>,
"desc": <volplane code>, "message": <details>, "message_cn": <Chinese description>,
"stack": null, "data": null}`` with the HTTP status of the volplane error. This is the
one place this dialect turns errors into responses; the ZStack dialect's is
``api.errors``, Cinder's ``api.cinder.errors``.

``scode`` is derived from the volplane code so it is as stable as the code:
``VOLPLANE.<AREA>.<NNNN>`` becomes ``<area number> * 10000 + NNNN`` (``ARG.1002`` is
``21002``; ``docs/share-api.md`` has the table of areas).
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api.routing import allow_header
from volplane.errors import (
    AgentError,
    BadRequest,
    Conflict,
    DatabaseUnavailable,
    HostError,
    InsufficientCapacity,
    JobUUIDConflict,
    MethodNotAllowed,
    NotFound,
    PermissionDenied,
    RouteNotFound,
    StorageError,
    Unauthorized,
    UnsupportedPoolType,
    VolplaneError,
)

log = logging.getLogger("volplane.api")

SUCCESS = {"scode": 0, "desc": "", "message": "success", "message_cn": "成功", "stack": None}

AREA_NUMBERS = {
    "SYS": 1,
    "ARG": 2,
    "AUTH": 3,
    "JOB": 4,
    "RESOURCE": 5,
    "STORAGE": 6,
    "AGENT": 7,
    "HOST": 8,
}

# The Chinese message of an error: the first class in this list it is an instance of.
_MESSAGES_CN: list[tuple[type[VolplaneError], str]] = [
    (DatabaseUnavailable, "数据库暂不可用, 请稍后重试"),
    (JobUUIDConflict, "X-Job-UUID 已用于另一个请求"),
    (BadRequest, "请求参数错误"),
    (Unauthorized, "未登录或会话无效"),
    (PermissionDenied, "没有权限执行此操作"),
    (NotFound, "资源不存在"),
    (InsufficientCapacity, "存储池容量不足"),
    (UnsupportedPoolType, "不支持的存储池类型"),
    (Conflict, "资源状态不允许此操作"),
    (StorageError, "存储操作失败"),
    (AgentError, "主机代理不可达或出错"),
    (HostError, "添加主机或部署主机代理失败"),
    (VolplaneError, "内部错误"),
]


def scode_of(code: str) -> int:
    """``VOLPLANE.ARG.1002`` → ``21002``; an unknown shape → ``10000`` (internal)."""
    parts = code.split(".")
    if len(parts) == 3 and parts[1] in AREA_NUMBERS and parts[2].isdigit():
        return AREA_NUMBERS[parts[1]] * 10000 + int(parts[2])
    return 10000


def message_cn_of(error: VolplaneError) -> str:
    return next(text for cls, text in _MESSAGES_CN if isinstance(error, cls))


def envelope(data: Any, **extra: Any) -> dict[str, Any]:
    """A success envelope around ``data``; ``extra`` adds the keys some seed answers
    carry besides the usual ones (``messageCn``, ``status_code``...)."""
    return {**SUCCESS, **extra, "data": data}


def ok(
    data: Any, *, headers: dict[str, str] | None = None, extra: dict[str, Any] | None = None
) -> JSONResponse:
    return JSONResponse(envelope(data, **(extra or {})), headers=headers)


def error_envelope(error: VolplaneError) -> dict[str, Any]:
    return {
        "scode": scode_of(error.code),
        "desc": error.code,
        "message": error.details,
        "message_cn": message_cn_of(error),
        "stack": None,
        "data": None,
    }


def error_response(error: VolplaneError) -> JSONResponse:
    return JSONResponse(error_envelope(error), status_code=error.status)


async def volplane_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, VolplaneError)
    return error_response(exc)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        response = error_response(
            MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}")
        )
        response.headers["Allow"] = allow_header(request.scope)
        return response
    if exc.status_code == 404:
        return error_response(RouteNotFound(f"no API at {request.url.path}"))
    return error_response(VolplaneError(exc.detail))


async def unexpected_error(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error", extra={"path": request.url.path})
    return error_response(VolplaneError(f"internal error: {type(exc).__name__}"))


# The share-storage apps' handlers (api/share/app.py): the one place this dialect turns
# errors into responses.
EXCEPTION_HANDLERS = {
    VolplaneError: volplane_error,
    HTTPException: http_error,
    Exception: unexpected_error,
}
