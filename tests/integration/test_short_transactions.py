"""Agent steps run with no database transaction open (workers/transactions.py): while
full clones wait on an agent held with SIGSTOP, no volplane connection is idle in a
transaction, and twenty clones at once need no more than a pool of two connections."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from sqlalchemy import create_engine

from drivers.client import AgentClient
from tests.agents import running_agent
from tests.infra import infrastructure
from tests.services import PG_ADMIN_DSN
from tests.stack import Stack, job_uuid, new_name, wait_until
from tests.storage import MiB, snapshot, volume
from volplane.broker import make_broker
from volplane.settings import Settings
from workers.runner import run_job
from workers.runtime import WorkerRuntime

pytestmark = pytest.mark.integration

CLONES = 20
POOL_SIZE = 2


def idle_in_transaction(database: str) -> list[str]:
    """The queries of the database's connections that sit idle inside a transaction."""
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT query FROM pg_stat_activity"
            " WHERE datname = %s AND state LIKE 'idle in transaction%%'",
            (database,),
        ).fetchall()
    return [row[0] for row in rows]


def in_process_runtime(stack: Stack) -> WorkerRuntime:
    """The job runner's runtime, in this process, with a pool of ``POOL_SIZE`` connections
    and no overflow: a job that kept its connection across an agent call starves others."""
    settings = Settings(
        database_url=stack.env["VOLPLANE_DATABASE_URL"],
        broker_url=stack.env["VOLPLANE_BROKER_URL"],
        data_dir=Path(stack.env["VOLPLANE_DATA_DIR"]),
    )
    runtime = WorkerRuntime(settings, make_broker(settings))
    runtime.__dict__["engine"] = create_engine(
        settings.resolved_database_url(), pool_size=POOL_SIZE, max_overflow=0, pool_timeout=120
    )
    # The agent is held for as long as the twenty jobs take to reach it on a busy machine:
    # their calls wait for it instead of timing out.
    clients: dict[tuple[str, str], AgentClient] = {}

    def agent_client(url: str, token: str) -> AgentClient:
        if (url, token) not in clients:
            clients[url, token] = AgentClient(url, token, read_timeout=300)
        return clients[url, token]

    runtime.__dict__["agent_client"] = agent_client
    return runtime


def test_full_clones_waiting_on_an_agent_hold_no_transaction(
    make_stack: Callable[..., Stack], tmp_path_factory: pytest.TempPathFactory
) -> None:
    stack = make_stack("production", workers=1)
    database = urlsplit(stack.env["VOLPLANE_DATABASE_URL"]).path.lstrip("/")
    admin = stack.login()
    with running_agent(tmp_path_factory.mktemp("agent")) as agent:
        infra = infrastructure(admin, agent, tmp_path_factory.mktemp("infra"))
        # Given twenty snapshots of twenty volumes (clones of one volume would run in turn)
        sources = [
            snapshot(admin, volume(admin, infra.pool["uuid"], 8 * MiB)["uuid"])
            for _ in range(CLONES)
        ]
        stack.kill("worker0")  # from here the jobs run in this process, with a small pool
        runtime = in_process_runtime(stack)
        new_uuids = [job_uuid() for _ in sources]
        jobs = [
            admin.request(
                "POST",
                f"/v1/volumes/data/from/volume-snapshots/{source['uuid']}",
                json={"params": {"name": new_name(), "linked": False, "resourceUuid": uuid}},
            ).headers["X-Job-UUID"]
            for source, uuid in zip(sources, new_uuids, strict=True)
        ]
        outcomes: dict[str, str] = {}

        def run(job: str) -> None:
            outcomes[job] = run_job(runtime, job)

        # When every clone runs at once against an agent that does not answer
        agent.pause()
        try:
            threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
            for thread in threads:
                thread.start()
            wait_until(
                lambda: all(admin.get(f"/v1/volumes/{u}").status_code == 200 for u in new_uuids),
                timeout=240,
            )
            # Then each waits on the agent with no transaction and no connection held
            wait_until(lambda: not idle_in_transaction(database), timeout=60)
            wait_until(lambda: runtime.engine.pool.checkedout() == 0, timeout=60)  # type: ignore[attr-defined]
        finally:
            agent.resume()
        for thread in threads:
            thread.join(timeout=300)

    assert outcomes == dict.fromkeys(jobs, "succeeded")
    for uuid in new_uuids:
        assert admin.get(f"/v1/volumes/{uuid}").json()["inventories"][0]["status"] == "Ready"
    runtime.engine.dispose()
