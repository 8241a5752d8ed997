"""Reading ZStack request bodies: ``{"params": ...}`` and ``{"<action>": ...}``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from api.json_body import read_json_value
from schemas.tables import new_uuid
from volplane.errors import InvalidJSON, InvalidParameter, UnknownAction

_ENVELOPE_KEYS = {"systemTags", "userTags"}


async def read_json(request: Request, *, required: bool = True) -> dict[str, Any]:
    raw, body = await read_json_value(request)
    if body is None:
        if required:
            raise InvalidJSON("the request body is empty")
        return {}
    if not isinstance(body, dict):
        raise InvalidJSON("the request body must be a JSON object")
    if b"\\u0000" in raw and _holds_nul(body):
        raise InvalidParameter("strings in the request may not contain NUL (\\u0000)")
    return body


def _holds_nul(value: Any) -> bool:
    """A NUL anywhere in the body: PostgreSQL cannot store it, so it is refused up front."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


def _tags(body: dict[str, Any]) -> dict[str, Any]:
    tags = {key: body[key] for key in _ENVELOPE_KEYS if body.get(key) is not None}
    for key, value in tags.items():
        if not isinstance(value, list):
            raise InvalidParameter(f"{key} must be a list of strings")
    return tags


def create_params(body: dict[str, Any]) -> dict[str, Any]:
    """The ``params`` of a creating call, with the envelope's tags folded in."""
    unknown = set(body) - {"params"} - _ENVELOPE_KEYS
    if unknown:
        raise InvalidParameter(f"unknown top-level fields: {sorted(unknown)}")
    params = body.get("params")
    if not isinstance(params, dict):
        raise InvalidParameter("the body must hold a 'params' object")
    return {**params, **_tags(body)}


def resource_uuid_of(params: dict[str, Any]) -> str:
    """The uuid a creating call gives its new resource: the client's ``resourceUuid``
    (ZStack lets clients choose it), else a new one."""
    return str(params.get("resourceUuid") or new_uuid())


def action_params(body: dict[str, Any], allowed: set[str]) -> tuple[str, dict[str, Any]]:
    """The one action named in a ``PUT .../actions`` body and its parameters."""
    actions = [key for key in body if key not in _ENVELOPE_KEYS]
    if len(actions) != 1:
        raise UnknownAction(f"the body must name exactly one action; allowed: {sorted(allowed)}")
    name = actions[0]
    if name not in allowed:
        raise UnknownAction(f"unknown action {name!r}; allowed: {sorted(allowed)}")
    params = body[name]
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise InvalidParameter(f"{name} must be an object")
    return name, params
