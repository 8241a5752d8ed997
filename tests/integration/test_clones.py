"""Linked and full clones on real qcow2 files: data, references, flatten, other hosts,
progress, cancel, and a worker killed in the middle of a full clone."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.agents import AgentProcess, running_agent
from tests.infra import Infra, infrastructure
from tests.stack import Client, Stack, job_uuid, new_name, wait_until
from tests.storage import (
    MiB,
    chain,
    clone,
    error_code,
    get_volume,
    holds,
    inventory,
    pool_files,
    snapshot,
    volume,
    write,
)

pytestmark = pytest.mark.integration

GiB = 1 << 30


def source_with_data(client: Client, pool_uuid: str, size: int = 64 * MiB) -> tuple[dict, dict]:
    vol = volume(client, pool_uuid, size)
    write(vol["installPath"], 0xAB)
    taken = snapshot(client, vol["uuid"])
    write(vol["installPath"], 0xCD)  # after the snapshot: a clone must not see it
    return vol, taken


def test_linked_clone_shares_the_snapshot_until_flattened(admin: Client, infra: Infra) -> None:
    vol, taken = source_with_data(admin, infra.pool["uuid"])

    linked = inventory(clone(admin, taken["uuid"], linked=True))

    assert linked["parentSnapshotUuid"] == taken["uuid"]
    assert linked["primaryStorageUuid"] == infra.pool["uuid"]
    assert chain(linked["installPath"])[1] == taken["primaryStorageInstallPath"]
    assert holds(linked["installPath"], 0xAB)
    refused = admin.call("DELETE", f"/v1/volume-snapshots/{taken['uuid']}")
    assert error_code(refused) == "VOLPLANE.RESOURCE.1102"
    write(linked["installPath"], 0x77, MiB)
    assert not holds(vol["installPath"], 0x77, MiB), "the clone writes only to itself"

    flat = inventory(
        admin.call("PUT", f"/v1/volumes/{linked['uuid']}/actions", json={"flattenVolume": {}})
    )

    assert flat["parentSnapshotUuid"] is None
    assert chain(linked["installPath"]) == [linked["installPath"]]
    assert admin.call("DELETE", f"/v1/volume-snapshots/{taken['uuid']}").status_code == 200
    assert holds(linked["installPath"], 0xAB) and holds(linked["installPath"], 0x77, MiB)
    assert holds(vol["installPath"], 0xCD)


def test_linked_clone_into_another_pool_is_refused(
    admin: Client, infra: Infra, remote_pool: dict[str, object]
) -> None:
    _, taken = source_with_data(admin, infra.pool["uuid"])
    refused = clone(admin, taken["uuid"], linked=True, pool_uuid=str(remote_pool["uuid"]))
    assert error_code(refused) == "VOLPLANE.STORAGE.1104"


def test_force_delete_removes_linked_clones_first(admin: Client, infra: Infra) -> None:
    vol, taken = source_with_data(admin, infra.pool["uuid"])
    linked = inventory(clone(admin, taken["uuid"], linked=True))
    refused = admin.call("DELETE", f"/v1/volumes/{vol['uuid']}")
    assert error_code(refused) == "VOLPLANE.RESOURCE.1101"

    assert admin.call("DELETE", f"/v1/volumes/{vol['uuid']}?force=true").status_code == 200

    assert admin.get(f"/v1/volumes/{linked['uuid']}").status_code == 404
    left = pool_files(infra.pool["mountPath"])
    assert not [f for f in left if vol["uuid"] in f or linked["uuid"] in f]


def test_full_clone_is_independent_with_progress(admin: Client, infra: Infra) -> None:
    vol, taken = source_with_data(admin, infra.pool["uuid"])
    accepted = admin.request(
        "POST",
        f"/v1/volumes/data/from/volume-snapshots/{taken['uuid']}",
        json={"params": {"name": new_name(), "linked": False}},
    )
    assert accepted.status_code == 202, accepted.text

    full = inventory(admin.wait(accepted.json()["location"]))

    assert full["status"] == "Ready" and full["cloneProgress"] == 100
    assert full["parentSnapshotUuid"] is None and full["size"] == vol["size"]
    assert chain(full["installPath"]) == [full["installPath"]]
    assert holds(full["installPath"], 0xAB)
    job = admin.get(f"/v1/api-jobs/{accepted.headers['X-Job-UUID']}/inventory").json()
    assert job["inventories"][0]["progress"] == 100
    assert admin.call("DELETE", f"/v1/volume-snapshots/{taken['uuid']}").status_code == 200
    assert holds(full["installPath"], 0xAB)


def test_full_clone_to_another_host(
    admin: Client, infra: Infra, remote_pool: dict[str, object]
) -> None:
    vol, taken = source_with_data(admin, infra.pool["uuid"])
    write(vol["installPath"], 0x99, 8 * MiB)

    full = inventory(clone(admin, taken["uuid"], linked=False, pool_uuid=str(remote_pool["uuid"])))

    assert full["primaryStorageUuid"] == remote_pool["uuid"]
    assert Path(full["installPath"]).parent == Path(str(remote_pool["mountPath"]))
    assert chain(full["installPath"]) == [full["installPath"]]
    assert holds(full["installPath"], 0xAB) and not holds(full["installPath"], 0x99, 8 * MiB)
    assert not [f for f in pool_files(infra.pool["mountPath"]) if ".export" in f]
    assert get_volume(admin, full["uuid"])["hostUuid"] == remote_pool["hostUuid"]


def test_cancel_during_a_full_clone_removes_the_copy(admin: Client, infra: Infra) -> None:
    _, taken = big_source(admin, infra.pool["uuid"])
    new_uuid = job_uuid()
    accepted = start_full_clone(admin, taken["uuid"], new_uuid)
    part = Path(infra.pool["mountPath"]) / f"volume-{new_uuid}.qcow2.part"
    caught = wait_until(lambda: part.exists() or job_ended(admin, accepted), timeout=60)

    cancel = admin.request(
        "PUT", f"/v1/api-jobs/{accepted.headers['X-Job-UUID']}/actions", json={"cancelApiJob": {}}
    )
    ended = admin.wait(accepted.json()["location"], timeout=120)

    if ended.status_code == 200:  # the copy was done before the cancel reached it
        assert cancel.status_code in (200, 409)
        assert holds(ended.json()["inventory"]["installPath"], 0xAB)
        return
    assert caught and error_code(ended) == "VOLPLANE.JOB.1003"
    assert not [f for f in pool_files(infra.pool["mountPath"]) if new_uuid in f]
    assert admin.get(f"/v1/volumes/{new_uuid}").status_code == 404


def test_worker_killed_during_a_full_clone(
    make_stack: Callable[..., Stack], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Given a full clone of a large sparse volume running on the agent, when the worker
    running the job is killed and another starts, the job completes exactly once
    (re-attached to the agent's copy) or fails cleanly, with no file left behind."""
    stack = make_stack("production", workers=1)
    admin = stack.login()
    with own_host(admin, tmp_path_factory) as (_, pool_dir, taken):
        new_uuid = job_uuid()
        accepted = start_full_clone(admin, taken["uuid"], new_uuid)
        part = pool_dir / f"volume-{new_uuid}.qcow2.part"
        wait_until(lambda: part.exists() or job_ended(admin, accepted), timeout=60)

        stack.kill("worker0")
        stack.start_worker("worker0")
        ended = admin.wait(accepted.json()["location"], timeout=120)

        clones = admin.get("/v1/volumes", params={"q": f"uuid={new_uuid}"}).json()["inventories"]
        owned = [f for f in pool_files(pool_dir) if new_uuid in f]
        if ended.status_code == 200:
            assert len(clones) == 1 and clones[0]["status"] == "Ready"
            assert owned == [f"volume-{new_uuid}.qcow2"]
            head = clones[0]["installPath"]
            assert holds(head, 0xAB, 0, 64 * MiB) and holds(head, 0x5C, GiB + 64 * MiB)
            assert chain(head) == [head]
        else:
            assert clones == [] and owned == [], ended.text
        job = admin.get(f"/v1/api-jobs/{accepted.headers['X-Job-UUID']}/inventory").json()
        assert job["inventories"][0]["attempts"] >= 2, "the job was re-run by another worker"


def test_full_clone_whose_workers_keep_dying_leaves_nothing(
    make_stack: Callable[..., Stack], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Given a full clone whose only allowed attempt dies after it committed the new
    volume's Creating row, the job is run once more with a cancel, which removes the row
    and the copy, and fails with VOLPLANE.JOB.1004."""
    stack = make_stack("production", workers=1, VOLPLANE_JOB_MAX_ATTEMPTS="1")
    admin = stack.login()
    with own_host(admin, tmp_path_factory) as (agent, pool_dir, taken):
        new_uuid = job_uuid()
        agent.pause()  # the worker's copy request waits in the agent's queue
        try:
            accepted = start_full_clone(admin, taken["uuid"], new_uuid)
            wait_until(lambda: admin.get(f"/v1/volumes/{new_uuid}").status_code == 200)
            stack.kill("worker0")
        finally:
            agent.resume()
        stack.start_worker("worker1")
        ended = admin.wait(accepted.json()["location"], timeout=120)

        assert error_code(ended) == "VOLPLANE.JOB.1004", ended.text
        job = admin.get(f"/v1/api-jobs/{accepted.headers['X-Job-UUID']}/inventory").json()
        assert job["inventories"][0]["attempts"] == 2
        assert admin.get(f"/v1/volumes/{new_uuid}").status_code == 404
        assert wait_until(lambda: not [f for f in pool_files(pool_dir) if new_uuid in f])


# --- helpers -----------------------------------------------------------------------


@contextmanager
def own_host(
    admin: Client, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[AgentProcess, Path, dict]]:
    """An agent, its pool and a snapshot of a big source volume, for a stack of its own:
    (agent, pool folder, snapshot)."""
    with running_agent(tmp_path_factory.mktemp("agent")) as agent:
        infra = infrastructure(admin, agent, tmp_path_factory.mktemp("infra"))
        _, taken = big_source(admin, infra.pool["uuid"])
        yield agent, Path(infra.pool["mountPath"]), taken


def big_source(client: Client, pool_uuid: str) -> tuple[dict, dict]:
    """A 2 GiB sparse volume with 512 MiB written, snapshotted: a copy that takes a while."""
    vol = volume(client, pool_uuid, 2 * GiB)
    write(vol["installPath"], 0xAB, 0, 448 * MiB)
    write(vol["installPath"], 0x5C, GiB + 64 * MiB, 64 * MiB)
    return vol, snapshot(client, vol["uuid"])


def start_full_clone(client: Client, snapshot_uuid: str, new_uuid: str) -> httpx.Response:
    accepted = client.request(
        "POST",
        f"/v1/volumes/data/from/volume-snapshots/{snapshot_uuid}",
        json={"params": {"name": new_name(), "linked": False, "resourceUuid": new_uuid}},
    )
    assert accepted.status_code == 202, accepted.text
    return accepted


def job_ended(client: Client, accepted: httpx.Response) -> bool:
    return client.get(f"/v1/api-jobs/{accepted.headers['X-Job-UUID']}").status_code != 202
