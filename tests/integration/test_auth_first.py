"""Authentication comes before validation on every route of every dialect: a call with
no session and a bad body or query answers 401 in its dialect's shape, never a 400 that
would tell an anonymous caller how the request was wrong."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from starlette.routing import BaseRoute, Mount, Route

from api.app import api_routes
from api.share.envelope import AREA_NUMBERS
from tests.stack import Stack
from volplane.settings import Settings

UUID = "0123456789abcdef0123456789abcdef"
PATH_VALUES = {"kind": "local-storage"}


def routes(tree: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, Route]]:
    for route in tree:
        if isinstance(route, Mount):
            yield from routes(list(route.routes), prefix + route.path)
        elif isinstance(route, Route):
            yield prefix + route.path, route


def protected_calls() -> list[tuple[str, str]]:
    calls = []
    for path, route in routes(api_routes(Settings(enable_test_operations=True))):
        if getattr(route.endpoint, "public", False):
            continue
        for method in sorted((route.methods or set()) - {"HEAD"}):
            calls.append((method, path))
    return calls


CALLS = protected_calls()


def concrete(path: str) -> str:
    return re.sub(r"{(\w+)}", lambda m: PATH_VALUES.get(m.group(1), UUID), path)


def test_the_routes_are_found() -> None:
    assert len(CALLS) > 100
    assert ("PUT", "/v1/volume-snapshots/{uuid}/actions") in CALLS
    assert ("POST", "/v3/{project_id}/manageable_volumes") in CALLS


def assert_unauthorized(path: str, response: httpx.Response) -> None:
    assert response.status_code == 401, f"{path}: {response.status_code} {response.text}"
    body = response.json()
    if path.startswith("/v3/"):
        assert body["unauthorized"]["code"] == 401
    elif path.startswith(("/v1/pool/share", "/v1/volume/share", "/v1/cluster/")):
        assert body["scode"] // 10000 == AREA_NUMBERS["AUTH"], body
        assert body["desc"].startswith("VOLPLANE.AUTH.")
    else:
        assert body["error"]["code"].startswith("VOLPLANE.AUTH."), body


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:
        yield client


@pytest.mark.parametrize(("method", "path"), CALLS, ids=[f"{m} {p}" for m, p in CALLS])
def test_no_session_and_a_bad_request_answers_401(
    production_stack: Stack, http: httpx.Client, method: str, path: str
) -> None:
    response = http.request(
        method,
        f"{production_stack.url}{concrete(path)}",
        content=b"{}",
        params={"limit": "not-a-number", "waitSeconds": "x", "q": "no such field=1"},
        headers={
            "Content-Type": "application/json",
            # bad headers too: a version Cinder does not speak, a malformed job uuid
            # and webhook, all of which the routes check (after who is calling)
            "OpenStack-API-Version": "volume 9.99",
            "X-Job-UUID": "not-a-uuid",
            "X-Web-Hook": "ftp://nowhere",
        },
        timeout=30,
    )
    assert_unauthorized(path, response)


def test_the_issue_example(production_stack: Stack) -> None:
    response = httpx.put(f"{production_stack.url}/v1/volume-snapshots/{UUID}/actions", json={})
    assert_unauthorized("/v1/volume-snapshots/{uuid}/actions", response)
