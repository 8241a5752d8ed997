"""The Celery application: configuration and its task entry points."""

from __future__ import annotations

from typing import Any

from celery import Celery

from volplane.broker import make_broker
from volplane.runtime import DELIVER_WEBHOOK, EXPUNGE_VOLUMES, FAN_OUT, HEARTBEAT, RUN_JOB, SWEEP
from volplane.settings import Settings
from workers.runtime import WorkerRuntime


def make_celery(settings: Settings) -> Celery:
    app = make_broker(settings)
    runtime = WorkerRuntime(settings, app)
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
