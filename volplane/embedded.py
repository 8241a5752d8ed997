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


def _demo(base: str, settings: Settings) -> None:
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
    job = httpx.post(f"{base}/v1/zones", json={"params": {"name": "zone-1"}}, headers=headers)
    httpx.get(job.json()["location"] + "?waitSeconds=30", headers=headers, timeout=40)
    print("demo: created zone zone-1")


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
        "agent": [*exe, "agent", "--listen", f"127.0.0.1:{AGENT_PORT}",
                  "--data-dir", str(data_dir / "agent"), "--token", token],
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
        print(f"  admin account: {settings.admin_name} / password: {settings.admin_password}"
              " (log in with the sha512 hex of the password)")
        print(f"  local agent:   http://127.0.0.1:{AGENT_PORT}  token: {token}")
        print(f"  data dir:      {data_dir}")
        if demo:
            _demo(base, settings)
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
