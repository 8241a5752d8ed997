"""ZStack's local storage operations, declared: ``workers/operations/local_storage.py``
runs them."""

from __future__ import annotations

from schemas import storage_requests as rq
from volplane.operation import Operation

LOCAL_STORAGE_MIGRATE_VOLUME = Operation(
    "LocalStorageMigrateVolume", rq.LocalStorageMigrateVolume, "Volume", admin_only=True
)
