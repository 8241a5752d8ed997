"""Cluster operations, declared: ``workers/operations/clusters.py`` runs them."""

from __future__ import annotations

from schemas import infra_requests as rq
from schemas.requests import DeleteResource
from volplane.operation import Operation

CREATE_CLUSTER = Operation("CreateCluster", rq.CreateCluster, "Cluster", admin_only=True)
UPDATE_CLUSTER = Operation("UpdateCluster", rq.UpdateCluster, "Cluster", admin_only=True)
CHANGE_CLUSTER_STATE = Operation(
    "ChangeClusterState", rq.ChangeClusterState, "Cluster", admin_only=True
)
DELETE_CLUSTER = Operation("DeleteCluster", DeleteResource, "Cluster", admin_only=True)
