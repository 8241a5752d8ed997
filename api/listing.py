"""Collection GETs: the query language applied to a declared resource."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api.auth import authenticate
from api.query import QUERY_PARAMETERS, compile_query, parse_query, run_query
from api.resources import inventory_of, query_registry
from volplane.errors import ResourceNotFound
from volplane.runtime import Runtime

QUERY_KEYS = frozenset(QUERY_PARAMETERS)


def query_pairs(request: Request) -> list[tuple[str, str]]:
    """The query language's parameters of a collection ``GET``, in order. Others
    (``sessionId`` and whatever else a ZStack SDK adds) are ignored, as ZStack's server
    ignores them; the query language's own keep their validation."""
    return [(k, v) for k, v in request.query_params.multi_items() if k in QUERY_KEYS]


def project(inventories: list[dict[str, Any]], names: Any) -> list[dict[str, Any]]:
    """``fields=``: only the named fields of each inventory (all when none are named).
    Every queryable field is in its inventory (tests/unit/test_inventory_fields.py)."""
    if not names:
        return inventories
    return [{name: inventory.get(name) for name in names} for inventory in inventories]


async def list_collection(request: Request, resource: str) -> Response:
    runtime: Runtime = request.app.state.runtime
    caller = await authenticate(request)
    pairs = query_pairs(request)
    uuid = request.path_params.get("uuid")
    if uuid is not None:
        pairs = [*pairs, ("q", f"uuid={uuid}")]
    spec = parse_query(pairs)
    compiled = compile_query(query_registry(), resource, spec, actor=caller)

    def run() -> Any:
        with runtime.sessions() as session:
            return run_query(session, compiled)

    result = await run_in_threadpool(run)
    if uuid is not None and not result.rows and not spec.count:
        raise ResourceNotFound(f"{resource} {uuid} does not exist")
    if spec.count:
        return JSONResponse({"total": result.total})
    inventories = [inventory_of(resource, row) for row in result.rows]
    inventories = project(inventories, spec.fields)
    body: dict[str, Any] = {"inventories": inventories}
    if result.total is not None:
        body["total"] = result.total
    return JSONResponse(body)
