"""Run messages: one per job when alone, one fan-out message for many."""

from __future__ import annotations

import json
from pathlib import Path

import redis as redis_lib

from tests.conftest import StackFactory
from tests.services import redis_server
from tests.stack import new_name
from volplane.runtime import FAN_OUT, RUN_JOB
from volplane.settings import Settings
from workers.celery_app import make_celery

QUEUE = "volplane"


def queued_tasks(client: redis_lib.Redis) -> list[str]:
    return [json.loads(raw)["headers"]["task"] for raw in client.lrange(QUEUE, 0, -1)]


def test_many_jobs_travel_as_one_fan_out_message(make_stack: StackFactory, tmp_path: Path) -> None:
    with redis_server(tmp_path / "redis") as redis:
        stack = make_stack("production", workers=0, beat=False, VOLPLANE_BROKER_URL=redis.url)
        admin = stack.login()
        locations = [
            admin.request("POST", "/v1/zones", json={"params": {"name": new_name("f")}}).json()[
                "location"
            ]
            for _ in range(5)
        ]
        uuids = [location.rsplit("/", 1)[1] for location in locations]
        broker = redis_lib.Redis.from_url(redis.url)
        assert queued_tasks(broker) == [RUN_JOB] * 5  # one at a time: direct messages
        broker.delete(QUEUE)  # the broker lost them

        settings = Settings(database_url=stack.env["VOLPLANE_DATABASE_URL"], broker_url=redis.url)
        runtime = make_celery(settings).volplane_runtime
        runtime.dispatch(uuids)
        assert queued_tasks(broker) == [FAN_OUT]

        stack.start_worker("worker0")
        for location in locations:
            assert admin.wait(location, timeout=60).status_code == 200, stack.logs()
        assert broker.llen(QUEUE) == 0
