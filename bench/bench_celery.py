"""The job path against raw Celery on the same Redis, in the same run.

volplane: a no-op job (``updateZone``) submitted and read back by long-poll; every job is
a committed, durable row in PostgreSQL. Raw Celery: a no-op task, ``apply_async`` then
``get`` with the Redis result backend. Latency is sequential and end to end; throughput
is how fast two worker processes drain a backlog (volplane: one worker with concurrency
2, Celery: ``-c 2``), measured from the first submission to the last result.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from bench.results import Result
from bench.stacks import production_stack
from tests.services import redis_server
from tests.stack import wait_until

LATENCY_CALLS = 200
CELERY_BACKLOG = 5000
VOLPLANE_BACKLOG = 2000
ROOT = Path(__file__).resolve().parent.parent


def _celery(workdir: Path) -> tuple[list[float], float]:
    with redis_server(workdir / "redis-celery") as redis:
        env = {**os.environ, "BENCH_REDIS_URL": redis.url}
        os.environ["BENCH_REDIS_URL"] = redis.url
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "bench.celery_noop",
                "worker",
                "-c",
                "2",
                "--loglevel",
                "warning",
                "--without-heartbeat",
                "--without-mingle",
                "--without-gossip",
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            from bench import celery_noop

            # The module reads BENCH_REDIS_URL when first imported, just above.
            noop = celery_noop.noop
            noop.apply_async().get(timeout=60)  # the worker is up
            latencies = []
            for _ in range(LATENCY_CALLS):
                started = time.perf_counter()
                noop.apply_async().get(timeout=30)
                latencies.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            results = [noop.apply_async() for _ in range(CELERY_BACKLOG)]
            for result in results:
                result.get(timeout=120)
            rate = CELERY_BACKLOG / (time.perf_counter() - started)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    return latencies, rate


def _volplane(workdir: Path) -> tuple[list[float], float]:
    with production_stack(workdir / "volplane", workers=1) as stack:
        admin = stack.login()
        zone = admin.create_zone("bench-zone")
        headers = {"Authorization": f"OAuth {admin.session}"}
        latencies = []
        with httpx.Client(headers=headers, timeout=60) as http:
            for i in range(LATENCY_CALLS):
                started = time.perf_counter()
                accepted = http.put(
                    f"{stack.url}/v1/zones/{zone['uuid']}/actions",
                    json={"updateZone": {"description": f"d{i}"}},
                )
                done = http.get(accepted.json()["location"] + "?waitSeconds=30")
                assert done.status_code == 200, done.text
                latencies.append((time.perf_counter() - started) * 1000)

            def submit(i: int) -> None:
                answer = http.post(f"{stack.url}/v1/zones", json={"params": {"name": f"z{i}"}})
                assert answer.status_code == 202, answer.text

            def pending() -> bool:
                answer = http.get(
                    f"{stack.url}/v1/api-jobs",
                    params={"q": "state?=Pending,Running", "count": "true"},
                )
                return answer.json()["total"] == 0

            started = time.perf_counter()
            with ThreadPoolExecutor(16) as pool:
                list(pool.map(submit, range(VOLPLANE_BACKLOG)))
            wait_until(pending, timeout=600, interval=0.05)
            rate = VOLPLANE_BACKLOG / (time.perf_counter() - started)
    return latencies, rate


def run(workdir: Path) -> list[Result]:
    celery_latency, celery_rate = _celery(workdir)
    ours_latency, ours_rate = _volplane(workdir)
    ours, theirs = statistics.median(ours_latency), statistics.median(celery_latency)
    ratio = ours / theirs
    throughput = ours_rate / celery_rate
    return [
        Result(
            "job path vs raw Celery: no-op, submit → result, median",
            ours,
            "ms",
            theirs,
            "raw Celery apply_async → get",
            ratio,
            "volplane ÷ Celery ≤ 3",
            ratio <= 3,
            note=f"{LATENCY_CALLS} sequential calls each; p99 volplane "
            f"{statistics.quantiles(ours_latency, n=100)[98]:.1f} ms, Celery "
            f"{statistics.quantiles(celery_latency, n=100)[98]:.1f} ms. volplane's job is "
            "updateZone (a committed row, its own run message, a lease, the result row); "
            "Celery's task does nothing and its result lives in Redis.",
        ),
        Result(
            "job path vs raw Celery: backlog drained by 2 worker processes",
            ours_rate,
            "jobs/s",
            celery_rate,
            "raw Celery no-op tasks",
            throughput,
            "ratio ≥ 0.5",
            throughput >= 0.5,
            note=f"volplane: {VOLPLANE_BACKLOG} zone creations submitted by 16 threads, "
            f"until none is Pending or Running; Celery: {CELERY_BACKLOG} no-op tasks.",
        ),
    ]
