"""Manageable volume operations, declared: ``workers/operations/manage.py`` runs them."""

from __future__ import annotations

from schemas import manage_requests as rq
from volplane.operation import Operation


def _on_pool(req: rq.ManageVolume, resource_uuid: str | None) -> str:
    return f"PrimaryStorage:{req.primaryStorageUuid}"


MANAGE_VOLUME = Operation(
    "ManageVolume", rq.ManageVolume, "Volume", admin_only=True, sync_key=_on_pool
)
UNMANAGE_VOLUME = Operation("UnmanageVolume", rq.UnmanageVolume, "Volume", admin_only=True)
