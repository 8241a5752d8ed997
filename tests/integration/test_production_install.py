"""A production install — ``pip install <repo>`` in a fresh venv, no extras, as the
Dockerfile does — runs ``volplane gateway``, ``worker``, ``beat`` and ``agent`` against
PostgreSQL and Redis and completes real jobs.

The test extras bring many packages along (``packaging`` among them, which Celery's
Redis transport needs); the rest of the suite runs with them, so only this install
shows what production lacks. To stay fast it installs offline from a wheelhouse of
the declared runtime dependencies, built once per set of dependencies and kept in
the user's cache directory; the repo itself is built and installed each time.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agents import running_agent
from tests.conftest import FAST_SETTINGS
from tests.infra import infrastructure
from tests.services import postgres_database, redis_server
from tests.stack import ROOT, Stack, new_name

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
RUNTIME = PYPROJECT["project"]["dependencies"]
BUILD = PYPROJECT["build-system"]["requires"]
TEST_ONLY = {"pytest", "hypothesis", "schemathesis", "selenium", "mypy", "ruff"}


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "volplane-tests"


def wheelhouse() -> Path:
    """Wheels of every runtime and build dependency, for an offline install."""
    key = hashlib.sha256(json.dumps([sys.version, RUNTIME, BUILD]).encode()).hexdigest()[:16]
    house = cache_dir() / f"wheels-{key}"
    if not house.is_dir():
        building = house.with_name(f"{house.name}.{os.getpid()}")
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "-q", "--wheel-dir", building, *RUNTIME, *BUILD],
            check=True,
        )
        building.rename(house)
    return house


def source_copy(target: Path) -> Path:
    """The repo's files (tracked and new, not ignored): a build never writes into it."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for name in filter(None, listed):
        source = ROOT / name.decode()
        if source.is_file():
            (target / name.decode()).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name.decode())
    return target


def pip(venv: Path, *args: str | Path) -> list[str | Path]:
    """This pip, acting on ``venv`` (made without a pip of its own: faster)."""
    return [sys.executable, "-m", "pip", "--python", venv / "bin" / "python", *args]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding ``pip install <repo>``."""
    work = tmp_path_factory.mktemp("install")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    install = pip(venv, "install", "-q", "--no-index")
    subprocess.run([*install, "--find-links", wheelhouse(), source_copy(work / "src")], check=True)
    return venv


def test_the_install_holds_no_test_extras(installed: Path) -> None:
    listed = subprocess.run(
        pip(installed, "list", "--format", "json"), check=True, capture_output=True, text=True
    ).stdout
    names = {entry["name"].lower() for entry in json.loads(listed)}
    assert "volplane" in names
    assert not names & TEST_ONLY


@pytest.fixture(scope="module")
def installed_stack(installed: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("installed-stack")
    with postgres_database() as database, redis_server(workdir / "redis") as redis:
        env = {
            **FAST_SETTINGS,
            "VOLPLANE_DATA_DIR": str(workdir / "data"),
            "VOLPLANE_DATABASE_URL": database,
            "VOLPLANE_BROKER_URL": redis.url,
            "PYTHONPATH": "",  # nothing of this checkout: only what was installed
        }
        stack = Stack(
            name="installed",
            env=env,
            workdir=workdir,
            command=(str(installed / "bin" / "volplane"),),
            cwd=workdir,
        )
        try:
            stack.start(workers=1, beat=True)
        except Exception:
            print(stack.logs())
            stack.stop()
            raise
        try:
            yield stack
        finally:
            stack.stop()


def test_gateway_worker_beat_and_agent_complete_jobs(
    installed: Path, installed_stack: Stack, tmp_path: Path
) -> None:
    # Given the installed gateway, worker and beat, and an installed agent as the host
    admin = installed_stack.login()
    with running_agent(
        tmp_path / "agent", command=[str(installed / "bin" / "volplane"), "agent"]
    ) as agent:
        # When the infrastructure and a volume are made through the API
        infra = infrastructure(admin, agent, tmp_path)
        done = admin.call(
            "POST",
            "/v1/volumes/data",
            json={
                "params": {
                    "name": new_name(),
                    "diskSize": 16 << 20,
                    "primaryStorageUuid": infra.pool["uuid"],
                }
            },
        )

        # Then every job completed and the image is on the agent's disk
        assert done.status_code == 200, f"{done.text}\n{installed_stack.logs()}"
        volume = done.json()["inventory"]
        assert volume["status"] == "Ready"
        assert Path(volume["installPath"]).is_file()
        assert infra.host["status"] == "Connected"
