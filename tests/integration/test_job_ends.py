"""Job ends announced by PostgreSQL (migration 0006) and heard by the gateway."""

from __future__ import annotations

import asyncio
import concurrent.futures
import time

import psycopg
import pytest

from tests.integration.test_job_contract import sleep_job, wait_for_state
from tests.stack import Stack, wait_until
from volplane.store.pg_admission import libpq_url
from volplane.store.pg_job_ends import APPLICATION, JOB_ENDED_CHANNEL, JobEndListener

pytestmark = pytest.mark.integration


def _dsn(stack: Stack) -> str:
    return libpq_url(stack.env["VOLPLANE_DATABASE_URL"])


def _listener_pids(stack: Stack) -> set[int]:
    with psycopg.connect(_dsn(stack), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s AND datname = "
            "current_database()",
            (APPLICATION,),
        ).fetchall()
    return {row[0] for row in rows}


def test_only_the_end_of_a_job_is_announced(production_stack: Stack) -> None:
    admin = production_stack.login()
    with psycopg.connect(_dsn(production_stack), autocommit=True) as conn:
        conn.execute(f"LISTEN {JOB_ENDED_CHANNEL}")
        ran = sleep_job(admin, 0.3).json()["location"]
        wait_for_state(admin, ran, "Running")  # Pending → Running is not an end
        assert admin.wait(ran).status_code == 200
        blocker = sleep_job(admin, 5, syncOn="job-ends-test").json()["location"]
        queued = sleep_job(admin, 0.1, syncOn="job-ends-test").json()["location"]
        cancel = admin.request(
            "PUT", f"/v1/api-jobs/{queued.rsplit('/', 1)[1]}/actions", json={"cancelApiJob": {}}
        )
        assert cancel.status_code in (200, 202), cancel.text
        admin.request(
            "PUT", f"/v1/api-jobs/{blocker.rsplit('/', 1)[1]}/actions", json={"cancelApiJob": {}}
        )
        assert admin.wait(blocker).json()["error"]["code"]
        heard = [n.payload for n in conn.notifies(timeout=2, stop_after=3)]
    uuids = [location.rsplit("/", 1)[1] for location in (ran, queued, blocker)]
    assert sorted(heard) == sorted(uuids)  # each once, Running never


async def test_listener_wakes_only_the_watchers_of_that_job(production_stack: Stack) -> None:
    listener = JobEndListener(production_stack.env["VOLPLANE_DATABASE_URL"])
    try:
        with listener.watch("job-a") as a, listener.watch("job-b") as b:
            while not listener.listening:
                await asyncio.sleep(0.01)
            async with await psycopg.AsyncConnection.connect(
                _dsn(production_stack), autocommit=True
            ) as conn:
                await conn.execute("SELECT pg_notify(%s, 'job-a')", (JOB_ENDED_CHANNEL,))
            await asyncio.wait_for(a.wait(), 10)
            assert not b.is_set()
    finally:
        await listener.close()
    assert not listener.listening


def test_long_poll_outlives_the_loss_of_the_listener(production_stack: Stack) -> None:
    admin = production_stack.login()
    location = sleep_job(admin, 3).json()["location"]
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        answer = pool.submit(
            admin.http.get, location + "?waitSeconds=30", headers=admin.headers, timeout=40
        )
        before = wait_until(lambda: _listener_pids(production_stack))
        with psycopg.connect(_dsn(production_stack), autocommit=True) as conn:
            for pid in before:
                conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
        assert answer.result(timeout=40).status_code == 200  # the job's end, not a 202
    # The gateway listens again, on a new connection.
    after = wait_until(lambda: _listener_pids(production_stack) - before, timeout=10)
    assert after and not after & before
    # And long-polls are woken by it again.
    started = time.monotonic()
    assert admin.wait(sleep_job(admin, 0.2).json()["location"]).status_code == 200
    assert time.monotonic() - started < 25
