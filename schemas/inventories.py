"""Inventories: how rows are shown to ZStack-dialect callers (camelCase, ISO dates)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from schemas.tables import Account, ApiJob, WebhookDelivery, Zone
from volplane.jobs import JobState, redact


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def zone_inventory(zone: Zone) -> dict[str, Any]:
    return {
        "uuid": zone.uuid,
        "name": zone.name,
        "description": zone.description,
        "state": zone.state,
        "type": zone.type,
        "isDefault": False,
        "createDate": iso(zone.create_date),
        "lastOpDate": iso(zone.last_op_date),
    }


def account_inventory(account: Account) -> dict[str, Any]:
    return {
        "uuid": account.uuid,
        "name": account.name,
        "description": account.description,
        "type": "SystemAdmin" if account.is_admin else "Normal",
        "createDate": iso(account.create_date),
        "lastOpDate": iso(account.last_op_date),
    }


def delivery_inventory(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "attempt": delivery.attempt,
        "date": iso(delivery.date),
        "statusCode": delivery.status_code,
        "latencyMs": delivery.latency_ms,
        "error": delivery.error,
    }


def job_inventory(job: ApiJob, deliveries: list[WebhookDelivery] | None = None) -> dict[str, Any]:
    webhook = None
    if job.webhook_url:
        webhook = {
            "url": job.webhook_url,
            "state": job.webhook_state,
            "deliveries": [delivery_inventory(d) for d in deliveries or []],
        }
    return {
        "uuid": job.uuid,
        "apiName": job.api_name,
        "state": job.state,
        "progress": job.progress,
        "resourceType": job.resource_type,
        "resourceUuid": job.resource_uuid,
        "accountUuid": job.account_uuid,
        "attempts": job.attempts,
        "createDate": iso(job.create_date),
        "startDate": iso(job.start_date),
        "finishDate": iso(job.finish_date),
        "error": job.error.get("error") if job.error else None,
        "request": redact(job.request),
        "webhook": webhook,
        "webhookState": job.webhook_state,
        "cancelRequested": job.cancel_requested,
        "finished": JobState(job.state).is_final,
    }
