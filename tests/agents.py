"""Real host agents for tests: each a ``python -m drivers.agent`` subprocess.

    with running_agent(tmp_path) as agent:
        with agent.client() as client:
            client.health()
        agent.kill()      # SIGKILL, as a crashed host
        agent.start()     # same port, same data dir

Several agents (different ``tmp_path`` subdirectories) stand in for several hosts.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx

from drivers.client import AgentClient

REPO_ROOT = Path(__file__).resolve().parent.parent


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class AgentProcess:
    """One agent subprocess; ``start``/``stop``/``kill`` may be repeated, same port and dir."""

    def __init__(
        self,
        base_dir: Path,
        *,
        token: str | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        startup_timeout: float = 15.0,
        extra_args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
        command: list[str] | None = None,
    ) -> None:
        """``command`` runs the agent (``[".../bin/volplane", "agent"]``); by default
        ``python -m drivers.agent`` of this checkout."""
        self.base_dir = base_dir
        self.data_dir = base_dir / "agent-data"
        self.log_path = base_dir / "agent.log"
        self.token = token or secrets.token_hex(16)
        self.host = host
        self.port = port or free_port(host)
        self.startup_timeout = startup_timeout
        self.extra_args = extra_args
        self.env = dict(env or {})  # extra environment, e.g. a PATH without qemu-img
        self.command = command
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._paused = False

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def client(self, *, token: str | None = None, poll_seconds: float = 10.0) -> AgentClient:
        return AgentClient(self.url, token or self.token, poll_seconds=poll_seconds)

    def start(self) -> None:
        """Starts the agent and returns once it answers ``/v1/health``."""
        if self.running:
            raise RuntimeError("agent already running")
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])
            ),
        }
        command = [sys.executable, "-m", "drivers.agent"]
        if self.command is not None:  # an installed volplane: nothing of this checkout
            env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
            command = self.command
        self._proc = subprocess.Popen(
            [
                *command,
                "--listen",
                f"{self.host}:{self.port}",
                "--data-dir",
                str(self.data_dir),
                *self.extra_args,
            ],
            # The token goes through the environment so it never shows in `ps`.
            env={**env, **self.env, "VOLPLANE_AGENT_TOKEN": self.token},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT if self.command is None else self.base_dir,
        )
        self._wait_healthy()

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        headers = {"Authorization": f"Bearer {self.token}"}
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                raise RuntimeError(f"agent exited {self._proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/v1/health", headers=headers, timeout=1).is_success:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"agent not healthy within {self.startup_timeout}s:\n{self.log()}")

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM: the agent cancels running operations and exits cleanly."""
        self._end(signal.SIGTERM, timeout)

    def kill(self) -> None:
        """SIGKILL: the agent dies as if its host crashed."""
        self._end(signal.SIGKILL, 10.0)

    def pause(self) -> None:
        """SIGSTOP: the agent hangs (requests wait in its socket's queue)."""
        assert self._proc is not None
        self._proc.send_signal(signal.SIGSTOP)
        self._paused = True

    def resume(self) -> None:
        assert self._proc is not None
        self._proc.send_signal(signal.SIGCONT)
        self._paused = False

    def resume_if_paused(self) -> None:
        if self._paused and self.running:
            self.resume()

    def restart(self) -> None:
        self.stop()
        self.start()

    def _end(self, sig: signal.Signals, timeout: float) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.send_signal(sig)
                try:
                    self._proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait()
            self._proc = None
            self._paused = False
        if self._log is not None:
            self._log.close()
            self._log = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@contextmanager
def running_agent(
    base_dir: Path,
    *,
    token: str | None = None,
    port: int | None = None,
    env: dict[str, str] | None = None,
    command: list[str] | None = None,
) -> Iterator[AgentProcess]:
    """A started agent, stopped (or killed, if it hangs) on exit."""
    agent = AgentProcess(base_dir, token=token, port=port, env=env, command=command)
    agent.start()
    try:
        yield agent
    finally:
        agent.stop()
