"""``/v1/zones`` (ZStack §4.1)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.handlers import actions_endpoint, create_endpoint, delete_endpoint
from api.listing import list_collection
from api.query import QueryableResource, QueryRelation
from api.resources import D, S, fields
from schemas.infra import Cluster, Host, PrimaryStorage
from schemas.inventories import zone_inventory
from schemas.tables import Zone
from volplane.catalog.zones import CHANGE_ZONE_STATE, CREATE_ZONE, DELETE_ZONE, UPDATE_ZONE
from volplane.operation import Operation

_ACTIONS: dict[str, Operation[Any]] = {
    "updateZone": UPDATE_ZONE,
    "changeZoneState": CHANGE_ZONE_STATE,
}


create_zone = create_endpoint(CREATE_ZONE, name="create_zone")


async def list_zones(request: Request) -> Response:
    return await list_collection(request, "zone")


zone_actions = actions_endpoint(_ACTIONS, name="zone_actions")


delete_zone = delete_endpoint(DELETE_ZONE, name="delete_zone")


ROUTES = [
    Route("/v1/zones", create_zone, methods=["POST"]),
    Route("/v1/zones", list_zones, methods=["GET"]),
    Route("/v1/zones/{uuid}", list_zones, methods=["GET"]),
    Route("/v1/zones/{uuid}", delete_zone, methods=["DELETE"]),
    Route("/v1/zones/{uuid}/actions", zone_actions, methods=["PUT"]),
]

QUERYABLE = [
    (
        QueryableResource(
            name="zone",
            model=Zone,
            fields=fields(
                ("uuid", Zone.uuid, S),
                ("name", Zone.name, S),
                ("description", Zone.description, S),
                ("state", Zone.state, S),
                ("type", Zone.type, S),
                ("createDate", Zone.create_date, D),
                ("lastOpDate", Zone.last_op_date, D),
            ),
            relations={
                "clusters": QueryRelation("clusters", "cluster", Zone.uuid, Cluster.zone_uuid),
                "hosts": QueryRelation("hosts", "host", Zone.uuid, Host.zone_uuid),
                "primaryStorage": QueryRelation(
                    "primaryStorage", "primaryStorage", Zone.uuid, PrimaryStorage.zone_uuid
                ),
            },
            tag_resource_type="Zone",
        ),
        zone_inventory,
    )
]
