"""The job engine's invariants, in process and in seconds: the store on SQLite, the
runner called directly, and the broker replaced by a stub that only queues messages
(dramatiq's ``StubBroker`` is the model). The real store and runner run; nothing waits
a fixed time: every wait is for a state the store reports."""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

import schemas.backups
import schemas.infra
import schemas.storage  # noqa: F401 - every table in Base.metadata
from schemas.tables import Account, ApiJob, Base, new_uuid, utcnow
from volplane.errors import JobUUIDConflict
from volplane.jobs import JobState
from volplane.runtime import FAN_OUT, RUN_JOB
from volplane.settings import Settings
from volplane.store.jobs import NewJob, Submission
from workers.runner import run_job
from workers.runtime import WorkerRuntime


class StubBroker:
    """Stands in for Celery: what the runtime sends is queued here for the test's workers."""

    def __init__(self) -> None:
        self.messages: queue.Queue[tuple[str, list[Any]]] = queue.Queue()

    def send_task(self, name: str, args: list[Any] | None = None, **options: Any) -> None:
        self.messages.put((name, list(args or [])))


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[WorkerRuntime]:
    settings = Settings(data_dir=tmp_path, enable_test_operations=True, job_max_attempts=3)
    runtime = WorkerRuntime(settings, StubBroker())  # type: ignore[arg-type]
    Base.metadata.create_all(runtime.engine)
    runtime.accounts.ensure_admin("admin", "password", "whsec_AAAA")
    yield runtime
    runtime.engine.dispose()


def broker(runtime: WorkerRuntime) -> StubBroker:
    stub: StubBroker = runtime.celery  # type: ignore[assignment]
    return stub


def admin_uuid(runtime: WorkerRuntime) -> str:
    with runtime.sessions() as session:
        return session.query(Account.uuid).one()[0]  # type: ignore[no-any-return]


def sleep_job(
    runtime: WorkerRuntime,
    seconds: float,
    *,
    key: str = "k",
    uuid: str | None = None,
    digest: str = "d",
    from_client: bool = False,
) -> NewJob:
    """A ``DebugSleep`` job (cancel points every 50 ms) serialized on ``Debug:<key>``."""
    return NewJob(
        uuid=uuid or new_uuid(),
        account_uuid=admin_uuid(runtime),
        api_name="DebugSleep",
        request={"params": {"seconds": seconds}},
        request_digest=digest,
        resource_type="Debug",
        resource_uuid=key,
        sync_key=f"Debug:{key}",
        base_url="http://gateway",
        webhook_url=None,
        uuid_from_client=from_client,
    )


def state_of(runtime: WorkerRuntime, job_uuid: str) -> str:
    job = runtime.jobs.get(job_uuid)
    assert job is not None
    return job.state


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    done = threading.Event()

    def poll() -> None:
        while not done.wait(0.02):
            if condition():
                done.set()

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    assert done.wait(timeout), "the store never reported the awaited state"


def run_in_thread(runtime: WorkerRuntime, job_uuid: str) -> tuple[threading.Thread, list[str]]:
    outcome: list[str] = []
    thread = threading.Thread(target=lambda: outcome.append(run_job(runtime, job_uuid)))
    thread.start()
    return thread, outcome


def test_a_duplicate_run_message_while_the_job_runs_is_skipped(runtime: WorkerRuntime) -> None:
    job = runtime.jobs.submit(sleep_job(runtime, 60)).job_uuid
    thread, outcome = run_in_thread(runtime, job)
    wait_for(lambda: state_of(runtime, job) == JobState.RUNNING)

    assert run_job(runtime, job) == "skipped"

    runtime.jobs.cancel(job)  # the running one stops at its next cancel point
    thread.join(timeout=20)
    assert outcome == ["cancelled"] and state_of(runtime, job) == JobState.CANCELLED


def test_a_job_cancelled_before_it_runs_never_runs(runtime: WorkerRuntime) -> None:
    job = runtime.jobs.submit(sleep_job(runtime, 60)).job_uuid
    runtime.jobs.cancel(job)
    assert run_job(runtime, job) == "skipped"
    assert state_of(runtime, job) == JobState.CANCELLED


def test_an_expired_lease_lets_another_worker_take_the_job_and_a_live_one_does_not(
    runtime: WorkerRuntime,
) -> None:
    job = runtime.jobs.submit(sleep_job(runtime, 0)).job_uuid
    # A worker took the job and died holding a lease that is still valid...
    assert runtime.jobs.claim(job, "dead", lease_seconds=600, max_attempts=3) is not None
    assert run_job(runtime, job) == "skipped"
    # ...and once its lease has run out (a claim whose lease ended at once), the job is
    # taken again: the same job, another attempt.
    with runtime.sessions() as session:
        session.execute(update(ApiJob).where(ApiJob.uuid == job).values(lease_expires=utcnow()))
        session.commit()
    assert run_job(runtime, job) == "succeeded"
    ended = runtime.jobs.get(job)
    assert ended is not None and ended.attempts == 2 and ended.state == JobState.SUCCEEDED


def test_the_lost_workers_end_is_not_committed(runtime: WorkerRuntime) -> None:
    """A run whose lease was taken over commits nothing: its end is fenced by the lease."""
    job = runtime.jobs.submit(sleep_job(runtime, 60)).job_uuid
    thread, outcome = run_in_thread(runtime, job)
    wait_for(lambda: state_of(runtime, job) == JobState.RUNNING)
    with runtime.sessions() as session:
        session.execute(update(ApiJob).where(ApiJob.uuid == job).values(lease_token="thief"))
        session.commit()
    thread.join(timeout=20)
    assert outcome == ["lost"] and state_of(runtime, job) == JobState.RUNNING


def test_concurrent_identical_job_uuids_make_one_job(runtime: WorkerRuntime) -> None:
    uuid = new_uuid()
    callers = 8
    start = threading.Barrier(callers)
    outcomes: list[Submission | Exception] = []

    def submit() -> None:
        start.wait()
        try:
            outcomes.append(runtime.jobs.submit(sleep_job(runtime, 0, uuid=uuid, from_client=True)))
        except Exception as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert all(isinstance(o, Submission) and o.job_uuid == uuid for o in outcomes), outcomes
    assert sum(isinstance(o, Submission) and o.is_new for o in outcomes) == 1
    with runtime.sessions() as session:
        assert session.query(ApiJob).count() == 1
    other = sleep_job(runtime, 0, uuid=uuid, digest="another request", from_client=True)
    with pytest.raises(JobUUIDConflict):
        runtime.jobs.submit(other)


def test_jobs_of_one_batch_run_in_order_across_several_workers(runtime: WorkerRuntime) -> None:
    batch = [sleep_job(runtime, 0.05) for _ in range(6)]
    submissions = runtime.jobs.submit_many(batch)
    assert [isinstance(s, Submission) and s.should_dispatch for s in submissions] == [
        True,
        *[False] * 5,
    ]
    # Every job gets a run message at once, as a sweep or a redelivery may send them:
    # the store must still let them run only in turn.
    runtime.dispatch([new.uuid for new in batch])
    stop = threading.Event()

    def worker() -> None:
        while not stop.is_set():
            try:
                task, args = broker(runtime).messages.get(timeout=0.05)
            except queue.Empty:
                continue
            if task == FAN_OUT:
                runtime.send_run_messages(args[0])
            elif task == RUN_JOB:
                run_job(runtime, args[0])

    workers = [threading.Thread(target=worker) for _ in range(3)]
    for thread in workers:
        thread.start()
    try:
        wait_for(lambda: all(state_of(runtime, n.uuid) == JobState.SUCCEEDED for n in batch))
    finally:
        stop.set()
        for thread in workers:
            thread.join(timeout=20)

    ran = [runtime.jobs.get(new.uuid) for new in batch]
    for earlier, later in itertools.pairwise(ran):
        assert earlier is not None and later is not None
        assert earlier.finish_date is not None and later.start_date is not None
        assert later.start_date >= earlier.finish_date
