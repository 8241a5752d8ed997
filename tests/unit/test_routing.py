"""The indexed router finds exactly the route Starlette's linear search finds."""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.routing import BaseRoute, Match, Mount, Router

from api.app import api_routes
from api.routing import IndexedRouter, bucket_key
from volplane.settings import Settings

ROUTES = api_routes(Settings(enable_test_operations=True))
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]


def _scope(method: str, path: str) -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}


def resolve(routes: list[BaseRoute], scope: dict[str, Any]) -> tuple[Any, str] | None:
    """What Starlette's Router.app would hand the request to: (endpoint, match kind)."""
    partial = None
    for route in routes:
        match, child = route.matches(scope)
        if match is Match.FULL:
            if isinstance(route, Mount) and isinstance(route.app, Router):
                inner = resolve(route.app.routes, {**scope, **child})
                return inner if inner is not None else (route.app, "mount")
            return getattr(route, "endpoint", route), "full"
        if match is Match.PARTIAL and partial is None:
            partial = route
    return None if partial is None else (getattr(partial, "endpoint", partial), "partial")


def concrete_paths() -> list[str]:
    paths = {"/", "/v1", "/v1/", "/nope", "/v1/nope/x", "/v1/zones/", "/zstack", "/zstack/v1"}
    for route in ROUTES:
        path = getattr(route, "path", "")
        filled = re.sub(r"\{[^}]+\}", "0123456789abcdef0123456789abcdef", path)
        paths |= {filled, filled + "/", filled + "/extra", "/zstack" + filled}
    return sorted(paths)


@pytest.mark.parametrize("path", concrete_paths())
def test_same_route_as_a_linear_search(path: str) -> None:
    plain = [*ROUTES, Mount("/zstack", routes=ROUTES)]
    indexed = IndexedRouter(ROUTES)
    for method in METHODS:
        scope = _scope(method, path)
        bucket = indexed.bucket_for(scope)
        assert resolve(bucket.routes, scope) == resolve(plain, scope), (method, path)


def test_bucket_keys() -> None:
    assert bucket_key("/v1/zones") == "v1/zones"
    assert bucket_key("/v1/zones/abc/actions") == "v1/zones"
    assert bucket_key("/v1") is None
    assert bucket_key("/v1/") is None
    assert bucket_key("/") is None


def test_most_requests_search_a_small_bucket() -> None:
    indexed = IndexedRouter(ROUTES)
    bucket = indexed.bucket_for(_scope("POST", "/zstack/v1/zones"))
    assert bucket is not indexed
    assert len(bucket.routes) < len(ROUTES) // 4
