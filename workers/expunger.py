"""The periodic expunge of Deleted volumes (ZStack's Delay deletion policy).

Run by Celery beat every ``volume_expunge_interval_seconds``. A volume Deleted longer
than ``volume.expungePeriod`` gets an ExpungeDataVolume job like any other: serialized
on the volume, run by a worker through its pool's agent, recorded with its result.
The job's uuid is derived from the volume and the moment it was deleted, so two beats
(or two beat processes) ask for it once; a volume recovered and deleted again is a
new deletion with a new job.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from schemas.storage import Volume, VolumeStatus
from schemas.tables import utcnow
from volplane.jobs import request_digest
from volplane.runtime import Runtime
from volplane.store.jobs import NewJob, Submission
from volplane.zstack_config import volume_deletion

_NAMESPACE = uuid.UUID("5f0c5c1e-7f53-4f0e-9a39-56a1d6c0e1b7")
BATCH = 500


def expunge_job_uuid(volume_uuid: str, deleted: str) -> str:
    return uuid.uuid5(_NAMESPACE, f"{volume_uuid}:{deleted}").hex


def expunge_due(runtime: Runtime) -> int:
    """Submits the expunge jobs now due; how many were new."""
    settings = runtime.settings
    with runtime.sessions() as session:
        period = volume_deletion(session, settings).expunge_period_seconds
        cutoff = utcnow() - timedelta(seconds=period)
        due = session.execute(
            select(Volume.uuid, Volume.account_uuid, Volume.deleted_date)
            .where(Volume.status == VolumeStatus.DELETED, Volume.deleted_date <= cutoff)
            .order_by(Volume.deleted_date)
            .limit(BATCH)
        ).all()
    batch = [
        NewJob(
            uuid=expunge_job_uuid(volume_uuid, str(deleted)),
            account_uuid=account_uuid,
            api_name="ExpungeDataVolume",
            request={"params": {"uuid": volume_uuid}},
            request_digest=request_digest(
                method="PUT",
                path=f"/v1/volumes/{volume_uuid}/actions",
                body={"expungeDataVolume": {}},
                webhook_url=None,
            ),
            resource_type="Volume",
            resource_uuid=volume_uuid,
            sync_key=f"Volume:{volume_uuid}",
            base_url=settings.public_url.rstrip("/"),
            webhook_url=None,
            uuid_from_client=True,  # a second ask finds the first job
        )
        for volume_uuid, account_uuid, deleted in due
    ]
    if not batch:
        return 0
    submitted = [s for s in runtime.jobs.submit_many(batch) if isinstance(s, Submission)]
    runtime.dispatch([s.job_uuid for s in submitted if s.should_dispatch])
    return sum(1 for s in submitted if s.is_new)
