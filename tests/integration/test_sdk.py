"""The Python SDK (client/) against a live production stack: sessions, resources, jobs,
typed errors, safe retries and webhook verification."""

from __future__ import annotations

import json

import httpx
import pytest

from client import (
    AsyncClient,
    AuthenticationError,
    BadRequestError,
    Client,
    JobCancelledError,
    JobFailedError,
    JobStatus,
    JobUUIDConflictError,
    JobWaitTimeout,
    NotFoundError,
    PermissionDeniedError,
    WebhookVerificationError,
    verify_delivery,
)
from client._core import new_job_uuid
from tests.receiver import Receiver
from tests.stack import Stack, new_name


@pytest.fixture
def api(production_stack: Stack) -> Client:
    client = Client(production_stack.url)
    client.login("admin", "password")
    return client


def test_zone_lifecycle_through_typed_helpers(api: Client) -> None:
    # Given a logged-in admin, when a zone is created, the SDK waits and returns the inventory
    name = new_name("sdk")
    zone = api.zones.create(name, description="made by the SDK")
    assert zone["name"] == name and zone["state"] == "Enabled"

    # Then it can be read, queried, updated, disabled and deleted
    assert api.zones.get(zone["uuid"]) == zone
    assert [z["uuid"] for z in api.zones.query(f"name={name}")] == [zone["uuid"]]
    assert api.zones.count(f"name={name}") == 1
    assert api.zones.update(zone["uuid"], description="changed")["description"] == "changed"
    assert api.zones.change_state(zone["uuid"], "disable")["state"] == "Disabled"
    assert api.zones.delete(zone["uuid"]) == {}
    with pytest.raises(NotFoundError) as missing:
        api.zones.get(zone["uuid"])
    assert missing.value.code == "VOLPLANE.RESOURCE.1001" and missing.value.status == 404


def test_generic_call_and_resource_helper(api: Client) -> None:
    zones = api.resource("/v1/zones", update_action="updateZone")
    made = zones.create({"name": new_name("generic")})
    answer = api.call("GET", f"/v1/zones/{made['uuid']}")
    assert answer["inventories"][0]["uuid"] == made["uuid"]
    assert zones.update(made["uuid"], name=made["name"] + "-x")["name"] == made["name"] + "-x"
    assert api.call("DELETE", f"/v1/zones/{made['uuid']}") == {}


def test_errors_carry_the_server_code(production_stack: Stack, api: Client) -> None:
    with pytest.raises(AuthenticationError) as wrong:
        Client(production_stack.url).login("admin", "not-the-password")
    assert wrong.value.code == "VOLPLANE.AUTH.1001" and wrong.value.status == 401

    with pytest.raises(AuthenticationError) as anonymous:
        Client(production_stack.url).zones.query()
    assert anonymous.value.code == "VOLPLANE.AUTH.1002"

    with pytest.raises(BadRequestError) as bad:
        api.call("POST", "/v1/zones", {"params": {"name": "x", "bogus": 1}})
    assert bad.value.code == "VOLPLANE.ARG.1002"

    # A job that fails: the code survives the trip through the worker and the poll
    with pytest.raises(JobFailedError) as failed:
        api.zones.update("0" * 32, name="nope")
    assert failed.value.code == "VOLPLANE.RESOURCE.1001"
    assert failed.value.job_uuid is not None


def test_tenant_sees_permission_error_on_admin_calls(production_stack: Stack, api: Client) -> None:
    name = new_name("tenant")
    api.accounts.create(name, "tenant-password")
    tenant = Client(production_stack.url)
    tenant.login(name, "tenant-password")
    with pytest.raises(PermissionDeniedError) as denied:
        tenant.zones.create(new_name())
    assert denied.value.code == "VOLPLANE.AUTH.1005"
    tenant.logout()
    with pytest.raises(AuthenticationError):
        tenant.session = None
        tenant.jobs.list()


def test_wait_reports_progress_and_returns_the_result(api: Client) -> None:
    # Given a slow job that reports progress
    job = api.submit("POST", "/v1/debug/sleep", {"params": {"seconds": 1.5}})
    seen: list[JobStatus] = []

    # When we wait with a progress callback
    result = job.wait(on_progress=seen.append)

    # Then the callback saw it run with growing progress, and the wait ended with the result
    assert result == {}
    assert seen[-1].state == "Succeeded"
    running = [s.progress for s in seen if s.state == "Running" and s.progress is not None]
    assert running and running == sorted(running)
    assert api.jobs.get(job.uuid)["state"] == "Succeeded"
    assert any(j["uuid"] == job.uuid for j in api.jobs.list(f"uuid={job.uuid}"))


def test_wait_with_a_deadline_and_cancel(api: Client) -> None:
    job = api.submit("POST", "/v1/debug/sleep", {"params": {"seconds": 30}})
    with pytest.raises(JobWaitTimeout) as timeout:
        job.wait(timeout=0.5)
    assert timeout.value.state in ("Pending", "Running")
    assert job.cancel()["cancelRequested"] is True
    with pytest.raises(JobCancelledError) as cancelled:
        job.wait(timeout=60)
    assert cancelled.value.code == "VOLPLANE.JOB.1003"


def test_same_job_uuid_is_the_same_job(api: Client) -> None:
    job_uuid = new_job_uuid()
    body = {"params": {"name": new_name("idem")}}
    first = api.submit("POST", "/v1/zones", body, job_uuid=job_uuid)
    again = api.submit("POST", "/v1/zones", body, job_uuid=job_uuid)
    assert first.uuid == again.uuid == job_uuid
    first.wait()
    with pytest.raises(JobUUIDConflictError) as conflict:
        api.submit("POST", "/v1/zones", {"params": {"name": new_name()}}, job_uuid=job_uuid)
    assert conflict.value.code == "VOLPLANE.JOB.1001"


class LoseFirstAnswer(httpx.BaseTransport):
    """Sends each request to the real server, but drops the first answer of every
    non-GET call, as a network failure after the server got the request would."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.sent: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        response = self.inner.handle_request(request)
        if request.method != "GET" and sum(r.url == request.url for r in self.sent) == 1:
            response.read()
            response.close()
            raise httpx.ReadError("connection reset after the request was sent")
        return response


def test_retry_after_lost_answer_resends_the_same_job_uuid(production_stack: Stack) -> None:
    # Given a network that loses the answer to the first attempt of each call
    transport = LoseFirstAnswer()
    api = Client(production_stack.url, transport=transport)
    api.login("admin", "password")
    name = new_name("retry")

    # When a zone is created, the SDK retries after the lost answer
    zone = api.zones.create(name)

    # Then both attempts carried the same X-Job-UUID, and exactly one zone exists
    posts = [r for r in transport.sent if r.method == "POST"]
    assert len(posts) == 2
    assert posts[0].headers["X-Job-UUID"] == posts[1].headers["X-Job-UUID"]
    assert [z["uuid"] for z in api.zones.query(f"name={name}")] == [zone["uuid"]]


def test_webhook_delivery_verifies_with_the_account_secret(api: Client) -> None:
    account_uuid = api.request("GET", "/v1/accounts", params={"q": "name=admin"})["inventories"][0][
        "uuid"
    ]
    secret = api.accounts.webhook_secret(account_uuid)
    with Receiver([200]) as receiver:
        job = api.submit(
            "POST", "/v1/zones", {"params": {"name": new_name("hook")}}, webhook=receiver.url
        )
        result = job.wait()
        (delivery,) = receiver.wait_for(1)
    verified = verify_delivery(secret, delivery.headers, delivery.body)
    assert verified.job_uuid == job.uuid and verified.success is True
    assert verified.body == result == json.loads(delivery.body)
    with pytest.raises(WebhookVerificationError):
        verify_delivery(secret, delivery.headers, delivery.body + b" ")


async def test_async_client_flow(production_stack: Stack) -> None:
    async with AsyncClient(production_stack.url) as api:
        await api.login("admin", "password")
        name = new_name("async")
        zone = await api.zones.create(name)
        assert (await api.zones.get(zone["uuid"]))["name"] == name
        assert [z["uuid"] for z in await api.zones.query(f"name={name}")] == [zone["uuid"]]
        assert (await api.zones.update(zone["uuid"], description="d"))["description"] == "d"

        seen: list[JobStatus] = []
        job = await api.submit("POST", "/v1/debug/sleep", {"params": {"seconds": 0.6}})
        assert await job.wait(on_progress=seen.append) == {}
        assert seen[-1].state == "Succeeded"

        with pytest.raises(JobFailedError) as failed:
            await api.zones.update("0" * 32, name="nope")
        assert failed.value.code == "VOLPLANE.RESOURCE.1001"

        assert await api.zones.delete(zone["uuid"]) == {}
        with pytest.raises(NotFoundError):
            await api.zones.get(zone["uuid"])
        await api.logout()
