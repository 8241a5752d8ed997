"""Volume operations, declared: ``workers/operations/volumes.py`` runs them."""

from __future__ import annotations

from schemas import storage_requests as rq
from volplane.operation import Operation

CREATE_DATA_VOLUME = Operation("CreateDataVolume", rq.CreateDataVolume, "Volume")
DELETE_VOLUME = Operation("DeleteVolume", rq.DeleteVolume, "Volume")
RESIZE_DATA_VOLUME = Operation("ResizeDataVolume", rq.ResizeDataVolume, "Volume")
SYNC_VOLUME_SIZE = Operation("SyncVolumeSize", rq.VolumeRef, "Volume")
UPDATE_VOLUME = Operation("UpdateVolume", rq.UpdateVolume, "Volume")
CHANGE_VOLUME_STATE = Operation("ChangeVolumeState", rq.ChangeVolumeState, "Volume")
FLATTEN_VOLUME = Operation("FlattenVolume", rq.VolumeRef, "Volume")
# ZStack's deletion lifecycle (volume.deletionPolicy Delay): see volplane/zstack_config.py.
EXPUNGE_DATA_VOLUME = Operation("ExpungeDataVolume", rq.VolumeRef, "Volume")
RECOVER_DATA_VOLUME = Operation("RecoverDataVolume", rq.VolumeRef, "Volume")
