"""Run messages: one per job when alone, one fan-out message for many; published
by the gateway from its event loop (Redis) or by Celery's own client (sweeper)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import redis as redis_lib

from api.redis_publisher import AsyncRedisPublisher
from tests.conftest import StackFactory
from tests.services import redis_server
from tests.stack import Client, Stack, new_name, wait_until
from volplane.runtime import FAN_OUT, RUN_JOB, Runtime
from volplane.settings import Settings
from workers.celery_app import make_celery

QUEUE = "volplane"


def queued_tasks(broker: redis_lib.Redis) -> list[str]:
    return [json.loads(raw)["headers"]["task"] for raw in broker.lrange(QUEUE, 0, -1)]


def submit_zones(admin: Client, count: int) -> list[str]:
    return [
        admin.request("POST", "/v1/zones", json={"params": {"name": new_name("f")}}).json()[
            "location"
        ]
        for _ in range(count)
    ]


def finish_all(stack: Stack, admin: Client, locations: list[str]) -> None:
    stack.start_worker("worker0")
    for location in locations:
        assert admin.wait(location, timeout=60).status_code == 200, stack.logs()
    stack.kill("worker0")


def test_run_messages_reach_workers(make_stack: StackFactory, tmp_path: Path) -> None:
    with redis_server(tmp_path / "redis") as redis:
        stack = make_stack("production", workers=0, beat=False, VOLPLANE_BROKER_URL=redis.url)
        admin = stack.login()
        broker = redis_lib.Redis.from_url(redis.url)
        runtime: Runtime = make_celery(
            Settings(database_url=stack.env["VOLPLANE_DATABASE_URL"], broker_url=redis.url)
        ).volplane_runtime

        # Jobs accepted one at a time: the gateway publishes one run message each
        # (just after each answer, so they are waited for).
        locations = submit_zones(admin, 3)
        wait_until(lambda: broker.llen(QUEUE) >= 3, timeout=10, interval=0.02)
        assert queued_tasks(broker) == [RUN_JOB] * 3
        finish_all(stack, admin, locations)

        # Many jobs at once travel as one fan-out message, from either publisher.
        for publish in (
            runtime.dispatch,
            lambda uuids: asyncio.run(
                AsyncRedisPublisher(runtime.celery, redis.url).dispatch(uuids)
            ),
        ):
            locations = submit_zones(admin, 4)
            wait_until(lambda: broker.llen(QUEUE) >= 4, timeout=10, interval=0.02)
            broker.delete(QUEUE)  # the broker lost the gateway's messages
            publish([location.rsplit("/", 1)[1] for location in locations])
            assert queued_tasks(broker) == [FAN_OUT]
            finish_all(stack, admin, locations)
        assert broker.llen(QUEUE) == 0
