"""Reading ZStack requests: ``{"params": ...}``, ``{"<action>": ...}`` and query strings.

ZStack's SDKs fill every path parameter into the URL and also repeat it: in the body
of a ``POST``/``PUT`` (under the message's field name) and in the query string of a
``GET``/``DELETE``, next to ``sessionId=``. ZStack's server takes the path's value.
Here a repeated value equal to the path's is accepted and dropped, a different one is
a 400 (a client that means two resources is told so); other unknown body fields stay
a 400, while query parameters a call does not know are ignored, as ZStack ignores them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
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


def without_path_echo(params: Mapping[str, Any], path: Mapping[str, str]) -> dict[str, Any]:
    """``params`` without the path parameters the client repeated in them.

    ``path`` maps the field names a ZStack client uses for the path parameters to their
    values in the URL. Equal repetitions go; a different value is a 400.
    """
    kept = dict(params)
    for name, value in path.items():
        if name not in kept:
            continue
        given = kept.pop(name)
        if str(given) != value:
            raise InvalidParameter(
                f"{name} is {str(given)[:64]!r} in the request but {value!r} in the path"
            )
    return kept


def create_params(body: dict[str, Any], *, path: Mapping[str, str]) -> dict[str, Any]:
    """The ``params`` of a creating call, with the envelope's tags folded in (ZStack's
    SDK sends them inside ``params``, curl users beside it) and the path parameters the
    client repeated removed (see ``without_path_echo``)."""
    unknown = set(body) - {"params"} - _ENVELOPE_KEYS
    if unknown:
        raise InvalidParameter(f"unknown top-level fields: {sorted(unknown)}")
    params = body.get("params")
    if not isinstance(params, dict):
        raise InvalidParameter("the body must hold a 'params' object")
    return {**without_path_echo(params, path), **_tags(body)}


def query_params(
    request: Request, *, known: Collection[str], path: Mapping[str, str]
) -> dict[str, str]:
    """The parameters of a ``GET``/``DELETE`` call from its query string: the ``known``
    ones; the rest (``sessionId``, repeated path parameters once checked) is ignored."""
    pairs = request.query_params.multi_items()
    without_path_echo(dict(pairs), path)
    return {key: value for key, value in pairs if key in known and key not in path}


def resource_uuid_of(params: dict[str, Any]) -> str:
    """The uuid a creating call gives its new resource: the client's ``resourceUuid``
    (ZStack lets clients choose it), else a new one."""
    return str(params.get("resourceUuid") or new_uuid())


def action_params(
    body: dict[str, Any],
    allowed: Collection[str],
    *,
    path: Mapping[str, str],
    path_fields: Mapping[str, Mapping[str, str]] | None = None,
) -> tuple[str, dict[str, Any]]:
    """The one action named in a ``PUT .../actions`` body and its parameters, without
    the path parameters the client repeated (``path``; ``path_fields`` renames them for
    actions whose ZStack message names the path's uuid otherwise, e.g.
    ``{"syncPrimaryStorageCapacity": {"uuid": "primaryStorageUuid"}}``)."""
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
    renames = (path_fields or {}).get(name, {})
    echoed = {renames.get(key, key): value for key, value in path.items()}
    return name, without_path_echo(params, echoed)
