"""Shared fixtures: live stacks in production mode (PostgreSQL + Redis) and embedded
mode (SQLite database and broker), started once per test session."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.netns import NetHosts, network_hosts
from tests.services import postgres_database, redis_server
from tests.stack import Stack

FAST_SETTINGS = {
    "VOLPLANE_JOB_LEASE_SECONDS": "3",
    "VOLPLANE_SWEEP_INTERVAL_SECONDS": "1",
    "VOLPLANE_DISPATCH_GRACE_SECONDS": "2",
    "VOLPLANE_ENABLE_TEST_OPERATIONS": "true",
    "VOLPLANE_WEBHOOK_ALLOW_NETWORKS": '["127.0.0.0/8"]',
    "VOLPLANE_WEBHOOK_FIRST_RETRY_SECONDS": "0.2",
    "VOLPLANE_WEBHOOK_TIMEOUT_SECONDS": "2",
    "VOLPLANE_LOG_JSON": "true",
    "VOLPLANE_HEARTBEAT_INTERVAL_SECONDS": "1",
    "VOLPLANE_VOLUME_EXPUNGE_INTERVAL_SECONDS": "1",
    # The tests of volplane's own delete semantics expect the images gone at once;
    # ZStack's default (Delay) is tested by switching to it (test_zstack_wire.py).
    "VOLPLANE_VOLUME_DELETION_POLICY": "Direct",
    "VOLPLANE_HEARTBEAT_TIMEOUT_SECONDS": "2",
}

StackFactory = Callable[..., Stack]


@pytest.fixture(scope="session")
def make_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackFactory]:
    """Builds stacks; ``mode`` is "production" or "embedded". All are stopped at the end."""
    with ExitStack() as resources:

        def factory(mode: str, *, workers: int = 1, beat: bool = True, **env: str) -> Stack:
            workdir = Path(tmp_path_factory.mktemp(f"stack-{mode}"))
            settings = {**FAST_SETTINGS, "VOLPLANE_DATA_DIR": str(workdir / "data"), **env}
            if mode == "production":
                if "VOLPLANE_BROKER_URL" not in settings:
                    redis = resources.enter_context(redis_server(workdir / "redis"))
                    settings["VOLPLANE_BROKER_URL"] = redis.url
                settings["VOLPLANE_DATABASE_URL"] = resources.enter_context(postgres_database())
            stack = Stack(name=mode, env=settings, workdir=workdir)
            resources.callback(stack.stop)
            try:
                return stack.start(workers=workers, beat=beat)
            except Exception:
                print(stack.logs())
                raise

        yield factory


@pytest.fixture(scope="session")
def production_stack(make_stack: StackFactory) -> Stack:
    return make_stack("production", workers=1)


@pytest.fixture(scope="session")
def embedded_stack(make_stack: StackFactory) -> Stack:
    return make_stack("embedded")


@pytest.fixture(params=["production", "embedded"])
def stack(request: pytest.FixtureRequest) -> Stack:
    """Each test using this runs against both deployment modes."""
    return request.getfixturevalue(f"{request.param}_stack")  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def net_hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NetHosts]:
    """Three hosts on a real (namespaced) network, each with its own sshd."""
    with network_hosts(3, tmp_path_factory.mktemp("netns")) as net:
        yield net


@pytest.fixture(scope="session")
def ssh_stack(make_stack: StackFactory, net_hosts: NetHosts) -> Stack:
    """A production stack that adds ``net_hosts`` over SSH: their agents live in each
    host's private dir and run on this test's Python (which has the agent's libraries)."""
    return make_stack(
        "production",
        workers=1,
        VOLPLANE_HOST_AGENT_HOME=str(net_hosts.private_root / "agent"),
        VOLPLANE_HOST_PYTHON=sys.executable,
        VOLPLANE_SSH_TIMEOUT_SECONDS="3",
    )
