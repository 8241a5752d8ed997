"""Disk offering operations, declared: ``workers/operations/disk_offerings.py`` runs them."""

from __future__ import annotations

from schemas import storage_requests as rq
from schemas.requests import DeleteResource
from volplane.operation import Operation

CREATE_DISK_OFFERING = Operation(
    "CreateDiskOffering", rq.CreateDiskOffering, "DiskOffering", admin_only=True
)
UPDATE_DISK_OFFERING = Operation(
    "UpdateDiskOffering", rq.UpdateDiskOffering, "DiskOffering", admin_only=True
)
CHANGE_DISK_OFFERING_STATE = Operation(
    "ChangeDiskOfferingState", rq.ChangeDiskOfferingState, "DiskOffering", admin_only=True
)
DELETE_DISK_OFFERING = Operation(
    "DeleteDiskOffering", DeleteResource, "DiskOffering", admin_only=True
)
