"""Cluster inspection operations, declared: ``workers/operations/inspection.py`` runs them."""

from __future__ import annotations

from schemas.requests import RequestModel, Uuid
from volplane.operation import Operation


class InspectCluster(RequestModel):
    """With no ``check*`` flag set, everything is checked."""

    clusterUuid: Uuid
    checkSystem: bool = False
    checkNetwork: bool = False
    checkHardware: bool = False


INSPECT_CLUSTER = Operation(
    "InspectCluster",
    InspectCluster,
    "Cluster",
    admin_only=True,
    sync_key=lambda req, uuid: f"Inspection:{req.clusterUuid}",
)
