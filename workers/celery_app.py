"""The Celery application: configuration and its task entry points."""

from __future__ import annotations

from typing import Any

from celery import Celery

from volplane.runtime import DELIVER_WEBHOOK, FAN_OUT, RUN_JOB, SWEEP, Runtime
from volplane.settings import Settings

HEARTBEAT = "volplane.heartbeat"
EXPUNGE_VOLUMES = "volplane.expunge_volumes"


def make_celery(settings: Settings) -> Celery:
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
    runtime = Runtime(settings, app)
    app.volplane_runtime = runtime

    @app.task(name=RUN_JOB, acks_late=True)
    def run_job_task(job_uuid: str) -> str:
        from workers.runner import run_job

        return run_job(runtime, job_uuid)

    @app.task(name=FAN_OUT, acks_late=True)
    def fan_out_task(job_uuids: list[str]) -> int:
        # Redelivered after a crash half-way, some jobs get a second run message:
        # harmless, the job lease lets only one of them run.
        runtime.send_run_messages(job_uuids)
        return len(job_uuids)

    @app.task(name=DELIVER_WEBHOOK)
    def deliver_webhook_task(job_uuid: str) -> str:
        from workers.webhook_task import deliver_webhook

        return deliver_webhook(runtime, job_uuid)

    @app.task(name=SWEEP)
    def sweep_task() -> dict[str, Any]:
        from workers.sweeper import sweep

        return vars(sweep(runtime))

    @app.task(name=EXPUNGE_VOLUMES)
    def expunge_volumes_task() -> int:
        from workers.expunger import expunge_due

        return expunge_due(runtime)

    @app.task(name=HEARTBEAT)
    def heartbeat_task() -> dict[str, Any]:
        from workers.heartbeat import heartbeat

        return vars(heartbeat(runtime))

    return app
