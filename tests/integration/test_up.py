"""``volplane up`` on one machine: refuses what it cannot do and says what to run, takes
a free agent port, lets two run side by side, completes a half-made demo, and exits 1
naming the part that died."""

from __future__ import annotations

import os
import signal
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.stack import free_port
from tests.up import Up
from volplane.embedded import AGENT_PORT
from volplane.passwords import sha512_hex

NOISE = (
    "SecurityWarning",
    "superuser privileges",
    "-------------- celery@",
    "[config]",
    "Uvicorn running",
    "GET /v1/health",
)


@pytest.fixture
def agent_port_7070_taken() -> Iterator[None]:
    """7070 is held during the test (by us, or already by someone else)."""
    sock = socket.socket()
    try:
        sock.bind(("127.0.0.1", AGENT_PORT))
        sock.listen()
    except OSError:
        pass  # taken already: just as good
    try:
        yield
    finally:
        sock.close()


def login(url: str) -> dict[str, str]:
    answer = httpx.put(
        f"{url}/v1/accounts/login",
        json={"logInByAccount": {"accountName": "admin", "password": sha512_hex("password")}},
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"OAuth {answer.json()['inventory']['uuid']}"}


def call(url: str, headers: dict[str, str], method: str, path: str, params: object) -> dict:
    job = httpx.request(method, f"{url}{path}", json={"params": params}, headers=headers)
    assert job.status_code == 202, job.text
    done = httpx.get(job.json()["location"] + "?waitSeconds=60", headers=headers, timeout=70)
    assert done.status_code == 200, done.text
    return dict(done.json()["inventory"])


def test_taken_ports_are_refused_with_what_to_do(tmp_path: Path) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        up = Up(tmp_path / "a", port=port)
        assert up.wait() == 2
        assert f"port {port} is taken" in up.output and "--port" in up.output
        up = Up(tmp_path / "b", "--agent-port", str(port))
        assert up.wait() == 2
        assert f"agent port {port} is taken" in up.output and "--agent-port" in up.output


def test_without_qemu_img_up_refuses_and_prints_the_install_command(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    up = Up(tmp_path / "var", PATH=str(empty))
    assert up.wait() == 2
    assert "qemu-img is not installed" in up.output
    assert "sudo apt-get install -y qemu-utils" in up.output
    assert "volplane is up" not in up.output


def test_two_demos_side_by_side_each_with_its_own_agent(
    tmp_path: Path, agent_port_7070_taken: None
) -> None:
    first, second = Up(tmp_path / "one", "--demo"), Up(tmp_path / "two", "--demo")
    try:
        for up in (first, second):
            up.wait_for("Press Ctrl-C")
        ports = {first.agent_port(), second.agent_port()}
        assert len(ports) == 2 and AGENT_PORT not in ports
        for up in (first, second):
            assert f"made host local at 127.0.0.1:{up.agent_port()}" in up.output
            for noise in NOISE:
                assert noise not in up.output, up.output
            headers = login(up.url)
            hosts = httpx.get(f"{up.url}/v1/hosts", headers=headers).json()["inventories"]
            assert [(h["agentPort"], h["status"]) for h in hosts] == [
                (up.agent_port(), "Connected")
            ]
            pool = httpx.get(f"{up.url}/v1/primary-storage?q=name=local-pool", headers=headers)
            volume = call(
                up.url,
                headers,
                "POST",
                "/v1/volumes/data",
                {
                    "name": "v1",
                    "diskSize": 1 << 20,
                    "primaryStorageUuid": pool.json()["inventories"][0]["uuid"],
                },
            )
            assert volume["status"] == "Ready"

        # A part that dies stops the rest; up exits 1 and names it.
        os.kill(second.children()["agent"], signal.SIGKILL)
        assert second.wait() == 1
        assert "the agent exited with status -9" in second.output
        assert first.stop() == 0
    finally:
        first.kill()
        second.kill()


def test_demo_makes_what_is_missing_and_says_what_it_found(tmp_path: Path) -> None:
    data = tmp_path / "var"
    up = Up(data)
    try:
        up.wait_for("Press Ctrl-C")
        headers = login(up.url)
        zone = call(up.url, headers, "POST", "/v1/zones", {"name": "zone-1"})  # README's zone
        assert up.stop() == 0

        up = Up(data, "--demo", port=free_port())
        up.wait_for("Press Ctrl-C")
        assert f"demo: found zone zone-1 ({zone['uuid']})" in up.output
        for made in ("cluster cluster-1", "host local", "primary storage local-pool"):
            assert f"demo: made {made}" in up.output, up.output
        assert "attached backup storage local-backup" in up.output
        assert up.stop() == 0

        up = Up(data, "--demo", port=free_port())
        up.wait_for("Press Ctrl-C")
        assert "demo: made" not in up.output and "attached" not in up.output, up.output
        assert up.output.count("demo: found") == 5
        assert up.stop() == 0
    finally:
        up.kill()


def test_up_help_lists_agent_port() -> None:
    import subprocess

    out = subprocess.run(
        [sys.executable, "-m", "volplane.cli", "up", "--help"], capture_output=True, text=True
    )
    assert "--agent-port" in out.stdout
