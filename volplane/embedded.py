"""``volplane up``: gateway, worker (with the sweeper) and a local agent, supervised.

Each part runs as its own process, exactly as in production, so embedded mode
exercises the same code paths; only the database and broker are SQLite files.

It refuses to start (exit 2, saying what to do) when something it needs is missing
or taken: ``qemu-img``, the gateway's port, an ``--agent-port`` in use. Without
``--agent-port`` the agent keeps the port it had in this data directory, else 7070,
else any free port. Once up, if any part exits, the rest is stopped and ``up`` exits
1 naming the part.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from volplane.settings import Settings

AGENT_PORT = 7070
AGENT_IP = "127.0.0.1"
INSTALL_QEMU_IMG = "sudo apt-get install -y qemu-utils"


class StartupRefused(Exception):
    """``up`` cannot start as asked; the message says what to do (exit status 2)."""


class PartExited(Exception):
    """A part of the stack stopped while ``up`` ran (exit status 1)."""


def _agent_token(data_dir: Path) -> str:
    path = data_dir / "agent.token"
    if not path.exists():
        path.write_text(secrets.token_hex(24))
        path.chmod(0o600)
    return path.read_text().strip()


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could listen on ``host:port`` now (as uvicorn does, SO_REUSEADDR)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def any_free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def pick_agent_port(
    requested: int | None,
    saved: int | None,
    is_free: Callable[[int], bool],
    any_free: Callable[[], int],
) -> int:
    """The asked port (refused if taken), else the data dir's last one, else 7070, else any."""
    if requested is not None:
        if not is_free(requested):
            raise StartupRefused(
                f"agent port {requested} is taken (another volplane up?); "
                "choose another with --agent-port, or leave it out to take a free one"
            )
        return requested
    for candidate in (saved, AGENT_PORT):
        if candidate is not None and is_free(candidate):
            return candidate
    return any_free()


def _saved_agent_port(data_dir: Path) -> int | None:
    try:
        return int((data_dir / "agent.port").read_text().strip())
    except (OSError, ValueError):
        return None


def check_prerequisites(*, port: int) -> None:
    if shutil.which("qemu-img") is None:
        raise StartupRefused(
            "qemu-img is not installed; the local agent needs it for every volume. "
            f"Install it with:\n    {INSTALL_QEMU_IMG}\n(`make up` run as root installs it)"
        )
    if not port_free(port):
        raise StartupRefused(
            f"port {port} is taken (another volplane up?); choose another with --port"
        )


class Parts:
    """The child processes; ``check`` raises ``PartExited`` once any of them stopped."""

    def __init__(self, commands: dict[str, list[str]], env: dict[str, str]) -> None:
        self.children = {name: subprocess.Popen(cmd, env=env) for name, cmd in commands.items()}

    def check(self) -> None:
        for name, child in self.children.items():
            code = child.poll()
            if code is not None:
                raise PartExited(
                    f"the {name} exited with status {code} (its output is above); stopped the rest"
                )

    def stop(self) -> None:
        for child in self.children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in self.children.values():
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def wait_healthy(url: str, parts: Parts, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        parts.check()
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise PartExited(f"{url} did not answer within {timeout:.0f}s; stopped the rest")


def run_embedded(*, port: int, data_dir: Path, demo: bool, agent_port: int | None = None) -> int:
    try:
        return _run(port=port, data_dir=data_dir, demo=demo, agent_port=agent_port)
    except StartupRefused as exc:
        print(f"volplane up: {exc}", file=sys.stderr)
        return 2


def _run(*, port: int, data_dir: Path, demo: bool, agent_port: int | None) -> int:
    check_prerequisites(port=port)
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    chosen = pick_agent_port(agent_port, _saved_agent_port(data_dir), port_free, any_free_port)
    (data_dir / "agent.port").write_text(str(chosen))
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
    agent_dir = str(data_dir / "agent")
    commands = {
        "gateway": [*exe, "gateway", "--port", str(port)],
        "worker": [*exe, "worker", "--beat", "--concurrency", "2", "--quiet"],
        "agent": [
            *exe,
            "agent",
            "--listen",
            f"{AGENT_IP}:{chosen}",
            "--data-dir",
            agent_dir,
            "--quiet",
        ],
    }
    parts = Parts(commands, {**env, "VOLPLANE_AGENT_TOKEN": token})
    base = f"http://127.0.0.1:{port}"
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    status = 0
    try:
        wait_healthy(f"{base}/v1/zones", parts)
        wait_healthy(f"http://{AGENT_IP}:{chosen}/v1/health", parts)
        print(f"volplane is up at {base}", flush=True)
        print(
            f"  admin account: {settings.admin_name} / password: {settings.admin_password}"
            " (log in with the sha512 hex of the password)"
        )
        print(f"  local agent:   http://{AGENT_IP}:{chosen}  token: {token}")
        print(f"  data dir:      {data_dir}", flush=True)
        if demo:
            _demo(base, settings, data_dir=data_dir, agent_port=chosen, token=token)
        print("Press Ctrl-C to stop.", flush=True)
        while not stopping:
            parts.check()
            time.sleep(0.3)
    except PartExited as exc:
        print(f"volplane up: {exc}", file=sys.stderr, flush=True)
        status = 1
    except RuntimeError as exc:  # the demo's calls
        print(f"volplane up: {exc}; stopped", file=sys.stderr, flush=True)
        status = 1
    finally:
        parts.stop()
        print("volplane stopped", flush=True)
    return status


def _demo(base: str, settings: Settings, *, data_dir: Path, agent_port: int, token: str) -> None:
    from volplane.demo import DemoApi, ensure_demo

    api = DemoApi.login(base, settings.admin_name, settings.admin_password)
    for line in ensure_demo(
        api, data_dir=data_dir, agent_ip=AGENT_IP, agent_port=agent_port, agent_token=token
    ):
        print(f"demo: {line}", flush=True)
