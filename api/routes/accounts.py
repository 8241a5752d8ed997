"""``/v1/accounts``: login, logout, tenants and their webhook secrets."""

from __future__ import annotations

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
from schemas.tables import Account, new_uuid
from volplane.catalog.accounts import CREATE_ACCOUNT, ROTATE_WEBHOOK_SECRET
from volplane.errors import InvalidParameter
from volplane.passwords import hash_password
from volplane.runtime import Runtime
from volplane.tenancy import may_act_for, may_see, not_found


class _Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")
    accountName: str = Field(min_length=1, max_length=255)
    password: str = Field(min_length=1, max_length=512)


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
    return JSONResponse(
        {
            "inventory": {
                "uuid": session.uuid,
                "accountUuid": session.account_uuid,
                "userUuid": session.account_uuid,
                "expiredDate": iso(session.expired_date),
                "createDate": iso(session.create_date),
            }
        }
    )


@public
async def logout(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    await run_in_threadpool(runtime.accounts.logout, request.path_params["uuid"].lower())
    return JSONResponse({})


async def create_account(request: Request) -> Response:
    caller = await authenticate(request)
    require_admin(caller, "create accounts")
    body = await read_json(request)
    params = create_params(body)
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
    _, params = action_params(body, {"rotateWebhookSecret"})
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
    Route("/v1/accounts/sessions/{uuid}", logout, methods=["DELETE"]),
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
