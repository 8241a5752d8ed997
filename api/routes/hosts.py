"""``/v1/hosts`` (ZStack §4.3): hosts added over SSH (their agent deployed) or
agents registered by token."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.auth import authenticate
from api.body import create_params, read_json, resource_uuid_of
from api.handlers import actions_endpoint, delete_endpoint
from api.listing import list_collection
from api.query import QueryableResource, QueryRelation
from api.resources import D, I, S, fields
from api.submit import build_request, submit
from schemas.infra import Cluster, Host
from schemas.infra_inventories import host_inventory
from schemas.infra_requests import AddKvmHostParams
from schemas.tables import Zone
from volplane.catalog.hosts import (
    ADD_KVM_HOST,
    CHANGE_HOST_STATE,
    DELETE_HOST,
    RECONNECT_HOST,
    UPDATE_HOST,
)
from volplane.operation import Operation

_ACTIONS: dict[str, Operation[Any]] = {
    "reconnectHost": RECONNECT_HOST,
    "changeHostState": CHANGE_HOST_STATE,
    "updateHost": UPDATE_HOST,
}
# Never recorded with the job: the token or password becomes a job secret.
_SECRET = ("agentToken", "password")
_SSH_ONLY = ("username", "sshPort")


async def add_kvm_host(request: Request) -> Response:
    caller = await authenticate(request)
    body = await read_json(request)
    params = create_params(body, path=request.path_params)
    checked = build_request(AddKvmHostParams, params)
    assert isinstance(checked, AddKvmHostParams)
    recorded = {k: v for k, v in params.items() if k not in _SECRET}
    if checked.agentToken is not None:  # an agent already running: no SSH at all
        recorded = {k: v for k, v in recorded.items() if k not in _SSH_ONLY}
        secrets = {"agentToken": checked.agentToken}
    else:
        assert checked.password is not None
        secrets = {"password": checked.password}
    resource_uuid = resource_uuid_of(params)
    return await submit(
        request,
        caller,
        ADD_KVM_HOST,
        recorded,
        resource_uuid=resource_uuid,
        raw_body=body,
        recorded_params=recorded,
        secrets=secrets,
    )


async def list_hosts(request: Request) -> Response:
    return await list_collection(request, "host")


host_actions = actions_endpoint(_ACTIONS, name="host_actions")


delete_host = delete_endpoint(DELETE_HOST, name="delete_host")


ROUTES = [
    Route("/v1/hosts/kvm", add_kvm_host, methods=["POST"]),
    Route("/v1/hosts", list_hosts, methods=["GET"]),
    Route("/v1/hosts/{uuid}", list_hosts, methods=["GET"]),
    Route("/v1/hosts/{uuid}", delete_host, methods=["DELETE"]),
    Route("/v1/hosts/{uuid}/actions", host_actions, methods=["PUT"]),
]

QUERYABLE = [
    (
        QueryableResource(
            name="host",
            model=Host,
            fields=fields(
                ("uuid", Host.uuid, S),
                ("name", Host.name, S),
                ("description", Host.description, S),
                ("zoneUuid", Host.zone_uuid, S),
                ("clusterUuid", Host.cluster_uuid, S),
                ("managementIp", Host.management_ip, S),
                ("agentPort", Host.agent_port, I),
                ("hypervisorType", Host.hypervisor_type, S),
                ("state", Host.state, S),
                ("status", Host.status, S),
                ("lastHeartbeat", Host.last_heartbeat, D),
                ("createDate", Host.create_date, D),
                ("lastOpDate", Host.last_op_date, D),
            ),
            relations={
                "zone": QueryRelation("zone", "zone", Host.zone_uuid, Zone.uuid),
                "cluster": QueryRelation("cluster", "cluster", Host.cluster_uuid, Cluster.uuid),
            },
            tag_resource_type="Host",
        ),
        host_inventory,
    )
]
