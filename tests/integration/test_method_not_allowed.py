"""A 405 names, in ``Allow``, every method its path accepts across all routes that
serve it (``GET /v1/zones/{uuid}`` and ``DELETE /v1/zones/{uuid}`` are two routes)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from starlette.routing import BaseRoute, Mount, Route

from api.app import api_routes
from tests.stack import Stack
from volplane.settings import Settings

UUID = "0123456789abcdef0123456789abcdef"


def routes(tree: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, Route]]:
    for route in tree:
        if isinstance(route, Mount):
            yield from routes(list(route.routes), prefix + route.path)
        elif isinstance(route, Route):
            yield prefix + route.path, route


ROUTES = list(routes(api_routes(Settings(enable_test_operations=True))))


def concrete(path: str) -> str:
    return re.sub(r"{(\w+)}", UUID, path)


def accepted_at(path: str) -> set[str]:
    """The methods of every route whose pattern matches the concrete ``path``."""
    methods: set[str] = set()
    for pattern, route in ROUTES:
        if re.fullmatch(re.sub(r"{\w+}", "[^/]+", pattern), path):
            methods |= route.methods or set()
    return methods


PATHS = sorted({concrete(path) for path, _ in ROUTES})


def test_paths_served_by_several_routes_exist() -> None:
    several = [p for p in PATHS if len(accepted_at(p) - {"HEAD"}) > 1]
    assert "/v1/zones/" + UUID in several
    assert len(several) >= 14


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:
        yield client


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("prefix", ["", "/zstack"])
def test_allow_lists_every_method_of_the_path(
    production_stack: Stack, http: httpx.Client, path: str, prefix: str
) -> None:
    response = http.request("PATCH", f"{production_stack.url}{prefix}{path}")
    assert response.status_code == 405, response.text
    allowed = {m.strip() for m in response.headers["allow"].split(",")}
    assert allowed == accepted_at(path)
