"""Pools end to end: real agents, real directories, real loop devices."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from schemas.agent import DiskConnectArgs
from schemas.zstack_wire import POOL_TYPE_NAMES, shown
from tests.agents import AgentProcess, running_agent
from tests.infra import add_host, add_local_pool, create_cluster, infrastructure
from tests.integration.test_clusters_hosts import error_code, one
from tests.stack import Client, Stack, new_name


def loop_devices_usable() -> str | None:
    """Why loop devices cannot be used here, or None."""
    if os.geteuid() != 0:
        return "tests need root for losetup and mount"
    if not Path("/dev/loop-control").exists():
        return "no /dev/loop-control"
    return None


@pytest.fixture
def loop_device(tmp_path: Path) -> Iterator[str]:
    """A 64 MiB loop device backed by a sparse file; detached (and unmounted) after."""
    reason = loop_devices_usable()
    if reason is not None:
        pytest.fail(f"disk pool tests cannot run: {reason}")
    image = tmp_path / "disk.img"
    with image.open("wb") as f:
        f.truncate(64 * 1024 * 1024)
    device = subprocess.run(
        ["losetup", "-f", "--show", str(image)], capture_output=True, text=True, check=True
    ).stdout.strip()
    try:
        yield device
    finally:
        found = subprocess.run(
            ["findmnt", "-n", "-o", "TARGET", device], capture_output=True, text=True
        )
        for target in found.stdout.split():
            subprocess.run(["umount", "-l", target], check=False)
        subprocess.run(["losetup", "-d", device], check=False)


def statvfs(path: str) -> tuple[int, int]:
    stat = os.statvfs(path)
    return stat.f_blocks * stat.f_frsize, stat.f_bavail * stat.f_frsize


def add_pool(client: Client, kind: str, **params: Any) -> Any:
    return client.call(
        "POST", f"/v1/primary-storage/{kind}", json={"params": {"name": new_name("ps"), **params}}
    )


def pool_action(client: Client, uuid: str, action: str, **params: Any) -> dict[str, Any]:
    done = client.call("PUT", f"/v1/primary-storage/{uuid}/actions", json={action: params})
    assert done.status_code == 200, done.text
    return dict(done.json()["inventory"])


def test_local_pool_lifecycle(production_stack: Stack, tmp_path: Path) -> None:
    admin = production_stack.login()
    with running_agent(tmp_path / "h") as agent:
        infra = infrastructure(admin, agent, tmp_path)
        pool = infra.pool
        assert (
            pool["type"] == "LocalStorage"
            and pool["poolType"] == "local-storage"
            and pool["status"] == "Connected"
        )
        assert pool["attachedClusterUuids"] == [infra.cluster["uuid"]]
        total, available = statvfs(pool["mountPath"])
        assert pool["totalCapacity"] == total == pool["totalPhysicalCapacity"]
        assert abs(pool["availableCapacity"] - available) < 256 * 1024 * 1024
        assert pool["allocatedCapacity"] == 0

        synced = pool_action(admin, pool["uuid"], "syncPrimaryStorageCapacity")
        assert synced["totalCapacity"] == total

        capacity = admin.get(f"/v1/primary-storage/capacities?primaryStorageUuids={pool['uuid']}")
        assert capacity.json()["totalCapacity"] == total

        path = f"/v1/clusters/{infra.cluster['uuid']}/primary-storage/{pool['uuid']}"
        detached = admin.call("DELETE", path)
        assert detached.json()["inventory"]["attachedClusterUuids"] == []
        attached = admin.call("POST", path)
        assert attached.json()["inventory"]["attachedClusterUuids"] == [infra.cluster["uuid"]]

        state = pool_action(admin, pool["uuid"], "changePrimaryStorageState", stateEvent="maintain")
        assert state["state"] == "Maintenance"
        assert pool_action(admin, pool["uuid"], "reconnectPrimaryStorage")["status"] == "Connected"

        assert admin.call("DELETE", f"/v1/primary-storage/{pool['uuid']}").status_code == 200
        assert admin.get(f"/v1/primary-storage/{pool['uuid']}").status_code == 404


def test_avail_tenants_limit_who_sees_a_pool(production_stack: Stack, tmp_path: Path) -> None:
    admin = production_stack.login()
    names = [new_name("tenant"), new_name("tenant")]
    allowed = admin.create_account(names[0])
    admin.create_account(names[1])
    with running_agent(tmp_path / "h") as agent:
        pool = infrastructure(admin, agent, tmp_path).pool
        updated = pool_action(
            admin,
            pool["uuid"],
            "updatePrimaryStorage",
            availTenants=[allowed["uuid"]],
            overAllocationThreshold=2.5,
        )
        assert updated["availTenants"] == [allowed["uuid"]]
        assert updated["overAllocationThreshold"] == 2.5

        seen = production_stack.login(names[0], "secret")
        unseen = production_stack.login(names[1], "secret")
        assert one(seen, f"/v1/primary-storage/{pool['uuid']}")["uuid"] == pool["uuid"]
        assert unseen.get(f"/v1/primary-storage/{pool['uuid']}").status_code == 404
        query = f"/v1/primary-storage?q=uuid={pool['uuid']}&replyWithCount=true"
        assert unseen.get(query).json() == {"inventories": [], "total": 0}
        capacity = unseen.get(f"/v1/primary-storage/capacities?primaryStorageUuids={pool['uuid']}")
        assert capacity.json()["totalCapacity"] == 0

        pool_action(admin, pool["uuid"], "updatePrimaryStorage", availTenants=[])
        assert one(unseen, f"/v1/primary-storage/{pool['uuid']}")["availTenants"] == []


def test_bad_pool_paths_and_duplicates(production_stack: Stack, tmp_path: Path) -> None:
    admin = production_stack.login()
    with running_agent(tmp_path / "h") as agent:
        host = add_host(admin, agent)
        relative = add_pool(admin, "local-storage", hostUuid=host["uuid"], url="pools/a")
        assert error_code(relative) == "VOLPLANE.STORAGE.1004"
        missing = add_pool(admin, "local-storage", hostUuid=host["uuid"], url=str(tmp_path / "no"))
        assert error_code(missing) == "VOLPLANE.STORAGE.1004"
        a_file = tmp_path / "file"
        a_file.write_text("x")
        not_dir = add_pool(admin, "local-storage", hostUuid=host["uuid"], url=str(a_file))
        assert error_code(not_dir) == "VOLPLANE.STORAGE.1004"

        pool = add_local_pool(admin, host, tmp_path / "pool")
        again = add_pool(admin, "local-storage", hostUuid=host["uuid"], url=pool["url"] + "/")
        assert error_code(again) == "VOLPLANE.RESOURCE.1005"

        no_zone = add_pool(admin, "smp", zoneUuid="0" * 32, url=str(tmp_path))
        assert error_code(no_zone) == "VOLPLANE.RESOURCE.1001"
        no_host = add_pool(admin, "local-storage", hostUuid="0" * 32, url=str(tmp_path))
        assert error_code(no_host) == "VOLPLANE.RESOURCE.1001"
        pools = admin.get(f"/v1/primary-storage?q=hostUuid={host['uuid']}").json()["inventories"]
        assert [p["uuid"] for p in pools] == [pool["uuid"]]


def test_types_list_what_hosts_can_run(production_stack: Stack, tmp_path: Path) -> None:
    admin = production_stack.login()
    with running_agent(tmp_path / "h") as agent:
        add_host(admin, agent)
        answer = admin.get("/v1/primary-storage/types").json()
        facts = agent.client().facts()
        # ZStack's reply keys and type names (GetPrimaryStorageTypes: types=...).
        assert set(answer["types"]) >= {shown(POOL_TYPE_NAMES, t) for t in facts.pool_types}
        assert "LocalStorage" in answer["types"]
        for kind, reason in facts.unsupported_pool_types.items():
            assert shown(POOL_TYPE_NAMES, kind) not in answer["types"]
            assert reason in answer["unsupported"][shown(POOL_TYPE_NAMES, kind)]
        strategies = admin.get("/v1/primary-storage/allocators/strategies").json()
        assert "LocalStorageAllocatorStrategy" in strategies["strategies"]
        if "nfs" in facts.unsupported_pool_types:
            zone = admin.create_zone()
            refused = add_pool(admin, "nfs", zoneUuid=zone["uuid"], url="nfs.example:/export")
            assert error_code(refused) == "VOLPLANE.STORAGE.1003"


def test_smp_pool_connects_on_every_host_of_its_cluster(
    production_stack: Stack, tmp_path: Path
) -> None:
    admin = production_stack.login()
    shared = tmp_path / "shared"
    shared.mkdir()
    with running_agent(tmp_path / "h1") as a1, running_agent(tmp_path / "h2") as a2:
        zone = admin.create_zone()
        cluster = create_cluster(admin, zone["uuid"])
        for agent in (a1, a2):
            add_host(admin, agent, cluster_uuid=cluster["uuid"])
        done = add_pool(admin, "smp", zoneUuid=zone["uuid"], url=str(shared))
        assert done.status_code == 200, done.text
        pool = done.json()["inventory"]
        assert pool["status"] == "Connecting" and pool["totalCapacity"] == 0

        attached = admin.call(
            "POST", f"/v1/clusters/{cluster['uuid']}/primary-storage/{pool['uuid']}"
        )
        assert attached.status_code == 200, attached.text
        inventory = attached.json()["inventory"]
        assert inventory["status"] == "Connected"
        assert inventory["totalCapacity"] == statvfs(str(shared))[0]
        for agent in (a1, a2):
            assert agent.client().pool_capacity(str(shared)).root == str(shared)

        detached = admin.call(
            "DELETE", f"/v1/clusters/{cluster['uuid']}/primary-storage/{pool['uuid']}"
        )
        assert detached.json()["inventory"]["status"] == "Disconnected"
        assert admin.call("DELETE", f"/v1/primary-storage/{pool['uuid']}").status_code == 200


def test_disk_pool_on_a_loop_device(
    production_stack: Stack, tmp_path: Path, loop_device: str
) -> None:
    admin = production_stack.login()
    with running_agent(tmp_path / "h") as agent:
        host = add_host(admin, agent)
        assert "disk" in host["poolTypes"], host["unsupportedPoolTypes"]

        # An empty device gets a filesystem and is mounted under the agent's data dir
        done = add_pool(admin, "disk", hostUuid=host["uuid"], url=loop_device)
        assert done.status_code == 200, done.text
        pool = done.json()["inventory"]
        mount = pool["mountPath"]
        assert os.path.ismount(mount) and mount.startswith(str(agent.data_dir))
        assert (pool["totalCapacity"], pool["availableCapacity"]) == statvfs(mount)

        # The same device again is in use
        again = add_pool(admin, "disk", hostUuid=host["uuid"], url=loop_device)
        assert error_code(again) in {"VOLPLANE.RESOURCE.1005", "VOLPLANE.STORAGE.1005"}

        # Deleting the pool unmounts the device
        assert admin.call("DELETE", f"/v1/primary-storage/{pool['uuid']}").status_code == 200
        assert not os.path.ismount(mount)


def test_disk_with_unknown_data_is_refused_unless_forced(
    production_stack: Stack, tmp_path: Path, loop_device: str
) -> None:
    admin = production_stack.login()
    subprocess.run(["mkfs.ext4", "-q", "-L", "someone-else", loop_device], check=True)
    with running_agent(tmp_path / "h") as agent:
        host = add_host(admin, agent)
        refused = add_pool(admin, "disk", hostUuid=host["uuid"], url=loop_device)
        assert error_code(refused) == "VOLPLANE.STORAGE.1005"
        assert "someone-else" in refused.json()["error"]["details"]

        forced = add_pool(admin, "disk", hostUuid=host["uuid"], url=loop_device, force=True)
        assert forced.status_code == 200, forced.text
        uuid = forced.json()["inventory"]["uuid"]
        assert admin.call("DELETE", f"/v1/primary-storage/{uuid}").status_code == 200


def test_repeated_agent_command_does_the_work_once(tmp_path: Path, loop_device: str) -> None:
    agent = AgentProcess(tmp_path / "h")
    agent.start()
    try:
        with agent.client() as client:
            args = DiskConnectArgs(device=loop_device, name="once").wire()
            first = client.start("op-disk-once", "disk.connect", args, wait=10)
            # Unmount behind the agent's back: a second run would mount it again.
            mount = first.result["root"] if first.result else ""
            subprocess.run(["umount", mount], check=True)
            second = client.start("op-disk-once", "disk.connect", args, wait=10)
            assert second == first and second.state.value == "succeeded"
            assert not os.path.ismount(mount)
    finally:
        agent.stop()
