"""Crashes and outages: no job is lost, none stays Running, nothing commits twice.

Each test runs its own stack so it can kill its processes freely.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.agents import running_agent
from tests.conftest import StackFactory
from tests.infra import infrastructure
from tests.services import redis_server
from tests.stack import Client, Stack, new_name, wait_until
from tests.storage import volume


def job_of(client: Client, location: str) -> dict:
    uuid = location.rsplit("/", 1)[1]
    return client.get(f"/v1/api-jobs/{uuid}/inventory").json()["inventories"][0]


def wait_running(client: Client, location: str, attempts: int) -> None:
    wait_until(
        lambda: (j := job_of(client, location))["state"] == "Running" and j["attempts"] == attempts,
        timeout=30,
        interval=0.05,
    )


def test_killed_worker_job_ends_exactly_once(make_stack: StackFactory) -> None:
    # Given a job running on a worker
    stack = make_stack("production", VOLPLANE_JOB_MAX_ATTEMPTS="3")
    admin = stack.login()
    zone_name = new_name("once")
    location = admin.request(
        "POST", "/v1/debug/sleep", json={"params": {"seconds": 3, "zoneName": zone_name}}
    ).json()["location"]
    wait_running(admin, location, attempts=1)

    # When the worker is killed -9 and a new one starts
    stack.kill("worker0")
    stack.start_worker("worker1")

    # Then the job is run again and ends once, with its effect committed once
    done = admin.wait(location, timeout=90)
    assert done.status_code == 200, stack.logs()
    assert job_of(admin, location)["attempts"] == 2
    zones = admin.get("/v1/zones", params={"q": f"name={zone_name}"}).json()["inventories"]
    assert len(zones) == 1


def test_job_whose_workers_keep_dying_fails_with_a_clear_code(make_stack: StackFactory) -> None:
    stack = make_stack("production", VOLPLANE_JOB_MAX_ATTEMPTS="2")
    admin = stack.login()
    zone_name = new_name("never")
    location = admin.request(
        "POST", "/v1/debug/sleep", json={"params": {"seconds": 60, "zoneName": zone_name}}
    ).json()["location"]
    wait_running(admin, location, attempts=1)
    stack.kill("worker0")
    stack.start_worker("worker1")
    wait_running(admin, location, attempts=2)
    stack.kill("worker1")
    stack.start_worker("worker2")

    failed = admin.wait(location, timeout=60)
    assert failed.status_code == 503
    assert failed.json()["error"]["code"] == "VOLPLANE.JOB.1004"
    assert admin.get("/v1/zones", params={"q": f"name={zone_name}"}).json()["inventories"] == []


def test_last_run_finishes_work_its_dead_workers_left_half_made(
    make_stack: StackFactory, tmp_path: Path
) -> None:
    """Given a volume delete whose only allowed run dies while the agent holds its
    request, the last run (cancel asked, but a delete has no cancel point) re-attaches to
    the agent's delete and ends the job once: no row left pointing at a deleted image."""
    stack = make_stack("production", VOLPLANE_JOB_MAX_ATTEMPTS="1")
    admin = stack.login()
    with running_agent(tmp_path / "agent") as agent:
        infra = infrastructure(admin, agent, tmp_path / "infra")
        doomed = volume(admin, infra.pool["uuid"])
        agent.pause()  # the worker's delete request waits in the agent's queue
        try:
            location = admin.request("DELETE", f"/v1/volumes/{doomed['uuid']}").json()["location"]
            wait_running(admin, location, attempts=1)
            stack.kill("worker0")
        finally:
            agent.resume()
        stack.start_worker("worker1")

        done = admin.wait(location, timeout=90)
        assert done.status_code == 200, done.text
        assert job_of(admin, location)["attempts"] == 2
        assert admin.get(f"/v1/volumes/{doomed['uuid']}").status_code == 404
        assert not Path(doomed["installPath"]).exists()


@pytest.mark.parametrize("interruptible", [True, False])
def test_job_cancelled_then_orphaned_still_ends(
    make_stack: StackFactory, interruptible: bool
) -> None:
    """Given a running job whose worker died, asked to cancel before its lease ran out, the rerun
    has the cancel asked from the start: an operation with cancel points ends Cancelled
    with nothing made, one without finishes. Either way the job ends (it used to stay
    Pending, refused by every claim)."""
    stack = make_stack("production", VOLPLANE_JOB_MAX_ATTEMPTS="3")
    admin = stack.login()
    zone_name = new_name("orphan")
    params = {"seconds": 2, "zoneName": zone_name, "uninterruptible": not interruptible}
    location = admin.request("POST", "/v1/debug/sleep", json={"params": params}).json()["location"]
    wait_running(admin, location, attempts=1)
    stack.kill("worker0")
    # The cancel reaches the job while it is still Running, its lease not yet expired.
    uuid = location.rsplit("/", 1)[1]
    asked = admin.request("PUT", f"/v1/api-jobs/{uuid}/actions", json={"cancelApiJob": {}})
    assert asked.json()["inventory"]["cancelRequested"], asked.text
    stack.start_worker("worker1")

    ended = admin.wait(location, timeout=90)
    zones = admin.get("/v1/zones", params={"q": f"name={zone_name}"}).json()["inventories"]
    assert job_of(admin, location)["attempts"] == 2
    if interruptible:
        assert ended.json()["error"]["code"] == "VOLPLANE.JOB.1003", ended.text
        assert zones == []
    else:
        assert ended.status_code == 200, ended.text
        assert len(zones) == 1


def test_jobs_survive_a_redis_restart(make_stack: StackFactory, tmp_path: Path) -> None:
    with redis_server(tmp_path / "redis") as redis:
        stack = make_stack("production", VOLPLANE_BROKER_URL=redis.url)
        admin = stack.login()
        stack.kill("worker0")

        # Jobs accepted while the broker holds their messages, then the broker loses them
        names = [new_name("r") for _ in range(8)]
        locations = [
            admin.request("POST", "/v1/zones", json={"params": {"name": n}}).json()["location"]
            for n in names[:4]
        ]
        redis.stop()
        # ... and jobs accepted while the broker is down
        for name in names[4:]:
            accepted = admin.request("POST", "/v1/zones", json={"params": {"name": name}})
            assert accepted.status_code == 202
            locations.append(accepted.json()["location"])

        redis.start()
        stack.start_worker("worker1")
        for location in locations:
            assert admin.wait(location, timeout=90).status_code == 200, stack.logs()
        for name in names:
            assert (
                len(admin.get("/v1/zones", params={"q": f"name={name}"}).json()["inventories"]) == 1
            )


@pytest.mark.parametrize("mode", ["embedded"])
def test_results_expire_after_retention(make_stack: StackFactory, mode: str) -> None:
    stack: Stack = make_stack(mode, VOLPLANE_JOB_RETENTION_SECONDS="2")
    admin = stack.login()
    accepted = admin.request("POST", "/v1/zones", json={"params": {"name": new_name()}})
    location = accepted.json()["location"]
    assert admin.wait(location).status_code == 200
    path = location.split(stack.url, 1)[1]
    # Once its retention has passed, the poll answers 404.
    wait_until(lambda: admin.get(path).status_code == 404, timeout=30)
    uuid = location.rsplit("/", 1)[1]
    # The sweeper removes the record itself.
    wait_until(
        lambda: (
            admin.get("/v1/api-jobs", params={"q": f"uuid={uuid}", "count": "true"}).json()["total"]
            == 0
        ),
        timeout=30,
    )
