"""A full storage flow driven by the SDK, and by the CLI in a subprocess."""

from __future__ import annotations

from pathlib import Path

import pytest

from client import Client
from client.errors import JobFailedError
from tests.agents import running_agent
from tests.infra import infrastructure
from tests.integration.test_cli import Cli
from tests.stack import Stack, new_name
from tests.storage import holds, write

MiB = 1 << 20


def test_sdk_drives_volumes_snapshots_and_clones(production_stack: Stack, tmp_path: Path) -> None:
    with running_agent(tmp_path / "agent") as agent:
        infra = infrastructure(production_stack.login(), agent, tmp_path)
        pool = infra.pool["uuid"]
        with Client(production_stack.url) as api:
            api.login("admin", "password")
            volumes = api.resource("/v1/volumes", update_action="updateVolume")

            # A volume with known data, a snapshot, an overwrite and a revert
            vol = volumes.create(
                {"name": new_name("sdk"), "diskSize": 64 * MiB, "primaryStorageUuid": pool},
                path="/v1/volumes/data",
            )
            write(vol["installPath"], 0xAB)
            snap = api.call(
                "POST", f"/v1/volumes/{vol['uuid']}/volume-snapshots", {"params": {"name": "s1"}}
            )["inventory"]
            write(vol["installPath"], 0xCD)
            api.call(
                "PUT",
                f"/v1/volume-snapshots/{snap['uuid']}/actions",
                {"revertVolumeFromSnapshot": {}},
            )
            assert holds(volumes.get(vol["uuid"])["installPath"], 0xAB)

            # A full clone reports progress through the callback
            seen: list[int] = []
            clone = api.call(
                "POST",
                f"/v1/volumes/data/from/volume-snapshots/{snap['uuid']}",
                {"params": {"name": new_name("full"), "linked": False}},
                on_progress=lambda status: seen.append(status.progress),
            )["inventory"]
            assert holds(clone["installPath"], 0xAB)
            assert seen and seen[-1] == 100

            # Queries, and typed errors carrying the server's code
            assert volumes.count(f"primaryStorage.name={infra.pool['name']}") == 2
            with pytest.raises(JobFailedError) as failed:
                api.call(
                    "PUT", f"/v1/volumes/{vol['uuid']}/actions", {"resizeDataVolume": {"size": MiB}}
                )
            assert failed.value.code == "VOLPLANE.STORAGE.1103"
            assert volumes.update(vol["uuid"], description="via sdk")["description"] == "via sdk"
            volumes.delete(clone["uuid"])
            volumes.delete(vol["uuid"], force="true")
            assert volumes.count(f"primaryStorage.name={infra.pool['name']}") == 0


def test_cli_drives_volumes_and_snapshots(production_stack: Stack, tmp_path: Path) -> None:
    cli = Cli(production_stack, tmp_path / "config")
    with running_agent(tmp_path / "agent") as agent:
        infra = infrastructure(production_stack.login(), agent, tmp_path)
        cli.json("login", "--account", "admin", "--password", "password")
        name = new_name("cli-vol")
        vol = cli.json("volume", "create", name, "--size", "64M", "--pool", infra.pool["uuid"])
        assert vol["name"] == name and vol["size"] == 64 * MiB
        write(vol["installPath"], 0xAB)
        snap = cli.json("volume", "snapshot", vol["uuid"], "--name", "s1")
        write(vol["installPath"], 0xCD)
        cli.json("snapshot", "revert", snap["uuid"])
        shown = cli.json("volume", "show", vol["uuid"])
        assert holds(shown["installPath"], 0xAB)
        grown = cli.json("volume", "resize", vol["uuid"], "--size", "128M")
        assert grown["size"] == 128 * MiB
        listed = cli.json("volume", "list", "-q", f"name={name}")
        assert [v["uuid"] for v in listed] == [vol["uuid"]]
        # A failing job exits 1 and names its code
        refused = cli.run("volume", "resize", vol["uuid"], "--size", "1M", expect=1)
        assert "VOLPLANE.STORAGE.1103" in refused.stderr + refused.stdout
