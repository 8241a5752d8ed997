"""Snapshot trees on real qcow2 files: revert, merge on delete, ordering, refusals."""

from __future__ import annotations

import concurrent.futures
from typing import Any

import pytest

from tests.infra import Infra
from tests.stack import Client, job_uuid
from tests.storage import (
    MiB,
    chain,
    error_code,
    get_volume,
    holds,
    inventory,
    pool_files,
    revert,
    snapshot,
    volume,
    write,
)

pytestmark = pytest.mark.integration


def tree_of(client: Client, volume_uuid: str) -> dict[str, Any]:
    response = client.get(f"/v1/volume-snapshots/trees/{volume_uuid}")
    assert response.status_code == 200, response.text
    return dict(response.json()["inventories"][0])


def test_revert_brings_the_data_back_and_keeps_later_snapshots(admin: Client, infra: Infra) -> None:
    vol = volume(admin, infra.pool["uuid"])
    head = vol["installPath"]
    write(head, 0xAB)
    first = snapshot(admin, vol["uuid"], "first")
    write(head, 0xCD)
    second = snapshot(admin, vol["uuid"], "second")
    write(head, 0xEF)

    reverted = revert(admin, first["uuid"])

    assert reverted.status_code == 200, reverted.text
    assert holds(head, 0xAB)
    assert get_volume(admin, vol["uuid"])["currentSnapshotUuid"] == first["uuid"]
    root = tree_of(admin, vol["uuid"])["tree"]
    assert root["uuid"] == first["uuid"]
    assert [kid["uuid"] for kid in root["children"]] == [second["uuid"], "head"]
    assert holds(second["primaryStorageInstallPath"], 0xCD), "the later snapshot is a branch"

    assert revert(admin, second["uuid"]).status_code == 200
    assert holds(head, 0xCD)


def test_deleting_middle_and_root_snapshots_merges_their_data(admin: Client, infra: Infra) -> None:
    vol = volume(admin, infra.pool["uuid"])
    head = vol["installPath"]
    taken = []
    for index, pattern in enumerate([0x11, 0x22, 0x33]):
        write(head, pattern, index * MiB)
        taken.append(snapshot(admin, vol["uuid"]))
    write(head, 0x44, 3 * MiB)

    for doomed in (taken[1], taken[0], taken[2]):
        assert admin.call("DELETE", f"/v1/volume-snapshots/{doomed['uuid']}").status_code == 200
        assert not [f for f in pool_files(infra.pool["mountPath"]) if doomed["uuid"] in f]
        for index, pattern in enumerate([0x11, 0x22, 0x33, 0x44]):
            assert holds(head, pattern, index * MiB), (doomed["name"], hex(pattern))

    assert chain(head) == [head]
    after = get_volume(admin, vol["uuid"])
    assert after["currentSnapshotUuid"] is None and after["snapshotSize"] == 0


def test_thirty_snapshots_submitted_at_once_form_one_chain(admin: Client, infra: Infra) -> None:
    vol = volume(admin, infra.pool["uuid"], 16 * MiB)
    path = f"/v1/volumes/{vol['uuid']}/volume-snapshots"

    def submit(index: int) -> str:
        accepted = admin.request("POST", path, json={"params": {"name": f"s{index}"}})
        assert accepted.status_code == 202, accepted.text
        return str(accepted.json()["location"])

    with concurrent.futures.ThreadPoolExecutor(30) as pool:
        locations = list(pool.map(submit, range(30)))
    assert all(admin.wait(loc, timeout=120).status_code == 200 for loc in locations)

    snaps = admin.get(
        "/v1/volume-snapshots", params={"q": f"volumeUuid={vol['uuid']}", "sort": "+createDate"}
    ).json()["inventories"]
    assert len(snaps) == 30
    parents = [s["parentUuid"] for s in snaps]
    assert parents == [None] + [s["uuid"] for s in snaps[:-1]], "one linear chain"
    expected = [vol["installPath"]] + [s["primaryStorageInstallPath"] for s in reversed(snaps)]
    assert chain(vol["installPath"]) == expected
    assert get_volume(admin, vol["uuid"])["currentSnapshotUuid"] == snaps[-1]["uuid"]
    assert admin.call("DELETE", f"/v1/volumes/{vol['uuid']}?force=true").status_code == 200


def test_refusals_have_clear_codes(admin: Client, infra: Infra) -> None:
    tight = volume(admin, infra.pool["uuid"], 64 * MiB, snapshotCapacity=MiB)
    write(tight["installPath"], 0xAB, 0, 4 * MiB)
    over = admin.call(
        "POST", f"/v1/volumes/{tight['uuid']}/volume-snapshots", json={"params": {"name": "x"}}
    )
    assert error_code(over) == "VOLPLANE.STORAGE.1101"
    assert chain(tight["installPath"]) == [tight["installPath"]], "nothing was changed"

    vol = volume(admin, infra.pool["uuid"])
    first = snapshot(admin, vol["uuid"])
    snapshot(admin, vol["uuid"])
    assert revert(admin, first["uuid"]).status_code == 200
    two_children = admin.call("DELETE", f"/v1/volume-snapshots/{first['uuid']}")
    assert error_code(two_children) == "VOLPLANE.RESOURCE.1103"

    updated = inventory(
        admin.call(
            "PUT",
            f"/v1/volume-snapshots/{first['uuid']}/actions",
            json={"updateVolumeSnapshot": {"name": "kept", "description": "d"}},
        )
    )
    assert updated["name"] == "kept"
    missing = admin.call("DELETE", f"/v1/volume-snapshots/{job_uuid()}")
    assert missing.status_code == 200 and missing.json() == {}, (
        "ZStack: deleting what is gone succeeds"
    )
