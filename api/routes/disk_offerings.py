"""``/v1/disk-offerings`` (ZStack's disk offerings)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.handlers import actions_endpoint, create_endpoint, delete_endpoint
from api.listing import list_collection
from api.query import QueryableResource, QueryRelation
from api.resources import D, I, S, fields
from schemas.storage import DiskOffering, Volume
from schemas.storage_inventories import disk_offering_inventory
from volplane.catalog.disk_offerings import (
    CHANGE_DISK_OFFERING_STATE,
    CREATE_DISK_OFFERING,
    DELETE_DISK_OFFERING,
    UPDATE_DISK_OFFERING,
)
from volplane.operation import Operation

_ACTIONS: dict[str, Operation[Any]] = {
    "updateDiskOffering": UPDATE_DISK_OFFERING,
    "changeDiskOfferingState": CHANGE_DISK_OFFERING_STATE,
}

create_disk_offering = create_endpoint(CREATE_DISK_OFFERING, name="create_disk_offering")


async def list_disk_offerings(request: Request) -> Response:
    return await list_collection(request, "diskOffering")


disk_offering_actions = actions_endpoint(_ACTIONS, name="disk_offering_actions")
delete_disk_offering = delete_endpoint(DELETE_DISK_OFFERING, name="delete_disk_offering")


ROUTES = [
    Route("/v1/disk-offerings", create_disk_offering, methods=["POST"]),
    Route("/v1/disk-offerings", list_disk_offerings, methods=["GET"]),
    Route("/v1/disk-offerings/{uuid}", list_disk_offerings, methods=["GET"]),
    Route("/v1/disk-offerings/{uuid}", delete_disk_offering, methods=["DELETE"]),
    Route("/v1/disk-offerings/{uuid}/actions", disk_offering_actions, methods=["PUT"]),
]

QUERYABLE = [
    (
        QueryableResource(
            name="diskOffering",
            model=DiskOffering,
            fields=fields(
                ("uuid", DiskOffering.uuid, S),
                ("name", DiskOffering.name, S),
                ("description", DiskOffering.description, S),
                ("diskSize", DiskOffering.disk_size, I),
                ("sortKey", DiskOffering.sort_key, I),
                ("state", DiskOffering.state, S),
                ("type", DiskOffering.type, S),
                ("allocatorStrategy", DiskOffering.allocator_strategy, S),
                ("createDate", DiskOffering.create_date, D),
                ("lastOpDate", DiskOffering.last_op_date, D),
            ),
            relations={
                "volume": QueryRelation(
                    "volume", "volume", DiskOffering.uuid, Volume.disk_offering_uuid
                ),
            },
            tag_resource_type="DiskOffering",
        ),
        disk_offering_inventory,
    )
]
