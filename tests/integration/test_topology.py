"""The production topology in one test: two gateways, three workers, beat, Redis,
PostgreSQL and three namespaced hosts added over SSH (tests/netns.py). A mixed
workload goes through both gateways while one worker and one host are killed;
afterwards nothing is lost, doubled or stuck."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.netns import NetHosts
from tests.stack import Client, Stack, free_port, job_uuid, new_name, wait_until
from tests.zstack_world import MiB, host_tag, local_storage_world, ok

pytestmark = pytest.mark.integration


def _second_gateway(stack: Stack) -> Stack:
    port = free_port()
    stack._spawn("gateway2", "gateway", "--port", str(port))
    other = dataclasses.replace(stack, port=port)

    def up() -> bool:
        try:
            return httpx.get(f"{other.url}/v1/zones", timeout=1).status_code == 401
        except httpx.HTTPError:
            return False

    wait_until(up, timeout=30)
    return other


def test_mixed_workload_survives_a_dead_worker_and_a_dead_host(
    make_stack: Callable[..., Stack], net_hosts: NetHosts
) -> None:
    stack = make_stack(
        "production",
        workers=3,
        VOLPLANE_HOST_AGENT_HOME=str(net_hosts.private_root / "agent"),
        VOLPLANE_HOST_PYTHON=sys.executable,
        VOLPLANE_SSH_TIMEOUT_SECONDS="3",
    )
    first = stack.login()
    second = Client(_second_gateway(stack), first.session)  # one session, both gateways
    doomed = net_hosts[2]
    with local_storage_world(first, net_hosts) as world:
        ps = world.ps["uuid"]
        jobs: list[dict[str, Any]] = []

        def submit(client: Client, method: str, path: str, body: Any, **facts: Any) -> None:
            accepted = client.request(method, path, json=body)
            assert accepted.status_code == 202, accepted.text
            jobs.append({"location": accepted.json()["location"], **facts})

        # Given a mixed workload submitted through both gateways
        volumes: list[tuple[str, int]] = []
        for index in range(6):
            host = index % 3
            client = (first, second)[index % 2]
            uuid = job_uuid()
            volumes.append((uuid, host))
            body = {
                "params": {
                    "name": new_name("load"),
                    "diskSize": 4 * MiB,
                    "primaryStorageUuid": ps,
                    "resourceUuid": uuid,
                },
                "systemTags": [host_tag(world.hosts[host]["uuid"])],
            }
            submit(client, "POST", "/v1/volumes/data", body, volume=uuid, host=host, kind="create")
            snap = {"params": {"name": new_name("snap")}}
            submit(
                (second, first)[index % 2],
                "POST",
                f"/v1/volumes/{uuid}/volume-snapshots",
                snap,
                volume=uuid,
                host=host,
                kind="snapshot",
            )
        moving = volumes[0][0]
        submit(
            second,
            "PUT",
            f"/v1/primary-storage/local-storage/volumes/{moving}/actions",
            {"localStorageMigrateVolume": {"destHostUuid": world.hosts[1]["uuid"]}},
            volume=moving,
            host=0,
            dest=1,
            kind="migrate",
        )
        # When a worker and a host die while it runs
        stack.kill("worker0")
        doomed.kill()
        try:
            ended = [first.wait(job["location"], timeout=180) for job in jobs]
            # Then every job ended: none stuck Pending or Running
            assert all(r.status_code in (200, 503) for r in ended), [r.text for r in ended]
            # nothing lost: all work on the living hosts succeeded
            for job, result in zip(jobs, ended, strict=True):
                if job["host"] != 2:
                    assert result.status_code == 200, (job, result.text)
                elif result.status_code == 503:
                    code = result.json()["error"]["code"]
                    assert code.startswith(("VOLPLANE.AGENT.", "VOLPLANE.RESOURCE.")), code
            # nothing doubled: each volume once, none left half-made
            found = first.get(
                "/v1/volumes", params={"q": f"primaryStorageUuid={ps}", "limit": 100}
            ).json()["inventories"]
            by_uuid = {v["uuid"]: v for v in found}
            assert len(by_uuid) == len(found)
            assert all(v["status"] == "Ready" for v in found), found
            for (uuid, _host), job, result in zip(
                volumes, jobs[0:12:2], ended[0:12:2], strict=True
            ):
                assert (uuid in by_uuid) == (result.status_code == 200), job
            assert by_uuid[moving]["hostUuid"] == world.hosts[1]["uuid"]
            snapshots = first.get(
                "/v1/volume-snapshots", params={"q": f"primaryStorageUuid={ps}", "limit": 100}
            ).json()["inventories"]
            made = sum(1 for job, r in zip(jobs, ended, strict=True)
                       if job["kind"] == "snapshot" and r.status_code == 200)  # fmt: skip
            assert len(snapshots) == made
        finally:
            doomed.start()
            ok(
                first.call(
                    "PUT",
                    f"/v1/hosts/{world.hosts[2]['uuid']}/actions",
                    json={"reconnectHost": {}},
                )
            )
