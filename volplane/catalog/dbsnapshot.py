"""Database snapshot operations, declared: ``workers/operations/dbsnapshot.py`` runs them."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import StringConstraints

from schemas.requests import RequestModel, Uuid
from volplane.db_snapshots import SNAPSHOT_NAME
from volplane.operation import Operation


class SaveDatabaseSnapshot(RequestModel):
    clusterUuid: Uuid | None = None


class DeleteDatabaseSnapshot(RequestModel):
    fileName: Annotated[str, StringConstraints(pattern=SNAPSHOT_NAME)]
    clusterUuid: Uuid | None = None


def _one_at_a_time(req: Any, resource_uuid: str | None) -> str:
    return "DatabaseSnapshot:*"


SAVE_DATABASE_SNAPSHOT = Operation(
    "SaveDatabaseSnapshot",
    SaveDatabaseSnapshot,
    "DatabaseSnapshot",
    admin_only=True,
    sync_key=_one_at_a_time,
)
DELETE_DATABASE_SNAPSHOT = Operation(
    "DeleteDatabaseSnapshot",
    DeleteDatabaseSnapshot,
    "DatabaseSnapshot",
    admin_only=True,
    sync_key=_one_at_a_time,
)
