"""Account operations: creating tenants and rotating their webhook secret."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from client.signing import new_secret
from schemas import requests as rq
from schemas.inventories import account_inventory
from schemas.tables import Account
from volplane.catalog import accounts as catalog
from volplane.errors import DuplicateResource
from volplane.store.tags import add_tags
from volplane.tenancy import get_visible
from workers.context import JobContext, Runs


def create_account(ctx: JobContext, req: rq.CreateAccount) -> dict[str, Any]:
    assert ctx.resource_uuid is not None
    if ctx.session.scalar(select(Account.uuid).where(Account.name == req.name)) is not None:
        raise DuplicateResource(f"an account named {req.name!r} already exists")
    account = Account(
        uuid=ctx.resource_uuid,
        name=req.name,
        password_hash=req.passwordHash,
        description=req.description,
        is_admin=False,
        webhook_secret=new_secret(),
    )
    ctx.session.add(account)
    add_tags(ctx.session, account.uuid, "Account", system=req.systemTags, user=req.userTags)
    ctx.session.flush()
    return {"inventory": account_inventory(account)}


def rotate_webhook_secret(ctx: JobContext, req: rq.RotateWebhookSecret) -> dict[str, Any]:
    account = get_visible(ctx.session, Account, req.uuid, ctx, lock=True, what="account")
    account.webhook_secret = new_secret()
    ctx.session.flush()
    return {"secret": account.webhook_secret}


RUNS: Runs = {
    catalog.CREATE_ACCOUNT: create_account,
    catalog.ROTATE_WEBHOOK_SECRET: rotate_webhook_secret,
}
