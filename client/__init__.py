"""The volplane Python SDK (sync and async, on httpx) and the ``volplane`` client commands.

    from client import Client
    with Client("http://127.0.0.1:8080") as api:
        api.login("admin", "password")
        zone = api.zones.create("zone-1")

See ``docs/sdk.md``.
"""

from client._core import Event, JobStatus
from client.aio import AsyncClient, AsyncJob, AsyncResource
from client.errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    ClientError,
    ConflictError,
    JobCancelledError,
    JobFailedError,
    JobUUIDConflictError,
    JobWaitTimeout,
    NotFoundError,
    PermissionDeniedError,
    ServerError,
    TransportError,
)
from client.sync import Client, Job, Resource
from client.webhooks import Delivery, WebhookVerificationError, verify_delivery

__all__ = [
    "ApiError",
    "AsyncClient",
    "AsyncJob",
    "AsyncResource",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "ClientError",
    "ConflictError",
    "Delivery",
    "Event",
    "Job",
    "JobCancelledError",
    "JobFailedError",
    "JobStatus",
    "JobUUIDConflictError",
    "JobWaitTimeout",
    "NotFoundError",
    "PermissionDeniedError",
    "Resource",
    "ServerError",
    "TransportError",
    "WebhookVerificationError",
    "verify_delivery",
]
