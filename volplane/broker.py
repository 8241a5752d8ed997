"""The broker connection every process shares: Celery configured, no tasks attached.

The gateway only sends messages (by task name); workers attach the tasks
(``workers/celery_app.py``).
"""

from __future__ import annotations

from celery import Celery

from volplane.runtime import EXPUNGE_VOLUMES, HEARTBEAT, SWEEP
from volplane.settings import Settings


def make_broker(settings: Settings) -> Celery:
    broker_url = settings.resolved_broker_url()
    app = Celery("volplane", broker=broker_url, set_as_current=False)
    app.conf.update(
        # A message is acknowledged only after its task ran; a worker that dies
        # mid-task gives its message back. The job lease keeps this from running
        # anything twice.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_default_queue="volplane",
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=3,
        # Redis hands an unacknowledged message back after this long; the job
        # lease and the sweeper recover sooner. (The SQLite transport passes
        # these options to create_engine, so it gets none.)
        broker_transport_options=(
            {"visibility_timeout": 3600} if broker_url.startswith("redis") else {}
        ),
        # Publishing must not hang a gateway when the broker is down: the job row
        # is already written and the sweeper re-sends it.
        task_publish_retry=False,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        beat_schedule={
            "sweep": {"task": SWEEP, "schedule": settings.sweep_interval_seconds},
            "heartbeat": {
                "task": HEARTBEAT,
                "schedule": settings.heartbeat_interval_seconds,
                # A beat missed while workers were busy is dropped, not run late.
                "options": {"expires": settings.heartbeat_interval_seconds},
            },
            "expunge-volumes": {
                "task": EXPUNGE_VOLUMES,
                "schedule": settings.volume_expunge_interval_seconds,
                "options": {"expires": settings.volume_expunge_interval_seconds},
            },
        },
        timezone="UTC",
    )
    return app
