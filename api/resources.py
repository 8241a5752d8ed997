"""Every queryable resource, declared once: fields, relations, tenancy, inventory.

The same declaration answers queries, names valid fields in errors and writes
``docs/query.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from api.query import FieldKind, QueryableResource, QueryField, QueryRegistry
from schemas.inventories import account_inventory, job_inventory, zone_inventory
from schemas.tables import Account, ApiJob, Zone

S, I, D, B = FieldKind.STRING, FieldKind.INT, FieldKind.DATETIME, FieldKind.BOOL


def _fields(*items: tuple[str, Any, FieldKind]) -> dict[str, QueryField]:
    return {name: QueryField(name, column, kind) for name, column, kind in items}


ZONE = QueryableResource(
    name="zone",
    model=Zone,
    fields=_fields(
        ("uuid", Zone.uuid, S),
        ("name", Zone.name, S),
        ("description", Zone.description, S),
        ("state", Zone.state, S),
        ("type", Zone.type, S),
        ("createDate", Zone.create_date, D),
        ("lastOpDate", Zone.last_op_date, D),
    ),
    tag_resource_type="Zone",
)

API_JOB = QueryableResource(
    name="apiJob",
    model=ApiJob,
    fields=_fields(
        ("uuid", ApiJob.uuid, S),
        ("apiName", ApiJob.api_name, S),
        ("state", ApiJob.state, S),
        ("progress", ApiJob.progress, I),
        ("resourceType", ApiJob.resource_type, S),
        ("resourceUuid", ApiJob.resource_uuid, S),
        ("accountUuid", ApiJob.account_uuid, S),
        ("attempts", ApiJob.attempts, I),
        ("createDate", ApiJob.create_date, D),
        ("startDate", ApiJob.start_date, D),
        ("finishDate", ApiJob.finish_date, D),
        ("webhookState", ApiJob.webhook_state, S),
        ("cancelRequested", ApiJob.cancel_requested, B),
    ),
    tenant_column=ApiJob.account_uuid,
)

ACCOUNT = QueryableResource(
    name="account",
    model=Account,
    fields=_fields(
        ("uuid", Account.uuid, S),
        ("name", Account.name, S),
        ("description", Account.description, S),
        ("createDate", Account.create_date, D),
        ("lastOpDate", Account.last_op_date, D),
    ),
    tenant_column=Account.uuid,
    tag_resource_type="Account",
)

QUERY_REGISTRY = QueryRegistry()
for _resource in (ZONE, API_JOB, ACCOUNT):
    QUERY_REGISTRY.register(_resource)

_INVENTORIES: dict[str, Callable[[Any], dict[str, Any]]] = {
    "zone": zone_inventory,
    "apiJob": job_inventory,
    "account": account_inventory,
}


def inventory_of(resource: str, row: Any) -> dict[str, Any]:
    return _INVENTORIES[resource](row)
