"""Accepting an asynchronous call: validate, record the job, answer 202, then send.

The job row is committed before the message is sent (``api.admission`` groups
concurrent submissions into one transaction), and the message is sent apart from
the answer, so a slow or absent broker never slows admission. A message that is
never sent is re-sent by the sweeper.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from api.admission import AdmissionBatcher
from schemas.tables import new_uuid
from volplane.errors import InvalidParameter, PermissionDenied, UnknownAction
from volplane.jobs import request_digest, validate_job_uuid
from volplane.operation import Operation
from volplane.runtime import Runtime
from volplane.store.accounts import Caller
from volplane.store.jobs import NewJob
from volplane.webhook_targets import check_webhook_target, validate_webhook_url

log = logging.getLogger("volplane.api")


def validation_error(exc: ValidationError) -> InvalidParameter:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}" for err in exc.errors()
    )
    return InvalidParameter(problems)


def build_request(model: type[BaseModel], params: dict[str, Any]) -> BaseModel:
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        raise validation_error(exc) from exc


def api_prefix(request: Request) -> str:
    return "/zstack" if request.scope["path"].startswith("/zstack/") else ""


_origins: dict[tuple[Any, ...], str] = {}


def _origin(request: Request) -> str:
    """``scheme://host[/root_path]`` as Starlette's ``base_url`` gives it, remembered
    per (scheme, Host, server, root path): building URL objects per request was a
    noticeable share of an admission's cost."""
    scope = request.scope
    key = (
        scope["scheme"],
        request.headers.get("host"),
        scope.get("server"),
        scope.get("root_path"),
    )
    origin = _origins.get(key)
    if origin is None:
        if len(_origins) > 256:  # Host is the client's to choose: keep it bounded
            _origins.clear()
        origin = _origins[key] = str(request.base_url).rstrip("/")
    return origin


def base_url(request: Request, runtime: Runtime) -> str:
    root = runtime.settings.public_url.rstrip("/") or _origin(request)
    return root + api_prefix(request)


def job_location(base: str, job_uuid: str) -> str:
    return f"{base}/v1/api-jobs/{job_uuid}"


def accepted(runtime: Runtime, location: str, job_uuid: str) -> JSONResponse:
    return JSONResponse(
        {"location": location, "apiTimeout": runtime.settings.api_timeout_ms},
        status_code=202,
        headers={"Location": location, "X-Job-UUID": job_uuid, "Retry-After": "1"},
    )


@dataclass(frozen=True)
class RecordedJob:
    """A job that was recorded (or found again through its ``X-Job-UUID``)."""

    job_uuid: str
    location: str


async def record_job(
    request: Request,
    caller: Caller,
    operation: Operation[Any],
    params: dict[str, Any],
    *,
    resource_uuid: str | None,
    raw_body: dict[str, Any] | None,
    recorded_params: dict[str, Any] | None = None,
    secrets: dict[str, str] | None = None,
) -> RecordedJob:
    """Validates ``params`` for ``operation`` and records a job for it; every dialect's
    asynchronous calls come through here and differ only in how they answer.

    ``raw_body`` is the request as the client sent it (the idempotency identity);
    ``recorded_params``, when given, is what the job stores instead of ``params``
    (used to keep clear-text passwords out of job records). ``secrets`` are kept
    beside the job, never in it, until it ends; operations read them with
    ``ctx.secret(name)``.
    """
    runtime: Runtime = request.app.state.runtime
    if operation.api_name not in request.app.state.operations:
        raise UnknownAction(f"unknown operation {operation.api_name}")
    if operation.admin_only and not caller.is_admin:
        raise PermissionDenied(f"only an admin account may call {operation.api_name}")
    model = build_request(operation.request_model, recorded_params or params)
    job_header = request.headers.get("x-job-uuid")
    job_uuid = validate_job_uuid(job_header) if job_header is not None else new_uuid()
    webhook = request.headers.get("x-web-hook")
    if webhook is not None:
        webhook = validate_webhook_url(webhook)
        await run_in_threadpool(
            check_webhook_target, webhook, runtime.settings.webhook_allow_networks
        )
    base = base_url(request, runtime)
    new = NewJob(
        uuid=job_uuid,
        account_uuid=caller.account_uuid,
        api_name=operation.api_name,
        request={"params": model.model_dump(mode="json", exclude_none=True)},
        request_digest=request_digest(
            method=request.method,
            path=request.scope["path"].removeprefix("/zstack"),
            body=raw_body,
            webhook_url=webhook,
        ),
        resource_type=operation.resource_type,
        resource_uuid=resource_uuid,
        sync_key=operation.sync_key_for(model, resource_uuid),
        base_url=base,
        webhook_url=webhook,
        secrets=secrets,
        uuid_from_client=job_header is not None,
    )
    admission: AdmissionBatcher = request.app.state.admission
    submission = await admission.submit(new)
    return RecordedJob(submission.job_uuid, job_location(base, submission.job_uuid))


async def submit(
    request: Request,
    caller: Caller,
    operation: Operation[Any],
    params: dict[str, Any],
    *,
    resource_uuid: str | None,
    raw_body: dict[str, Any] | None,
    recorded_params: dict[str, Any] | None = None,
    secrets: dict[str, str] | None = None,
) -> JSONResponse:
    """Records a job for ``operation`` (``record_job``) and answers ZStack's 202."""
    runtime: Runtime = request.app.state.runtime
    job = await record_job(
        request,
        caller,
        operation,
        params,
        resource_uuid=resource_uuid,
        raw_body=raw_body,
        recorded_params=recorded_params,
        secrets=secrets,
    )
    return accepted(runtime, job.location, job.job_uuid)
