"""``volplane up``: gateway, worker (with the sweeper) and a local agent, supervised.

Each part runs as its own process, exactly as in production, so embedded mode
exercises the same code paths; only the database and broker are SQLite files.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from volplane.passwords import sha512_hex
from volplane.settings import Settings

AGENT_PORT = 7070


def _agent_token(data_dir: Path) -> str:
    path = data_dir / "agent.token"
    if not path.exists():
        path.write_text(secrets.token_hex(24))
        path.chmod(0o600)
    return path.read_text().strip()


def _wait_healthy(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up within {timeout:.0f}s")


def _demo(base: str, settings: Settings, *, data_dir: Path, token: str) -> None:
    """Zone, cluster, the local agent as a host, a local pool and an image store."""
    login = httpx.put(
        f"{base}/v1/accounts/login",
        json={
            "logInByAccount": {
                "accountName": settings.admin_name,
                "password": sha512_hex(settings.admin_password),
            }
        },
    ).json()
    headers = {"Authorization": f"OAuth {login['inventory']['uuid']}"}
    existing = httpx.get(f"{base}/v1/zones?q=name=zone-1", headers=headers).json()
    if existing.get("inventories"):
        return

    def call(method: str, path: str, params: dict[str, object] | None = None) -> dict[str, Any]:
        body = {"params": params} if params is not None else None
        job = httpx.request(method, f"{base}{path}", json=body, headers=headers, timeout=30)
        done = httpx.get(job.json()["location"] + "?waitSeconds=30", headers=headers, timeout=40)
        if done.status_code != 200:
            raise RuntimeError(f"demo: {method} {path} failed: {done.text}")
        inventory: dict[str, Any] = done.json()["inventory"]
        return inventory

    _wait_healthy(f"http://127.0.0.1:{AGENT_PORT}/v1/health")
    zone = call("POST", "/v1/zones", {"name": "zone-1"})
    cluster = call(
        "POST",
        "/v1/clusters",
        {"zoneUuid": zone["uuid"], "name": "cluster-1", "hypervisorType": "KVM"},
    )
    host = call(
        "POST",
        "/v1/hosts/kvm",
        {
            "clusterUuid": cluster["uuid"],
            "name": "local",
            "managementIp": "127.0.0.1",
            "agentPort": AGENT_PORT,
            "agentToken": token,
        },
    )
    (data_dir / "local-pool").mkdir(exist_ok=True)
    call(
        "POST",
        "/v1/primary-storage/local-storage",
        {"hostUuid": host["uuid"], "url": str(data_dir / "local-pool"), "name": "local-pool"},
    )
    backup = call(
        "POST",
        "/v1/backup-storage/image-store",
        {"hostUuid": host["uuid"], "url": str(data_dir / "local-backup"), "name": "local-backup"},
    )
    call("POST", f"/v1/zones/{zone['uuid']}/backup-storage/{backup['uuid']}")
    print("demo: created zone-1, cluster-1, host local, pool local-pool, image store local-backup")


def run_embedded(*, port: int, data_dir: Path, demo: bool) -> int:
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "VOLPLANE_DATA_DIR": str(data_dir),
        "VOLPLANE_WEBHOOK_ALLOW_NETWORKS": os.environ.get(
            "VOLPLANE_WEBHOOK_ALLOW_NETWORKS", '["127.0.0.0/8"]'
        ),
    }
    os.environ.update(env)
    settings = Settings()
    from volplane.bootstrap import prepare_database

    prepare_database(settings)
    token = _agent_token(data_dir)
    exe = [sys.executable, "-m", "volplane.cli"]
    commands = {
        "gateway": [*exe, "gateway", "--port", str(port)],
        "worker": [*exe, "worker", "--beat", "--concurrency", "2"],
        "agent": [
            *exe,
            "agent",
            "--listen",
            f"127.0.0.1:{AGENT_PORT}",
            "--data-dir",
            str(data_dir / "agent"),
            "--token",
            token,
        ],
    }
    children = {name: subprocess.Popen(cmd, env=env) for name, cmd in commands.items()}
    base = f"http://127.0.0.1:{port}"
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        _wait_healthy(f"{base}/v1/zones")
        print(f"volplane is up at {base}")
        print(
            f"  admin account: {settings.admin_name} / password: {settings.admin_password}"
            " (log in with the sha512 hex of the password)"
        )
        print(f"  local agent:   http://127.0.0.1:{AGENT_PORT}  token: {token}")
        print(f"  data dir:      {data_dir}")
        if demo:
            _demo(base, settings, data_dir=data_dir, token=token)
        print("Press Ctrl-C to stop.")
        while not stopping:
            for name, child in children.items():
                if child.poll() is not None:
                    print(f"volplane: {name} exited with {child.returncode}; stopping")
                    stopping = True
            time.sleep(0.3)
    except RuntimeError as exc:
        print(f"volplane: {exc}", file=sys.stderr)
    finally:
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children.values():
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        print("volplane stopped")
    return 0
