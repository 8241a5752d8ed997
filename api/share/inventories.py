"""PascalCase objects of the share-storage dialect, built from volplane's inventories.

Each function takes the ZStack-dialect inventory (``primary_storage_inventory``,
``volume_inventory``, ``snapshot_inventory``...) and the little context the seeds
show beside it (zone name, hosts, counts), so both dialects describe an object from
the same source. Times are unix seconds (``Ctime``); sizes are bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from schemas.states import HostStatus, ResourceState
from schemas.storage import VolumeStatus

# Pool type numbers of seed 000 (the order of pool_type/support), and volplane's
# additions for the directory pools it also runs.
POOL_TYPE_NUMBERS: dict[str, int] = {
    "iscsi": 1,
    "nfs": 2,
    "samba": 3,
    "disk": 4,
    "fc": 5,
    "rbd": 6,
    "local": 7,
    "smp": 8,
}
SHARE_TYPE_OF_POOL = {
    "local-storage": "local",
    "smp": "smp",
    "disk": "disk",
    "nfs": "nfs",
    "samba": "samba",
}
POOL_TYPE_OF_SHARE = {share: pool for pool, share in SHARE_TYPE_OF_POOL.items()}
HEAD = "head"


def unix(iso_date: str | None) -> int:
    if not iso_date:
        return 0
    return int(datetime.fromisoformat(iso_date.replace("Z", "+00:00")).timestamp())


def share_type_number(pool_type: str) -> int:
    return POOL_TYPE_NUMBERS[SHARE_TYPE_OF_POOL.get(pool_type, pool_type)]


def _threshold_text(value: float) -> str:
    return repr(float(value))  # 1.0 → "1.0", as the seed writes it


def pool_status(inventory: Mapping[str, Any]) -> str:
    """``healthy`` when usable; otherwise the state or status in lower case."""
    if inventory["state"] != ResourceState.ENABLED:
        return str(inventory["state"]).lower()
    if inventory["status"] != HostStatus.CONNECTED:
        return str(inventory["status"]).lower()
    return "healthy"


def split_source(pool_type: str, url: str) -> tuple[str, str]:
    """(IP, Source) of a pool's url: ``server:/export`` and ``//server/share`` name
    a server; the others are paths on the pool's host."""
    if pool_type == "nfs" and ":" in url:
        server, _, path = url.partition(":")
        return server, path
    if pool_type == "samba" and url.startswith("//"):
        server, _, share = url[2:].partition("/")
        return server, share
    return "", url


@dataclass(frozen=True)
class PoolContext:
    zone_name: str = ""
    hosts: Sequence[Mapping[str, Any]] = ()  # host inventories of the hosts reaching it
    volume_count: int = 0


def share_pool(inventory: Mapping[str, Any], context: PoolContext) -> dict[str, Any]:
    pool_type = str(inventory["poolType"])
    ip, source = split_source(pool_type, str(inventory["url"]))
    own_host = inventory.get("hostUuid")
    if own_host:
        ip = next((h["managementIp"] for h in context.hosts if h["uuid"] == own_host), ip)
    total = int(inventory["totalCapacity"])
    return {
        "UUID": inventory["uuid"],
        "Name": inventory["name"],
        "Type": share_type_number(pool_type),
        "NamespaceUUID": "",
        "ZoneUUID": inventory["zoneUuid"],
        "ZoneName": context.zone_name,
        "MachineUUID": own_host or "",
        "IP": ip,
        "Port": "",
        "Source": source,
        "Username": "",
        "Password": "",
        "Ctime": unix(inventory["createDate"]),
        "Mtime": unix(inventory["lastOpDate"]),
        "VolumeTotalCount": context.volume_count,
        "AvailHosts": [h["uuid"] for h in context.hosts] or None,
        "Volumes": None,
        "Capacity": total,
        "ShareNsUUIDs": None,
        "Used": max(0, total - int(inventory["availableCapacity"])),
        "Attr": {"overAllocationThreshold": _threshold_text(inventory["overAllocationThreshold"])},
        "ShareNsNames": None,
        "Status": pool_status(inventory),
        "AllocatedCapacity": int(inventory["allocatedCapacity"]),
        "LimitHost": bool(own_host),
    }


@dataclass(frozen=True)
class VolumeContext:
    pool_name: str = ""
    zone_uuid: str = ""
    zone_name: str = ""
    host_uuids: Sequence[str] = ()  # the hosts that reach the volume's pool
    parent_volume_uuid: str = ""  # a linked clone's source volume
    children: Sequence[str] = ()  # linked clones of this volume


def volume_event_state(status: str) -> int:
    """0 ready, 1 creating, 2 deleting (a ZStack-deleted volume waiting to be expunged
    too), 3 error."""
    return {"Ready": 0, "Creating": 1, "Deleting": 2, "Deleted": 2}.get(status, 3)


def share_volume(inventory: Mapping[str, Any], context: VolumeContext) -> dict[str, Any]:
    path = inventory.get("installPath") or ""
    return {
        "UUID": inventory["uuid"],
        "Name": inventory["name"],
        "NamespaceUUID": "",
        "Type": inventory.get("kind") or "block",
        "PoolUUID": inventory["primaryStorageUuid"],
        "Capacity": int(inventory.get("size") or 0),
        "Used": int(inventory.get("actualSize") or 0),
        "Attr": None,
        "PoolName": context.pool_name,
        "ZoneUUID": context.zone_uuid,
        "ZoneName": context.zone_name,
        "SnapLength": int(inventory.get("snapshotSize") or 0),
        "SnapCap": int(inventory.get("snapshotCapacity") or 0),
        "Ctime": unix(inventory.get("createDate")),
        "Mtime": unix(inventory.get("lastOpDate")),
        "AccessPath": {host: path for host in context.host_uuids},
        "EventState": volume_event_state(str(inventory.get("status") or VolumeStatus.READY)),
        "ShareNsUUIDs": None,
        "Parent": context.parent_volume_uuid,
        "ParentSnapshot": inventory.get("parentSnapshotUuid") or "",
        "Children": list(context.children) or None,
    }


# --- snapshots -------------------------------------------------------------------


def snapshot_status(status: str) -> int:
    """0 ready, 1 creating, 2 deleting, 3 error (as ``EventState`` of volumes)."""
    return volume_event_state(status)


@dataclass(frozen=True)
class SnapshotTree:
    """A volume's snapshots as the seed names them: by snapshot name (the uuid when a
    name repeats within the volume), with ``head`` for where the volume is now."""

    labels: Mapping[str, str]  # snapshot uuid -> label
    parents: Mapping[str, str | None]  # snapshot uuid -> parent uuid
    current: str | None  # the snapshot the head sits on
    order: Sequence[str] = field(default_factory=tuple)  # creation order

    @classmethod
    def of(cls, snapshots: Sequence[Mapping[str, Any]], current: str | None) -> SnapshotTree:
        """``snapshots``: snapshot inventories in creation order."""
        names = [s["name"] for s in snapshots]
        labels = {
            s["uuid"]: s["name"] if names.count(s["name"]) == 1 and s["name"] != HEAD else s["uuid"]
            for s in snapshots
        }
        return cls(
            labels=labels,
            parents={s["uuid"]: s.get("parentUuid") for s in snapshots},
            current=current,
            order=[s["uuid"] for s in snapshots],
        )

    def label(self, uuid: str | None) -> str:
        return "" if uuid is None else self.labels.get(uuid, uuid)

    def children(self, uuid: str | None) -> list[str]:
        kids = [self.label(s) for s in self.order if self.parents[s] == uuid]
        if self.current == uuid:
            kids.append(HEAD)
        return kids

    def view(self) -> dict[str, Any]:
        """The seed's ``tree``: ``Parents`` (label → parent label, "" for a root),
        ``Children`` ("" and each snapshot with children → ``{"Children": [...]}``) and
        ``Root`` (the first root)."""
        parents = {self.label(s): self.label(self.parents[s]) for s in self.order}
        parents[HEAD] = self.label(self.current)
        children: dict[str, Any] = {}
        for uuid in [None, *self.order]:
            kids = self.children(uuid)
            if kids:
                children[self.label(uuid)] = {"Children": kids}
        roots = [s for s in self.order if self.parents[s] is None]
        return {
            "UUID": "",
            "Parents": parents,
            "Children": children,
            "Root": self.label(roots[0]) if roots else "",
        }


def share_snapshot(
    inventory: Mapping[str, Any], tree: SnapshotTree, *, linked_clones: int = 0
) -> dict[str, Any]:
    uuid = inventory["uuid"]
    return {
        "Name": inventory["name"],
        "UUID": uuid,
        "Volume": inventory["volumeUuid"],
        "Desc": inventory.get("description") or "",
        "Status": snapshot_status(str(inventory.get("status") or VolumeStatus.READY)),
        "Ctime": unix(inventory.get("createDate")),
        "Attr": {"LinkCloneUsed": "LinkCloneUsed"} if linked_clones else None,
        "Size": int(inventory.get("size") or 0),
        "Children": tree.children(uuid),
        "Parent": tree.label(tree.parents.get(uuid)),
        "Ref": linked_clones,
    }


# --- common blocks ---------------------------------------------------------------


def cluster_fields(
    cluster_uuid: str = "", cluster_name: str = "", *, tenant: str = "", tenant_name: str = ""
) -> dict[str, Any]:
    """The ``cluster_*`` and ``tenant*`` keys most seed answers carry."""
    return {
        "cluster_uuid": cluster_uuid,
        "cluster_name": cluster_name,
        "cluster_mode": "",
        "tenant": tenant,
        "tenant_name": tenant_name,
    }


def inspection_status() -> dict[str, Any]:
    return {"code": 0, "message": "", "messageCn": "", "stack": None, "desc": "", "UUID": ""}
