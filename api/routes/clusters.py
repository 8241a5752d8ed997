"""``/v1/clusters`` (ZStack §4.2)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.auth import authenticate
from api.body import create_params, read_json
from api.handlers import actions_endpoint, delete_endpoint
from api.listing import list_collection
from api.query import QueryableResource, QueryRelation
from api.resources import D, S, fields
from api.submit import submit
from schemas.infra import Cluster, Host
from schemas.infra_inventories import cluster_inventory
from schemas.tables import Zone, new_uuid

_ACTIONS = {"updateCluster": "UpdateCluster", "changeClusterState": "ChangeClusterState"}


async def create_cluster(request: Request) -> Response:
    caller = await authenticate(request)
    body = await read_json(request)
    params = create_params(body)
    resource_uuid = params.get("resourceUuid") or new_uuid()
    return await submit(
        request, caller, "CreateCluster", params, resource_uuid=resource_uuid, raw_body=body
    )


async def list_clusters(request: Request) -> Response:
    return await list_collection(request, "cluster")


cluster_actions = actions_endpoint(_ACTIONS, name="cluster_actions")


delete_cluster = delete_endpoint("DeleteCluster", name="delete_cluster")


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
