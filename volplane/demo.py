"""``volplane up --demo``: a ready-to-use zone, cluster, host, pool and image store.

Each object is looked up by name first and made only when missing, so a demo that
stopped halfway is completed on the next start and a zone ``zone-1`` made by hand
(the README's quickstart makes one) is used rather than skipped over. The host is
the agent of *this* ``volplane up`` (its address and port), never another stack's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from volplane.passwords import sha512_hex

ZONE, CLUSTER, HOST, POOL, BACKUP = "zone-1", "cluster-1", "local", "local-pool", "local-backup"


class DemoError(RuntimeError):
    """A demo call failed; the message names the call and the server's answer."""


@dataclass
class DemoApi:
    """The few API calls the demo makes, logged in as the admin."""

    base: str
    headers: dict[str, str]

    @classmethod
    def login(cls, base: str, account: str, password: str) -> DemoApi:
        answer = httpx.put(
            f"{base}/v1/accounts/login",
            json={"logInByAccount": {"accountName": account, "password": sha512_hex(password)}},
            timeout=30,
        )
        if answer.status_code != 200:
            raise DemoError(f"demo: login as {account} failed: {answer.text}")
        return cls(base, {"Authorization": f"OAuth {answer.json()['inventory']['uuid']}"})

    def find(self, collection: str, *conditions: str) -> dict[str, Any] | None:
        answer = httpx.get(
            f"{self.base}{collection}",
            params=[("q", c) for c in conditions],
            headers=self.headers,
            timeout=30,
        )
        if answer.status_code != 200:
            raise DemoError(f"demo: GET {collection} failed: {answer.text}")
        found: list[dict[str, Any]] = answer.json().get("inventories", [])
        return found[0] if found else None

    def call(self, method: str, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        body = {"params": params} if params is not None else None
        job = httpx.request(
            method, f"{self.base}{path}", json=body, headers=self.headers, timeout=30
        )
        if job.status_code != 202:
            raise DemoError(f"demo: {method} {path} was refused: {job.text}")
        done = httpx.get(
            job.json()["location"], params={"waitSeconds": 60}, headers=self.headers, timeout=70
        )
        if done.status_code != 200:
            raise DemoError(f"demo: {method} {path} failed: {done.text}")
        inventory: dict[str, Any] = done.json().get("inventory", {})
        return inventory


def _ensure(
    report: list[str],
    kind: str,
    name: str,
    found: dict[str, Any] | None,
    make: Callable[[], dict[str, Any]],
) -> dict[str, Any]:
    if found is not None:
        report.append(f"found {kind} {name} ({found['uuid']})")
        return found
    made = make()
    report.append(f"made {kind} {name} ({made['uuid']})")
    return made


def ensure_demo(
    api: DemoApi, *, data_dir: Path, agent_ip: str, agent_port: int, agent_token: str
) -> list[str]:
    """Makes whatever demo object is missing; returns one line per object, made or found."""
    report: list[str] = []
    zone = _ensure(
        report,
        "zone",
        ZONE,
        api.find("/v1/zones", f"name={ZONE}"),
        lambda: api.call("POST", "/v1/zones", {"name": ZONE}),
    )
    cluster = _ensure(
        report,
        "cluster",
        CLUSTER,
        api.find("/v1/clusters", f"name={CLUSTER}", f"zoneUuid={zone['uuid']}"),
        lambda: api.call(
            "POST",
            "/v1/clusters",
            {"zoneUuid": zone["uuid"], "name": CLUSTER, "hypervisorType": "KVM"},
        ),
    )
    host = _ensure(
        report,
        "host",
        f"{HOST} at {agent_ip}:{agent_port}",
        api.find("/v1/hosts", f"managementIp={agent_ip}", f"agentPort={agent_port}"),
        lambda: api.call(
            "POST",
            "/v1/hosts/kvm",
            {
                "clusterUuid": cluster["uuid"],
                "name": HOST,
                "managementIp": agent_ip,
                "agentPort": agent_port,
                "agentToken": agent_token,
            },
        ),
    )
    pool_dir = data_dir / POOL
    pool_dir.mkdir(exist_ok=True)
    _ensure(
        report,
        "primary storage",
        POOL,
        api.find("/v1/primary-storage", f"name={POOL}", f"zoneUuid={zone['uuid']}"),
        lambda: api.call(
            "POST",
            "/v1/primary-storage/local-storage",
            {"hostUuid": host["uuid"], "url": str(pool_dir), "name": POOL},
        ),
    )
    backup = _ensure(
        report,
        "backup storage",
        BACKUP,
        api.find("/v1/backup-storage", f"name={BACKUP}"),
        lambda: api.call(
            "POST",
            "/v1/backup-storage/image-store",
            {"hostUuid": host["uuid"], "url": str(data_dir / BACKUP), "name": BACKUP},
        ),
    )
    if zone["uuid"] not in backup.get("attachedZoneUuids", []):
        api.call("POST", f"/v1/zones/{zone['uuid']}/backup-storage/{backup['uuid']}")
        report.append(f"attached backup storage {BACKUP} to zone {ZONE}")
    return report
