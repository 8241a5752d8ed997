"""Clone operations, declared: ``workers/operations/clones.py`` runs them."""

from __future__ import annotations

from schemas import storage_requests as rq
from volplane.operation import Operation


def _on_source_volume(req: rq.CreateDataVolumeFromSnapshot, resource_uuid: str | None) -> str:
    if req.sourceVolumeUuid is None:  # the snapshot was not found at submission
        return f"VolumeSnapshot:{req.snapshotUuid}"
    return f"Volume:{req.sourceVolumeUuid}"


CREATE_DATA_VOLUME_FROM_VOLUME_SNAPSHOT = Operation(
    "CreateDataVolumeFromVolumeSnapshot",
    rq.CreateDataVolumeFromSnapshot,
    "Volume",
    sync_key=_on_source_volume,
)
