"""Publishing run messages to a Redis broker from the gateway's event loop.

Celery's ``send_task`` blocks, so the gateway ran it in a worker thread, and the
thread's contention for the GIL cost the gateway more CPU per admission than the
publishing itself. Here the message is built by Celery (``as_task_v2``, the task
protocol a worker expects), wrapped the way kombu's Redis transport stores it, and
pushed with ``redis.asyncio``: no thread. A failed push is repaired by the sweeper,
as for any lost message. tests/integration/test_dispatch.py runs workers on it.
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import redis.asyncio as aioredis
from celery import Celery

from volplane.runtime import run_messages


class AsyncRedisPublisher:
    def __init__(self, celery: Celery, broker_url: str) -> None:
        self._celery = celery
        self._queue: str = celery.conf.task_default_queue
        self._redis = aioredis.Redis.from_url(
            broker_url, socket_connect_timeout=2, socket_timeout=2
        )

    def envelope(self, task: str, args: list[Any]) -> bytes:
        """The message as kombu's Redis transport stores it on the queue's list."""
        task_id = str(uuid.uuid4())
        # A fan-out carries many uuids; Celery's default repr of them is costly.
        summary = f"[{len(args[0])} jobs]" if isinstance(args[0], list) else None
        message = self._celery.amqp.as_task_v2(task_id, task, args=args, argsrepr=summary)
        body = json.dumps(message.body).encode()
        return json.dumps(
            {
                "body": base64.b64encode(body).decode(),
                "content-encoding": "utf-8",
                "content-type": "application/json",
                "headers": message.headers,
                "properties": {
                    **message.properties,
                    "delivery_mode": 2,
                    "delivery_info": {"exchange": "", "routing_key": self._queue},
                    "priority": 0,
                    "body_encoding": "base64",
                    "delivery_tag": str(uuid.uuid4()),
                },
            }
        ).encode()

    async def dispatch(self, job_uuids: list[str]) -> None:
        messages = [self.envelope(task, args) for task, args in run_messages(job_uuids)]
        if messages:
            await self._redis.lpush(self._queue, *messages)

    async def close(self) -> None:
        await self._redis.aclose()
