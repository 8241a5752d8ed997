"""Global configuration operations, declared: ``workers/operations/global_config.py`` runs them."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from schemas.requests import RequestModel, Uuid
from volplane import global_config
from volplane.operation import Operation

Threshold = Annotated[float, Field(gt=0, le=100)]


class UpdateGlobalConfig(RequestModel):
    clusterUuid: Uuid | None = None
    StorOverAllocationThreshold: Threshold | None = None
    CPUOverAllocationThreshold: Threshold | None = None
    MemOverAllocationThreshold: Threshold | None = None
    USDOverAllocationThreshold: Threshold | None = None

    def changes(self) -> dict[str, float]:
        return {
            key: value for key in global_config.KEYS if (value := getattr(self, key)) is not None
        }


def _on_scope(req: UpdateGlobalConfig, resource_uuid: str | None) -> str:
    return f"GlobalConfig:{req.clusterUuid or global_config.GLOBAL_SCOPE}"


UPDATE_GLOBAL_CONFIG = Operation(
    "UpdateGlobalConfig", UpdateGlobalConfig, "GlobalConfig", admin_only=True, sync_key=_on_scope
)
