"""A bare Celery app with one no-op task: the peer of volplane's job path in
``bench/bench_celery.py`` (same Redis, Redis result backend, default settings)."""

from __future__ import annotations

import os

from celery import Celery

app = Celery(
    "noop",
    broker=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
    backend=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
)
app.conf.worker_hijack_root_logger = False


@app.task(name="noop")
def noop() -> None:
    return None
