"""Helpers for tests of the share-storage dialect: calls, envelopes and a small world
(zone, cluster, host, pool) built through the dialect where it can be."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.agents import AgentProcess
from tests.infra import add_host
from tests.stack import Client, new_name

ENVELOPE_KEYS = {"scode", "desc", "message", "message_cn", "stack", "data"}


def post(client: Client, path: str, body: dict[str, Any], **kwargs: Any) -> httpx.Response:
    return client.request("POST", path, json=body, **kwargs)


def get(client: Client, path: str, params: dict[str, Any]) -> httpx.Response:
    return client.request("GET", path, params=params)


def data(response: httpx.Response) -> Any:
    """The ``data`` of a successful answer (after checking the envelope)."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) >= ENVELOPE_KEYS, body
    assert body["scode"] == 0 and body["message"] == "success", body
    return body["data"]


def finished(client: Client, response: httpx.Response) -> dict[str, Any]:
    """Waits for the job an accepted call started; returns its result (must succeed)."""
    data(response)
    job = client.wait(response.headers["Location"])
    assert job.status_code == 200, job.text
    return dict(job.json())


def failed(client: Client, response: httpx.Response) -> str:
    """Waits for the job; it must fail. Returns its error code."""
    data(response)
    job = client.wait(response.headers["Location"])
    assert job.status_code == 503, job.text
    return str(job.json()["error"]["code"])


def refused(response: httpx.Response, status: int) -> dict[str, Any]:
    """An error envelope with ``status``; returns the body."""
    assert response.status_code == status, response.text
    body = dict(response.json())
    assert set(body) >= ENVELOPE_KEYS, body
    assert body["scode"] != 0 and body["message"] and body["message_cn"], body
    assert body["desc"].startswith("VOLPLANE."), body
    return body


@dataclass(frozen=True)
class World:
    zone_uuid: str
    cluster_uuid: str
    host: dict[str, Any]
    pool_uuid: str
    pool_path: Path


def add_cluster(client: Client, zone_uuid: str, name: str | None = None) -> str:
    answer = post(
        client,
        "/v1/cluster/add",
        {"ip": "127.0.0.1", "name": name or new_name("sc"), "desc": "", "zone_uuid": zone_uuid},
    )
    finished(client, answer)
    return str(answer.json()["data"]["uuid"])


def add_local_pool(
    client: Client, world_zone: str, cluster_uuid: str, host_uuid: str, path: Path, **extra: Any
) -> str:
    path.mkdir(parents=True, exist_ok=True)
    body = {
        "cluster_uuid": cluster_uuid,
        "pool_name": new_name("sp"),
        "pool_type": 7,
        "zone_uuid": world_zone,
        "ip": "127.0.0.1",
        "source": str(path),
        "avail_host": [host_uuid],
        "attr": {"overAllocationThreshold": "1.0"},
        **extra,
    }
    answer = post(client, "/v1/pool/share/create", body)
    finished(client, answer)
    return str(answer.json()["data"]["pool"]["UUID"])


def world(client: Client, agent: AgentProcess, tmp_path: Path) -> World:
    """A zone (ZStack call), a cluster (share), the agent as its host (ZStack call: the
    dialect has no host endpoint) and a local pool (share)."""
    zone = client.create_zone()["uuid"]
    cluster = add_cluster(client, zone)
    host = add_host(client, agent, cluster_uuid=cluster)
    path = tmp_path / f"pool-{host['uuid'][:8]}"
    pool = add_local_pool(client, zone, cluster, host["uuid"], path)
    return World(zone, cluster, host, pool, path)


def account_uuid(client: Client, name: str = "admin") -> str:
    accounts = client.get("/v1/accounts").json()["inventories"]
    return str(next(a["uuid"] for a in accounts if a["name"] == name))
