"""Request bodies beyond the gateway's limits (``max_body_depth``, ``max_body_bytes``)
answer a 400 with a stable code in every dialect's own shape, with or without a session."""

from __future__ import annotations

import httpx
import pytest

from api.share.envelope import scode_of
from tests.stack import Client, Stack
from volplane.errors import BodyTooDeep, BodyTooLarge
from volplane.settings import Settings

# 1,000 nested arrays: 2 KB that Python's parser cannot read without a RecursionError.
DEEP = b"[" * 1000 + b"]" * 1000
LARGE = b'{"params": {"name": "' + b"x" * Settings().max_body_bytes + b'"}}'


def send(stack: Stack, method: str, path: str, body: bytes, **headers: str) -> httpx.Response:
    return httpx.request(
        method,
        f"{stack.url}{path}",
        content=body,
        headers={"Content-Type": "application/json", **headers},
        timeout=30,
    )


@pytest.mark.parametrize(("body", "error"), [(DEEP, BodyTooDeep), (LARGE, BodyTooLarge)])
def test_login_without_a_session_refuses_the_body(
    production_stack: Stack, body: bytes, error: type[BodyTooDeep]
) -> None:
    response = send(production_stack, "PUT", "/v1/accounts/login", body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == error.code


@pytest.mark.parametrize(("body", "error"), [(DEEP, BodyTooDeep), (LARGE, BodyTooLarge)])
def test_zstack_calls_refuse_the_body(
    production_stack: Stack, admin: Client, body: bytes, error: type[BodyTooDeep]
) -> None:
    for method, path in [("POST", "/v1/zones"), ("PUT", f"/zstack/v1/zones/{'a' * 32}/actions")]:
        response = send(production_stack, method, path, body, **admin.headers)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == error.code


@pytest.mark.parametrize(("body", "error"), [(DEEP, BodyTooDeep), (LARGE, BodyTooLarge)])
def test_share_calls_refuse_the_body_in_the_envelope(
    production_stack: Stack, admin: Client, body: bytes, error: type[BodyTooDeep]
) -> None:
    for path in ["/v1/volume/share/create", "/v1/pool/share/list", "/v1/cluster/add"]:
        response = send(production_stack, "POST", path, body, **admin.headers)
        assert response.status_code == 400, response.text
        answer = response.json()
        assert answer["scode"] == scode_of(error.code)
        assert answer["desc"] == error.code
        assert answer["data"] is None


@pytest.mark.parametrize("body", [DEEP, LARGE])
def test_cinder_calls_refuse_the_body_as_bad_request(
    production_stack: Stack, admin: Client, body: bytes
) -> None:
    account = _admin_uuid(admin)
    response = send(
        production_stack,
        "POST",
        f"/v3/{account}/manageable_volumes",
        body,
        **{"X-Auth-Token": admin.session, "OpenStack-API-Version": "volume 3.8"},
    )
    assert response.status_code == 400, response.text
    assert set(response.json()) == {"badRequest"}
    assert response.json()["badRequest"]["code"] == 400


def test_a_cinder_marker_nesting_deep_is_a_bad_request(
    production_stack: Stack, admin: Client
) -> None:
    response = httpx.get(
        f"{production_stack.url}/v3/{_admin_uuid(admin)}/manageable_volumes",
        params={"host": "h@p", "marker": DEEP.decode()},
        headers={"X-Auth-Token": admin.session, "OpenStack-API-Version": "volume 3.8"},
    )
    assert response.status_code == 400, response.text
    assert "badRequest" in response.json()


def _admin_uuid(admin: Client) -> str:
    accounts = admin.get("/v1/accounts").json()["inventories"]
    return str(next(a["uuid"] for a in accounts if a["name"] == "admin"))
