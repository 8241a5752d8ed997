"""The production topology of a chaos run, all on this machine: a PostgreSQL server and
a Redis of its own, two gateways, two workers, beat, and two agents (hosts), with a pool
on each host (the first on a small loop-mounted filesystem) and backup storage."""

from __future__ import annotations

import os
import signal
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.agents import AgentProcess
from tests.chaos.private import LoopFilesystem, PrivatePostgres
from tests.conftest import FAST_SETTINGS
from tests.infra import add_backup_storage, add_host, add_local_pool, create_cluster
from tests.services import RedisServer
from tests.stack import Client, Stack, free_port, wait_until

MiB = 1 << 20
SWEEP_SECONDS = 5.0
EXPORT_GRACE_SECONDS = 15.0


@dataclass
class Topology:
    base: Path
    postgres: PrivatePostgres
    redis: RedisServer
    stack: Stack
    gateway_urls: list[str]
    agents: list[AgentProcess]
    loop_fs: LoopFilesystem
    admin: Client
    zone: dict[str, Any]
    pools: list[dict[str, Any]]
    backup_storage: dict[str, Any]

    def ensure_running(self) -> None:
        """After the faults: every process up and continued."""
        for agent in self.agents:
            agent.resume_if_paused()
            if not agent.running:
                agent.start()
        if self.redis.process is None or self.redis.process.poll() is not None:
            self.redis.start()
        if self.postgres.process is None or self.postgres.process.poll() is not None:
            self.postgres.start()
        for name in self.stack.commands:
            proc = self.stack.processes.get(name)
            if proc is None or proc.poll() is not None:
                self.stack.processes.pop(name, None)
                self.stack.restart(name)


@contextmanager
def topology(*, workers: int = 2, pool_size: int = 384 * MiB) -> Iterator[Topology]:
    with ExitStack() as resources:
        base = Path(tempfile.mkdtemp(prefix="volplane-chaos-"))
        base.chmod(0o755)  # the PostgreSQL server runs as its own user below it
        resources.callback(lambda: _remove(base))
        postgres = PrivatePostgres(base / "postgres")
        postgres.init()
        resources.callback(postgres.stop)
        redis = RedisServer(port=free_port(), workdir=base / "redis")
        redis.start()
        resources.callback(lambda: _stop_redis(redis))
        loop_fs = LoopFilesystem(base / "pool-a.img", base / "pool-a", pool_size)
        loop_fs.mount()
        resources.callback(loop_fs.unmount)
        env = {
            **FAST_SETTINGS,
            "VOLPLANE_DATA_DIR": str(base / "data"),
            "VOLPLANE_DATABASE_URL": postgres.url,
            "VOLPLANE_BROKER_URL": redis.url,
            "VOLPLANE_LOG_JSON": "false",
        }
        stack = Stack(name="chaos", env=env, workdir=base / "stack")
        resources.callback(lambda: _stop_stack(stack))
        stack.start(workers=workers, beat=True)
        second = free_port()
        stack.start_gateway("gateway2", second)
        wait_until(lambda: _answers(f"http://127.0.0.1:{second}"), timeout=30)
        agents = []
        for index in range(2):
            agent = AgentProcess(
                base / f"host{index}",
                extra_args=(
                    "--sweep-seconds",
                    str(SWEEP_SECONDS),
                    "--export-grace-seconds",
                    str(EXPORT_GRACE_SECONDS),
                ),
            )
            agent.start()
            resources.callback(agent.kill)
            resources.callback(agent.resume_if_paused)
            agents.append(agent)
        admin = stack.login()
        zone = admin.create_zone()
        cluster = create_cluster(admin, zone["uuid"])
        hosts = [add_host(admin, agent, cluster_uuid=cluster["uuid"]) for agent in agents]
        pools = [
            add_local_pool(admin, hosts[0], loop_fs.mount_point / "pool"),
            add_local_pool(admin, hosts[1], base / "pool-b"),
        ]
        storage = add_backup_storage(admin, hosts[1], base / "backup-storage")
        yield Topology(
            base=base,
            postgres=postgres,
            redis=redis,
            stack=stack,
            gateway_urls=[stack.url, f"http://127.0.0.1:{second}"],
            agents=agents,
            loop_fs=loop_fs,
            admin=admin,
            zone=zone,
            pools=pools,
            backup_storage=storage,
        )


def _answers(url: str) -> bool:
    import httpx

    try:
        return httpx.get(f"{url}/v1/zones", timeout=1).status_code == 401
    except httpx.HTTPError:
        return False


def _stop_stack(stack: Stack) -> None:
    for proc in stack.processes.values():
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGCONT)
    stack.stop()


def _stop_redis(redis: RedisServer) -> None:
    if redis.process is not None:
        redis.process.kill()
        redis.process.wait()
        redis.process = None


def _remove(base: Path) -> None:
    import shutil

    shutil.rmtree(base, ignore_errors=True)
