"""Fixtures the storage tests share: one agent (host) per module, a second one for
cross-host work, the infrastructure on the first, and a pool on the second."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.agents import AgentProcess, running_agent
from tests.infra import Infra, add_host, add_local_pool, infrastructure
from tests.netstore import NfsServer, SmbServer
from tests.netstore import nfs_server as nfs_server_running
from tests.netstore import smb_server as smb_server_running
from tests.stack import Client, Stack


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgentProcess]:
    with running_agent(tmp_path_factory.mktemp("agent")) as started:
        yield started


@pytest.fixture(scope="module")
def agents(
    agent: AgentProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[AgentProcess, AgentProcess]]:
    """The module's agent and a second one: two hosts."""
    with running_agent(tmp_path_factory.mktemp("agent-2")) as second:
        yield agent, second


@pytest.fixture(scope="module")
def infra(
    production_stack: Stack, agent: AgentProcess, tmp_path_factory: pytest.TempPathFactory
) -> Infra:
    return infrastructure(production_stack.login(), agent, tmp_path_factory.mktemp("infra"))


@pytest.fixture(scope="module")
def remote_pool(
    production_stack: Stack,
    agents: tuple[AgentProcess, AgentProcess],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Any]:
    """A pool on the second host, in a zone and cluster of its own."""
    admin = production_stack.login()
    host = add_host(admin, agents[1])
    return add_local_pool(admin, host, tmp_path_factory.mktemp("remote") / "pool")


@pytest.fixture
def admin(production_stack: Stack) -> Client:
    return production_stack.login()


@pytest.fixture(scope="session")
def nfs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NfsServer]:
    """One nfs-ganesha server (and its rpcbind) in a namespace of its own, per session."""
    with nfs_server_running(tmp_path_factory.mktemp("nfs")) as server:
        yield server


@pytest.fixture(scope="session")
def smb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmbServer]:
    """One smbd in a namespace of its own, per session."""
    with smb_server_running(tmp_path_factory.mktemp("smb")) as server:
        yield server
