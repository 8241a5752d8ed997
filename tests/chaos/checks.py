"""After a chaos run: nothing applied twice, every qcow2 chain is what the API's snapshot
trees say, every pool's capacity is its disk's, and nothing temporary is left."""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.chaos.topology import Topology
from tests.chaos.workload import Ledger
from volplane import layout

MiB = 1 << 20
# The small pool has its filesystem to itself; the other shares the machine's disk.
EXACT_SLACK = 2 * MiB
SHARED_SLACK = 512 * MiB


@dataclass
class Findings:
    doubled: list[str] = field(default_factory=list)
    chain_mismatches: list[str] = field(default_factory=list)
    capacity_mismatches: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)
    unfinished: list[str] = field(default_factory=list)  # resources not Ready at the end
    unreferenced_chunks: int = 0


def _all(top: Topology, path: str) -> list[dict[str, Any]]:
    answer = top.admin.get(path, params={"limit": "10000"})
    answer.raise_for_status()
    return list(answer.json()["inventories"])


def _chain(path: str) -> list[str] | None:
    found = subprocess.run(
        ["qemu-img", "info", "-U", "--output=json", "--backing-chain", path],
        capture_output=True,
        text=True,
    )
    if found.returncode != 0:
        return None
    return [item["filename"] for item in json.loads(found.stdout)]


def check(top: Topology, ledger: Ledger) -> Findings:
    found = Findings()
    volumes = _all(top, "/v1/volumes")
    snapshots = _all(top, "/v1/volume-snapshots")
    backups = _all(top, "/v1/volume-backups")
    _doubled(found, ledger, volumes, snapshots, backups)
    _chains(found, volumes, snapshots)
    _capacities(found, top, volumes)
    _leftovers(found, top, volumes, snapshots, backups)
    return found


def _doubled(
    found: Findings,
    ledger: Ledger,
    volumes: list[dict[str, Any]],
    snapshots: list[dict[str, Any]],
    backups: list[dict[str, Any]],
) -> None:
    counts = Counter(item["name"] for item in [*volumes, *snapshots, *backups])
    found.doubled += sorted(name for name in ledger.names if counts[name] > 1)


def _chains(
    found: Findings, volumes: list[dict[str, Any]], snapshots: list[dict[str, Any]]
) -> None:
    snaps = {s["uuid"]: s for s in snapshots}
    vols = {v["uuid"]: v for v in volumes}

    def base(volume_uuid: str) -> list[str]:
        volume = vols.get(volume_uuid)
        parent = volume.get("parentSnapshotUuid") if volume else None
        return of_snapshot(parent) if parent else []

    def of_snapshot(uuid: str) -> list[str]:
        snap = snaps[uuid]
        below = of_snapshot(snap["parentUuid"]) if snap["parentUuid"] else base(snap["volumeUuid"])
        return [snap["primaryStorageInstallPath"], *below]

    for volume in volumes:
        if volume["status"] != "Ready":
            found.unfinished.append(f"volume {volume['uuid']} is {volume['status']}")
            continue
        current = volume.get("currentSnapshotUuid")
        expected = [
            volume["installPath"],
            *(of_snapshot(current) if current else base(volume["uuid"])),
        ]
        actual = _chain(volume["installPath"])
        if actual != expected:
            found.chain_mismatches.append(f"volume {volume['uuid']}: {actual} != {expected}")
    for snap in snapshots:
        if snap["status"] != "Ready":
            found.unfinished.append(f"snapshot {snap['uuid']} is {snap['status']}")
            continue
        actual = _chain(snap["primaryStorageInstallPath"])
        if actual != of_snapshot(snap["uuid"]):
            found.chain_mismatches.append(f"snapshot {snap['uuid']}: {actual}")


def _capacities(found: Findings, top: Topology, volumes: list[dict[str, Any]]) -> None:
    for pool in top.pools:
        synced = top.admin.call(
            "PUT",
            f"/v1/primary-storage/{pool['uuid']}/actions",
            json={"syncPrimaryStorageCapacity": {}},
        )
        if synced.status_code != 200:
            found.capacity_mismatches.append(f"pool {pool['uuid']}: sync answered {synced.text}")
            continue
        inventory = synced.json()["inventory"]
        disk = os.statvfs(pool["mountPath"])
        available = disk.f_bavail * disk.f_frsize
        slack = EXACT_SLACK if pool is top.pools[0] else SHARED_SLACK
        if abs(inventory["availableCapacity"] - available) > slack:
            found.capacity_mismatches.append(
                f"pool {pool['uuid']}: available {inventory['availableCapacity']}, disk {available}"
            )
        allocated = sum(v["size"] for v in volumes if v["primaryStorageUuid"] == pool["uuid"])
        if inventory["allocatedCapacity"] != allocated:
            found.capacity_mismatches.append(
                f"pool {pool['uuid']}: allocated {inventory['allocatedCapacity']}, "
                f"volumes {allocated}"
            )


def _leftovers(
    found: Findings,
    top: Topology,
    volumes: list[dict[str, Any]],
    snapshots: list[dict[str, Any]],
    backups: list[dict[str, Any]],
) -> None:
    known = {v["installPath"] for v in volumes} | {
        s["primaryStorageInstallPath"] for s in snapshots
    }
    on_disk: set[str] = set()
    for pool in top.pools:
        for path in sorted(Path(pool["mountPath"]).iterdir()):
            on_disk.add(str(path))
            role = layout.recognize(path.name)
            if role is None or role.partial or role.role == "export":
                found.leftovers.append(str(path))
            elif str(path) not in known:
                found.leftovers.append(f"{path} (no volume or snapshot names it)")
    for path in sorted(known - on_disk):
        found.chain_mismatches.append(f"{path} is named by the API but missing")
    store = Path(top.backup_storage["url"])
    for folder in ("pins", "tmp"):
        found.leftovers += [str(p) for p in sorted((store / folder).iterdir())]
    manifests = {p.stem for p in (store / "manifests").glob("*.json")}
    listed = {b["uuid"] for b in backups}
    found.leftovers += [f"manifest {u} (no backup names it)" for u in sorted(manifests - listed)]
    found.chain_mismatches += [f"backup {u} has no manifest" for u in sorted(listed - manifests)]
    found.unfinished += [
        f"backup {b['uuid']} is {b['status']}" for b in backups if b["status"] != "Ready"
    ]
    referenced: set[str] = set()
    for uuid in manifests:
        data = json.loads((store / "manifests" / f"{uuid}.json").read_bytes())
        referenced |= {chunk[2] for chunk in data.get("chunks", [])}
    chunks = {p.name for p in (store / "chunks").rglob("*") if p.is_file()}
    found.unreferenced_chunks = len(chunks - referenced)
    for agent in top.agents:
        found.leftovers += [str(p) for p in (agent.data_dir / "operations").glob("*.tmp")]
