"""``/v1/accounts``: login, logout, tenants and their webhook secrets."""

from __future__ import annotations

import functools
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.auth import authenticate, public, require_admin
from api.body import action_params, create_params, read_json
from api.listing import list_collection
from api.query import QueryableResource
from api.resources import D, S, fields
from api.submit import build_request, submit
from schemas import requests as rq
from schemas.inventories import account_inventory, iso
from schemas.tables import Account, Session, new_uuid
from volplane.catalog.accounts import CREATE_ACCOUNT, ROTATE_WEBHOOK_SECRET
from volplane.errors import InvalidParameter
from volplane.passwords import hash_password
from volplane.runtime import Runtime
from volplane.tenancy import may_act_for, may_see, not_found


class _Credentials(BaseModel):
    """ZStack's LogInByAccount. Its optional fields (account type, captcha, client
    info, tags) are accepted as its SDKs send them and have no effect here."""

    model_config = ConfigDict(extra="forbid")
    accountName: str = Field(min_length=1, max_length=255)
    password: str = Field(min_length=1, max_length=512)
    accountType: str | None = None
    captchaUuid: str | None = None
    verifyCode: str | None = None
    clientInfo: dict[str, str] | None = None
    systemTags: list[str] | None = None
    userTags: list[str] | None = None


class _RenewSession(BaseModel):
    model_config = ConfigDict(extra="forbid")
    duration: int | None = Field(default=None, ge=60, le=31_536_000)


def _session_inventory(session: Session) -> dict[str, Any]:
    return {
        "uuid": session.uuid,
        "accountUuid": session.account_uuid,
        "userUuid": session.account_uuid,
        "userType": "Account",
        "expiredDate": iso(session.expired_date),
        "createDate": iso(session.create_date),
        "noSessionEvaluation": False,
    }


@public
async def login(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    body = await read_json(request)
    # The manual spells it both ways.
    raw = body.get("logInByAccount", body.get("loginByAccount"))
    if not isinstance(raw, dict):
        raise InvalidParameter("the body must hold a 'logInByAccount' object")
    credentials = build_request(_Credentials, raw)
    assert isinstance(credentials, _Credentials)
    session = await run_in_threadpool(
        runtime.accounts.login, credentials.accountName, credentials.password
    )
    return JSONResponse({"inventory": _session_inventory(session)})


@public
async def logout(request: Request) -> Response:
    """ZStack's LogOut: no credentials needed, the session uuid is the proof."""
    runtime: Runtime = request.app.state.runtime
    await run_in_threadpool(runtime.accounts.logout, request.path_params["sessionUuid"].lower())
    return JSONResponse({})


@public
async def validate_session(request: Request) -> Response:
    """ZStack's ValidateSession: ``{"valid": bool}``, without credentials."""
    runtime: Runtime = request.app.state.runtime
    valid = await run_in_threadpool(
        runtime.accounts.is_valid, request.path_params["sessionUuid"].lower()
    )
    return JSONResponse({"valid": valid})


async def renew_session(request: Request) -> Response:
    """ZStack's RenewSession ``{"renewSession": {"duration": seconds}}``, answered at
    once (``200`` with the session's inventory, which ZStack's SDKs read as a result)."""
    runtime: Runtime = request.app.state.runtime
    caller = await authenticate(request)
    body = await read_json(request)
    _, params = action_params(body, {"renewSession"}, path=request.path_params)
    renew = build_request(_RenewSession, params)
    assert isinstance(renew, _RenewSession)
    session = await run_in_threadpool(
        functools.partial(
            runtime.accounts.renew,
            request.path_params["sessionUuid"].lower(),
            seconds=renew.duration,
            caller=caller,
        )
    )
    return JSONResponse({"inventory": _session_inventory(session)})


async def create_account(request: Request) -> Response:
    caller = await authenticate(request)
    require_admin(caller, "create accounts")
    body = await read_json(request)
    params = create_params(body, path=request.path_params)
    validated = build_request(rq.CreateAccountParams, params)
    assert isinstance(validated, rq.CreateAccountParams)
    resource_uuid = validated.resourceUuid or new_uuid()
    recorded: dict[str, Any] = {
        **validated.model_dump(exclude={"password"}, exclude_none=True),
        "passwordHash": await run_in_threadpool(hash_password, validated.password),
    }
    return await submit(
        request,
        caller,
        CREATE_ACCOUNT,
        params,
        resource_uuid=resource_uuid,
        raw_body=body,
        recorded_params=recorded,
    )


async def list_accounts(request: Request) -> Response:
    return await list_collection(request, "account")


async def webhook_secret(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    caller = await authenticate(request)
    account_uuid = request.path_params["uuid"]
    account = await run_in_threadpool(runtime.accounts.get, account_uuid)
    if account is None or not may_see(account, caller):
        raise not_found(Account, account_uuid)
    return JSONResponse({"secret": account.webhook_secret})


async def account_actions(request: Request) -> Response:
    caller = await authenticate(request)
    body = await read_json(request)
    account_uuid = request.path_params["uuid"]
    _, params = action_params(body, {"rotateWebhookSecret"}, path=request.path_params)
    if not may_act_for(caller, account_uuid):
        raise not_found(Account, account_uuid)
    return await submit(
        request,
        caller,
        ROTATE_WEBHOOK_SECRET,
        {**params, "uuid": account_uuid},
        resource_uuid=account_uuid,
        raw_body=body,
    )


ROUTES = [
    Route("/v1/accounts/login", login, methods=["PUT"]),
    Route("/v1/accounts/sessions/{sessionUuid}", logout, methods=["DELETE"]),
    Route("/v1/accounts/sessions/{sessionUuid}/valid", validate_session, methods=["GET"]),
    Route("/v1/accounts/sessions/{sessionUuid}/renew", renew_session, methods=["PUT"]),
    Route("/v1/accounts", create_account, methods=["POST"]),
    Route("/v1/accounts", list_accounts, methods=["GET"]),
    Route("/v1/accounts/{uuid}", list_accounts, methods=["GET"]),
    Route("/v1/accounts/{uuid}/webhook-secret", webhook_secret, methods=["GET"]),
    Route("/v1/accounts/{uuid}/actions", account_actions, methods=["PUT"]),
]

QUERYABLE = [
    (
        QueryableResource(
            name="account",
            model=Account,
            fields=fields(
                ("uuid", Account.uuid, S),
                ("name", Account.name, S),
                ("description", Account.description, S),
                ("createDate", Account.create_date, D),
                ("lastOpDate", Account.last_op_date, D),
            ),
            tag_resource_type="Account",
        ),
        account_inventory,
    )
]
