"""Endpoint factories for the shapes every resource repeats."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from api.auth import authenticate
from api.body import action_params, create_params, query_params, read_json, resource_uuid_of
from api.submit import submit
from volplane.errors import InvalidParameter
from volplane.operation import Operation

Endpoint = Callable[[Request], Awaitable[Response]]


def create_endpoint(
    operation: Operation[Any],
    *,
    name: str,
    from_path: Mapping[str, str] | None = None,
    not_recorded: frozenset[str] = frozenset(),
) -> Endpoint:
    """``POST``: ``{"params": {...}}`` → a job creating one resource, serialized on the
    new resource's uuid (the client's ``resourceUuid``, or a new one). ``from_path``
    copies path parameters into the params (path name → param name); a client may repeat
    them in the body (``api.body.without_path_echo``). ``not_recorded`` fields are
    accepted for compatibility and dropped."""
    path_params = dict(from_path or {})

    async def endpoint(request: Request) -> Response:
        caller = await authenticate(request)
        body = await read_json(request)
        params = create_params(body, path=request.path_params)
        params = {k: v for k, v in params.items() if k not in not_recorded}
        for path_name, param in path_params.items():
            params[param] = request.path_params[path_name]
        return await submit(
            request,
            caller,
            operation,
            params,
            resource_uuid=resource_uuid_of(params),
            raw_body=body,
        )

    endpoint.__name__ = endpoint.__qualname__ = name
    endpoint.api_name = operation.api_name  # type: ignore[attr-defined]  # for api/openapi.py
    endpoint.path_fields = path_params  # type: ignore[attr-defined]  # path name → field
    return endpoint


def attachment_endpoint(
    operation: Operation[Any], *, name: str, resource: tuple[str, str], target: tuple[str, str]
) -> Endpoint:
    """``POST|DELETE /v1/<targets>/{t}/<things>/{r}``: attach a resource to a target or
    detach it, serialized on the resource. ``resource`` and ``target`` are each
    (path parameter, request field)."""

    async def endpoint(request: Request) -> Response:
        caller = await authenticate(request)
        path = request.path_params
        body: dict[str, Any] = {}
        if request.method == "DELETE":
            query_params(request, known=(), path=path)
        else:
            body = await read_json(request, required=False)
            extra = set(create_params(body, path=path) if body else ()) - {
                "systemTags",
                "userTags",
            }
            if extra:  # the path says it all; only its own parameters may be repeated
                raise InvalidParameter(f"unknown parameters: {sorted(extra)}")
        uuid = path[resource[0]]
        params = {target[1]: path[target[0]], resource[1]: uuid}
        return await submit(request, caller, operation, params, resource_uuid=uuid, raw_body=body)

    endpoint.__name__ = endpoint.__qualname__ = name
    endpoint.api_name = operation.api_name  # type: ignore[attr-defined]  # for api/openapi.py
    endpoint.path_fields = dict([resource, target])  # type: ignore[attr-defined]
    return endpoint


def actions_endpoint(
    actions: Mapping[str, Operation[Any]],
    *,
    name: str,
    path_fields: Mapping[str, Mapping[str, str]] | None = None,
) -> Endpoint:
    """``PUT /v1/<things>/{uuid}/actions``: ``{"<action>": {...}}`` → that operation,
    serialized on the resource. ``actions`` maps action names to operations;
    ``path_fields`` names the path's uuid as those ZStack actions name it that do not
    call it ``uuid`` (see ``api.body.action_params``)."""
    allowed = set(actions)

    async def endpoint(request: Request) -> Response:
        caller = await authenticate(request)
        body = await read_json(request)
        action, params = action_params(
            body, allowed, path=request.path_params, path_fields=path_fields
        )
        uuid = request.path_params["uuid"]
        return await submit(
            request,
            caller,
            actions[action],
            {**params, "uuid": uuid},
            resource_uuid=uuid,
            raw_body=body,
        )

    endpoint.__name__ = endpoint.__qualname__ = name
    # Declared for the OpenAPI generator (api/openapi.py), which documents each action.
    endpoint.action_table = {  # type: ignore[attr-defined]
        action: operation.api_name for action, operation in actions.items()
    }
    return endpoint


def delete_endpoint(operation: Operation[Any], *, name: str) -> Endpoint:
    """``DELETE /v1/<things>/{uuid}[?deleteMode=...]``: the query string is the request.

    The path names the resource: a ``uuid`` in the query string must be the path's.
    Parameters the operation does not know (``sessionId``, ...) are ignored.
    """

    async def endpoint(request: Request) -> Response:
        caller = await authenticate(request)
        uuid = request.path_params["uuid"]
        query = known_query(request, operation)
        return await submit(
            request,
            caller,
            operation,
            {**query, "uuid": uuid},
            resource_uuid=uuid,
            raw_body=query,
        )

    endpoint.__name__ = endpoint.__qualname__ = name
    endpoint.api_name = operation.api_name  # type: ignore[attr-defined]  # for api/openapi.py
    return endpoint


def known_query(request: Request, operation: Operation[Any]) -> dict[str, str]:
    """The query parameters of a ``DELETE``/``GET`` that ``operation`` knows."""
    known = operation.request_model.model_fields
    return query_params(request, known=known, path=request.path_params)
