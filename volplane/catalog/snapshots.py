"""Volume snapshot operations, declared: ``workers/operations/snapshots.py`` runs them."""

from __future__ import annotations

from typing import Any

from schemas import storage_requests as rq
from volplane.operation import Operation


def _by_volume(req: Any, resource_uuid: str | None) -> str:
    volume_uuid = getattr(req, "volumeUuid", None)
    if volume_uuid is None:  # the snapshot was not found at submission; the job says so
        return f"VolumeSnapshot:{getattr(req, 'uuid', resource_uuid)}"
    return f"Volume:{volume_uuid}"


CREATE_VOLUME_SNAPSHOT = Operation(
    "CreateVolumeSnapshot", rq.CreateVolumeSnapshot, "VolumeSnapshot", sync_key=_by_volume
)
REVERT_VOLUME_FROM_SNAPSHOT = Operation(
    "RevertVolumeFromSnapshot", rq.RevertVolumeFromSnapshot, "VolumeSnapshot", sync_key=_by_volume
)
DELETE_VOLUME_SNAPSHOT = Operation(
    "DeleteVolumeSnapshot", rq.DeleteVolumeSnapshot, "VolumeSnapshot", sync_key=_by_volume
)
UPDATE_VOLUME_SNAPSHOT = Operation(
    "UpdateVolumeSnapshot", rq.UpdateVolumeSnapshot, "VolumeSnapshot", sync_key=_by_volume
)
