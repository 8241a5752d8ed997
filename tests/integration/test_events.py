"""Server-Sent Events of jobs (CONTRACT §2.5) on a live stack: order, resumption with
Last-Event-ID, the all-jobs stream, and tenant isolation."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from client import AsyncClient, Client, Event, NotFoundError
from client._core import EventDecoder, new_job_uuid
from tests.stack import Stack, new_name


@pytest.fixture
def api(production_stack: Stack) -> Client:
    client = Client(production_stack.url)
    client.login("admin", "password")
    return client


def version(event: Event) -> tuple[int, ...]:
    assert event.id is not None
    return tuple(int(part) for part in event.id.split("."))


def raw_events(stack: Stack, session: str, path: str, last_event_id: str) -> list[Event]:
    """Reads a stream to its end with plain httpx, resuming from ``last_event_id``."""
    headers = {"Authorization": f"OAuth {session}", "Last-Event-ID": last_event_id}
    decoder = EventDecoder()
    events = []
    with httpx.stream("GET", stack.url + path, headers=headers, timeout=60) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            event = decoder.feed(line)
            if event is not None:
                events.append(event)
    return events


def test_job_stream_delivers_every_state_change_in_order_and_resumes(
    production_stack: Stack, api: Client
) -> None:
    # Given a job queued behind another on the same resource, so it is Pending first
    key = new_job_uuid()
    blocker = api.submit("POST", "/v1/debug/sleep", {"params": {"seconds": 1, "syncOn": key}})
    job = api.submit("POST", "/v1/debug/sleep", {"params": {"seconds": 1.5, "syncOn": key}})

    # When we follow its events until the stream ends
    events = list(job.events())

    # Then it went Pending -> Running -> Succeeded, with growing progress while running
    states = [e.data["state"] for e in events if e.event == "state"]
    assert states == ["Pending", "Running", "Succeeded"], [(e.event, e.data) for e in events]
    assert all(e.data["uuid"] == job.uuid for e in events)
    versions = [version(e) for e in events]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)
    progress = [e.data["progress"] for e in events if e.event == "progress"]
    assert progress == sorted(progress)
    assert events[-1].data["finished"] is True
    blocker.wait()

    # And a watcher that drops mid-run and resumes gets only what came later
    assert api.session is not None
    longer = api.submit("POST", "/v1/debug/sleep", {"params": {"seconds": 2}})
    stream = longer.events()
    midway = next(e for e in stream if e.event == "progress")
    stream.close()
    assert midway.id is not None
    path = f"/v1/api-jobs/{longer.uuid}/events"
    resumed = raw_events(production_stack, api.session, path, midway.id)
    assert resumed[-1].event == "end"
    assert all(version(e) > version(midway) for e in resumed[:-1])
    assert [e.data["state"] for e in resumed if e.event == "state"] == ["Succeeded"]

    # And one resuming from the final event is told only that the stream is over
    final_id = events[-1].id
    assert final_id is not None
    done_path = f"/v1/api-jobs/{job.uuid}/events"
    assert [e.event for e in raw_events(production_stack, api.session, done_path, final_id)] == [
        "end"
    ]


def test_failed_job_stream_ends_with_the_error(api: Client) -> None:
    job = api.submit(
        "POST",
        "/v1/debug/sleep",
        {"params": {"seconds": 0.2, "failWith": "VOLPLANE.STORAGE.1001"}},
    )
    events = list(job.events())
    assert events[-1].data["state"] == "Failed"
    assert events[-1].data["error"]["code"] == "VOLPLANE.STORAGE.1001"
    assert events[-1].status.error is not None


def test_a_tenant_cannot_watch_another_accounts_job(production_stack: Stack, api: Client) -> None:
    name = new_name("watcher")
    api.accounts.create(name, "pw")
    tenant = Client(production_stack.url)
    tenant.login(name, "pw")
    job = api.submit("POST", "/v1/debug/sleep", {"params": {"seconds": 0.1}})
    with pytest.raises(NotFoundError) as hidden:
        list(tenant.jobs.events(job.uuid))
    assert hidden.value.code == "VOLPLANE.JOB.1000"
    job.wait()


async def test_all_jobs_stream_shows_each_callers_own_jobs(production_stack: Stack) -> None:
    async with (
        AsyncClient(production_stack.url) as admin,
        AsyncClient(production_stack.url) as tenant,
    ):
        await admin.login("admin", "password")
        name = new_name("stream")
        await admin.accounts.create(name, "pw")
        await tenant.login(name, "pw")

        # A job of the tenant that is still running when the streams open: seeing it on
        # a stream is the signal that the stream is watching (no fixed sleep).
        marker = await tenant.submit("POST", "/v1/debug/sleep", {"params": {"seconds": 30}})
        watching = {"admin": asyncio.Event(), "tenant": asyncio.Event()}

        async def follow(client: AsyncClient, who: str, job_uuid: str) -> list[Event]:
            seen: list[Event] = []
            async for event in client.jobs.events():
                if event.data["uuid"] == marker.uuid:
                    watching[who].set()
                    continue
                seen.append(event)
                if event.data["uuid"] == job_uuid and event.data["finished"]:
                    return seen
            raise AssertionError("the stream ended")

        # Given both watching all the jobs they can see
        admin_job_uuid = new_job_uuid()
        tenant_job_uuid = new_job_uuid()
        admin_watch = asyncio.create_task(follow(admin, "admin", tenant_job_uuid))
        tenant_watch = asyncio.create_task(follow(tenant, "tenant", tenant_job_uuid))
        async with asyncio.timeout(60):
            await asyncio.gather(*(event.wait() for event in watching.values()))
        await marker.cancel()

        # When the admin and the tenant each start a job
        admin_job = await admin.submit(
            "POST", "/v1/debug/sleep", {"params": {"seconds": 0.5}}, job_uuid=admin_job_uuid
        )
        tenant_job = await tenant.submit(
            "POST", "/v1/debug/sleep", {"params": {"seconds": 1}}, job_uuid=tenant_job_uuid
        )
        async with asyncio.timeout(60):
            admin_seen, tenant_seen = await asyncio.gather(admin_watch, tenant_watch)
        await admin_job.wait()
        await tenant_job.wait()

    # Then the admin saw both jobs, the tenant only its own, each ending Succeeded
    assert {e.data["uuid"] for e in admin_seen} >= {admin_job_uuid, tenant_job_uuid}
    assert {e.data["uuid"] for e in tenant_seen} == {tenant_job_uuid}
    tenant_states = [e.data["state"] for e in tenant_seen if e.event == "state"]
    assert tenant_states[-1] == "Succeeded"
    assert tenant_states == [s for s in ["Pending", "Running", "Succeeded"] if s in tenant_states]
    assert all(e.id and e.id.isdigit() for e in tenant_seen)
