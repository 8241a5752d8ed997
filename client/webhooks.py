"""Verifying webhook deliveries on the receiving side (CONTRACT §2.4).

    from client.webhooks import verify_delivery, WebhookVerificationError

    def receive(request):
        verify_delivery(secret, request.headers, request.body)   # raises if forged or stale
        result = json.loads(request.body)

The signing code lives once, in :mod:`client.signing`: the server signs with it, and the
SDK ships it without the server. This module gives it to receivers with the job's own
headers decoded.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from client.signing import (
    DEFAULT_TOLERANCE_SECONDS,
    WebhookVerificationError,
    verify,
)

__all__ = ["Delivery", "WebhookVerificationError", "verify", "verify_delivery"]


@dataclass(frozen=True)
class Delivery:
    """A verified delivery: which job, whether it succeeded, and its poll body."""

    job_uuid: str
    success: bool
    message_id: str
    body: dict[str, Any]


def verify_delivery(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> Delivery:
    """Checks the Standard Webhooks signature, then decodes the delivery.

    Raises :class:`WebhookVerificationError` when the signature does not match, a
    header is missing, or the timestamp is outside ``tolerance_seconds``.
    """
    verify(secret, headers, body, tolerance_seconds=tolerance_seconds, now=now)
    lowered = {name.lower(): value for name, value in headers.items()}
    try:
        decoded = json.loads(body)
    except ValueError as exc:
        raise WebhookVerificationError("the delivery body is not JSON") from exc
    return Delivery(
        job_uuid=lowered.get("x-job-uuid", ""),
        success=lowered.get("x-job-success", "").lower() == "true",
        message_id=lowered["webhook-id"],
        body=decoded if isinstance(decoded, dict) else {"value": decoded},
    )
