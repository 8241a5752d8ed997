"""``/v1/global-configurations``: ZStack's global configurations volplane acts on
(``volplane.zstack_config``): QueryGlobalConfig and UpdateGlobalConfig."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.auth import authenticate, require_admin
from api.body import action_params, read_json
from api.listing import query_pairs
from api.query import Operator, parse_query
from volplane import zstack_config
from volplane.errors import InvalidParameter, InvalidQuery
from volplane.runtime import Runtime

_FIELDS = ("category", "name", "description", "defaultValue", "value")
_OPERATORS = {
    Operator.EQ: lambda have, want: have == want[0],
    Operator.NE: lambda have, want: have != want[0],
    Operator.IN: lambda have, want: have in want,
    Operator.NOT_IN: lambda have, want: have not in want,
}


def _inventories(runtime: Runtime) -> list[dict[str, Any]]:
    with runtime.sessions() as session:
        values = zstack_config.values(session, runtime.settings)
    defaults = zstack_config.defaults(runtime.settings)
    return [
        {
            "category": entry.category,
            "name": entry.name,
            "description": entry.description,
            "defaultValue": defaults[entry.key],
            "value": values[entry.key],
        }
        for entry in zstack_config.ENTRIES
    ]


async def query_global_configs(request: Request) -> Response:
    """The few entries there are, filtered in memory: ``=``, ``!=``, ``?=``, ``!?=`` on
    their fields, ``count``, ``start``, ``limit``."""
    runtime: Runtime = request.app.state.runtime
    await authenticate(request)
    spec = parse_query(query_pairs(request))
    found = await run_in_threadpool(_inventories, runtime)
    for condition in spec.conditions:
        check = _OPERATORS.get(condition.op)
        if condition.relations or condition.field not in _FIELDS or check is None:
            raise InvalidQuery(
                f"{condition}: global configurations answer =, !=, ?=, !?= on {_FIELDS}"
            )
        found = [c for c in found if check(c[condition.field], condition.values())]
    if spec.count:
        return JSONResponse({"total": len(found)})
    page = found[spec.start : spec.start + spec.limit]
    body: dict[str, Any] = {"inventories": page}
    if spec.reply_with_count:
        body["total"] = len(found)
    return JSONResponse(body)


async def update_global_config(request: Request) -> Response:
    """ZStack's UpdateGlobalConfig, answered at once with the entry (its SDKs read a
    200 as the result)."""
    runtime: Runtime = request.app.state.runtime
    caller = await authenticate(request)
    require_admin(caller, "change global configurations")
    body = await read_json(request)
    _, params = action_params(body, {"updateGlobalConfig"}, path=request.path_params)
    params.pop("systemTags", None), params.pop("userTags", None)
    value = params.pop("value", None)
    if params or not isinstance(value, str | int):
        raise InvalidParameter("updateGlobalConfig takes one string 'value'")
    entry = zstack_config.entry(request.path_params["category"], request.path_params["name"])

    def write() -> dict[str, Any]:
        with runtime.sessions() as session:
            zstack_config.update(session, entry, str(value))
            session.commit()
        return next(c for c in _inventories(runtime) if c["name"] == entry.name)

    return JSONResponse({"inventory": await run_in_threadpool(write)})


ROUTES = [
    Route("/v1/global-configurations", query_global_configs, methods=["GET"]),
    Route(
        "/v1/global-configurations/{category}/{name}/actions",
        update_global_config,
        methods=["PUT"],
    ),
]
