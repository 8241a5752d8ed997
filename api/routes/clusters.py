"""``/v1/clusters`` (ZStack §4.2)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.handlers import actions_endpoint, create_endpoint, delete_endpoint
from api.listing import list_collection
from api.query import QueryableResource, QueryRelation
from api.resources import D, S, fields
from schemas.infra import Cluster, Host
from schemas.infra_inventories import cluster_inventory
from schemas.tables import Zone
from volplane.catalog.clusters import (
    CHANGE_CLUSTER_STATE,
    CREATE_CLUSTER,
    DELETE_CLUSTER,
    UPDATE_CLUSTER,
)
from volplane.operation import Operation

_ACTIONS: dict[str, Operation[Any]] = {
    "updateCluster": UPDATE_CLUSTER,
    "changeClusterState": CHANGE_CLUSTER_STATE,
}


create_cluster = create_endpoint(CREATE_CLUSTER, name="create_cluster")


async def list_clusters(request: Request) -> Response:
    return await list_collection(request, "cluster")


cluster_actions = actions_endpoint(_ACTIONS, name="cluster_actions")


delete_cluster = delete_endpoint(DELETE_CLUSTER, name="delete_cluster")


ROUTES = [
    Route("/v1/clusters", create_cluster, methods=["POST"]),
    Route("/v1/clusters", list_clusters, methods=["GET"]),
    Route("/v1/clusters/{uuid}", list_clusters, methods=["GET"]),
    Route("/v1/clusters/{uuid}", delete_cluster, methods=["DELETE"]),
    Route("/v1/clusters/{uuid}/actions", cluster_actions, methods=["PUT"]),
]

QUERYABLE = [
    (
        QueryableResource(
            name="cluster",
            model=Cluster,
            fields=fields(
                ("uuid", Cluster.uuid, S),
                ("name", Cluster.name, S),
                ("description", Cluster.description, S),
                ("zoneUuid", Cluster.zone_uuid, S),
                ("state", Cluster.state, S),
                ("hypervisorType", Cluster.hypervisor_type, S),
                ("type", Cluster.type, S),
                ("createDate", Cluster.create_date, D),
                ("lastOpDate", Cluster.last_op_date, D),
            ),
            relations={
                "zone": QueryRelation("zone", "zone", Cluster.zone_uuid, Zone.uuid),
                "host": QueryRelation("host", "host", Cluster.uuid, Host.cluster_uuid),
            },
            tag_resource_type="Cluster",
        ),
        cluster_inventory,
    )
]
