"""A live volplane stack for tests: real gateway, Celery workers and beat processes.

``Stack`` runs each part as a subprocess exactly as ``volplane gateway|worker|beat``
does in production, against a real database and broker, so tests exercise the
same code paths users run.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from volplane.passwords import sha512_hex

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Any, timeout: float = 30.0, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


@dataclass
class Stack:
    """Processes of one volplane deployment; ``env`` is its configuration."""

    name: str
    env: dict[str, str]
    workdir: Path
    port: int = field(default_factory=free_port)
    # How ``volplane`` is run, and where: this checkout by default; a production
    # install's ``bin/volplane`` in tests of that install.
    command: tuple[str, ...] = (sys.executable, "-m", "volplane.cli")
    cwd: Path = ROOT
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    commands: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        self.commands[name] = args
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - lives with the process
        proc = subprocess.Popen(
            [*self.command, *args],
            env={**os.environ, **self.env},
            cwd=self.cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill -9 takes its children too
        )
        self.processes[name] = proc
        return proc

    def migrate(self) -> None:
        subprocess.run(
            [*self.command, "migrate"],
            env={**os.environ, **self.env},
            cwd=self.cwd,
            check=True,
            capture_output=True,
        )

    def start(self, *, workers: int = 1, beat: bool = True) -> Stack:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.migrate()
        self._spawn("gateway", "gateway", "--port", str(self.port))
        for index in range(workers):
            self.start_worker(f"worker{index}")
        if beat:
            self._spawn("beat", "beat")
        wait_until(self._gateway_up, timeout=30)
        return self

    def start_worker(self, name: str = "worker0", concurrency: int = 2) -> None:
        self._spawn(name, "worker", "--concurrency", str(concurrency))

    def start_gateway(self, name: str, port: int) -> None:
        """Another gateway of the same deployment, on ``port``."""
        self._spawn(name, "gateway", "--port", str(port))

    def restart(self, name: str) -> None:
        """Starts ``name`` again as it was started (after ``kill``)."""
        self._spawn(name, *self.commands[name])

    def signal(self, name: str, sig: signal.Signals) -> None:
        """Sends ``sig`` to the process and every process it started."""
        os.killpg(self.processes[name].pid, sig)

    def kill(self, name: str) -> None:
        """kill -9 the process and every process it started."""
        proc = self.processes.pop(name)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def stop(self) -> None:
        for proc in self.processes.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for name, proc in list(self.processes.items()):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
            self.processes.pop(name)

    def _gateway_up(self) -> bool:
        try:
            return httpx.get(f"{self.url}/v1/zones", timeout=1).status_code == 401
        except httpx.HTTPError:
            return False

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}"
            for path in sorted(self.workdir.glob("*.log"))
        )

    # --- API helpers -------------------------------------------------------

    def login(self, name: str = "admin", password: str = "password") -> Client:
        response = httpx.put(
            f"{self.url}/v1/accounts/login",
            json={"logInByAccount": {"accountName": name, "password": sha512_hex(password)}},
        )
        assert response.status_code == 200, response.text
        return Client(self, response.json()["inventory"]["uuid"])


@dataclass
class Client:
    """An httpx client logged in to a stack, with job-polling helpers.

    Requests share one connection pool, as an SDK's would: a new ``httpx.Client`` per
    request costs ~20 ms (its TLS context), more than most calls it would time.
    """

    stack: Stack
    session: str
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=70), repr=False)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"OAuth {self.session}"}

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.http.request(method, f"{self.stack.url}{path}", headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def wait(self, location: str, timeout: float = 60) -> httpx.Response:
        """Long-polls a job location until it ends."""
        deadline = time.monotonic() + timeout
        while True:
            response = self.http.get(location + "?waitSeconds=10", headers=self.headers, timeout=30)
            if response.status_code != 202 or time.monotonic() > deadline:
                return response

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Submits an async call and waits for its result."""
        accepted = self.request(method, path, **kwargs)
        assert accepted.status_code == 202, accepted.text
        return self.wait(accepted.json()["location"])

    def create_zone(self, name: str | None = None) -> dict[str, Any]:
        done = self.call("POST", "/v1/zones", json={"params": {"name": name or new_name()}})
        assert done.status_code == 200, done.text
        return dict(done.json()["inventory"])

    def create_account(self, name: str, password: str = "secret") -> dict[str, Any]:
        done = self.call(
            "POST",
            "/v1/accounts",
            json={"params": {"name": name, "password": sha512_hex(password)}},
        )
        assert done.status_code == 200, done.text
        return dict(done.json()["inventory"])


def new_name(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def job_uuid() -> str:
    return uuid.uuid4().hex
