"""Servers for benchmarks: a production-mode volplane stack and the bare baseline."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

from tests.services import postgres_database, redis_server
from tests.stack import Stack, free_port, wait_until

UVICORN_FLAGS = ["--log-level", "warning", "--no-access-log"]


@contextmanager
def production_stack(workdir: Path, *, workers: int = 1, **env: str) -> Iterator[Stack]:
    """PostgreSQL + Redis + gateway (+ workers and beat), as in production."""
    with ExitStack() as resources:
        redis = resources.enter_context(redis_server(workdir / "redis"))
        settings = {
            "VOLPLANE_DATA_DIR": str(workdir / "data"),
            "VOLPLANE_DATABASE_URL": resources.enter_context(postgres_database("volplane_bench")),
            "VOLPLANE_BROKER_URL": redis.url,
            "VOLPLANE_LOG_JSON": "true",
            **env,
        }
        stack = Stack(name="bench", env=settings, workdir=workdir)
        resources.callback(stack.stop)
        stack.start(workers=workers)
        yield stack


@contextmanager
def baseline_server() -> Iterator[str]:
    """Bare Starlette under the same uvicorn settings as the gateway."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.baseline_app:app",
            "--port",
            str(port),
            *UVICORN_FLAGS,
        ],
        cwd=Path(__file__).resolve().parent.parent,
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            httpx.get(f"{url}/v1/api-jobs/x", timeout=1)
            return True
        except httpx.HTTPError:
            return False

    try:
        wait_until(up, timeout=20)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
