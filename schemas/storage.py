"""Tables of volumes and their snapshot trees (``docs/image-layout.md`` for the files)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Float, ForeignKey, Index, String, Text, exists
from sqlalchemy.orm import Mapped, column_property, mapped_column

from schemas.states import ResourceState
from schemas.tables import Base, utcnow


class VolumeStatus(StrEnum):
    CREATING = "Creating"
    READY = "Ready"
    DELETING = "Deleting"
    ERROR = "Error"
    # ZStack's: deleted under the Delay policy, recoverable until expunged.
    DELETED = "Deleted"


class DiskOffering(Base):
    """ZStack's disk offering: a named size data volumes are created from."""

    __tablename__ = "disk_offerings"

    uuid: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    disk_size: Mapped[int] = mapped_column(BigInteger)
    sort_key: Mapped[int] = mapped_column(default=0)
    state: Mapped[str] = mapped_column(String(16), default="Enabled")
    type: Mapped[str] = mapped_column(String(64), default="DefaultDiskOfferingType")
    allocator_strategy: Mapped[str | None] = mapped_column(String(255), default=None)
    create_date: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_op_date: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Volume(Base):
    """A data volume: a head qcow2 image in a pool, on top of its snapshot tree."""

    __tablename__ = "volumes"
    __tenant_owner__ = "account_uuid"  # volplane.tenancy

    uuid: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    account_uuid: Mapped[str] = mapped_column(String(32), index=True)
    primary_storage_uuid: Mapped[str] = mapped_column(
        ForeignKey("primary_storage.uuid"), index=True
    )
    host_uuid: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    type: Mapped[str] = mapped_column(String(16), default="block")
    format: Mapped[str] = mapped_column(String(16), default="qcow2")
    size: Mapped[int] = mapped_column(BigInteger, default=0)  # virtual bytes
    actual_size: Mapped[int] = mapped_column(BigInteger, default=0)  # head's bytes on disk
    snapshot_size: Mapped[int] = mapped_column(BigInteger, default=0)  # snapshots' bytes
    snapshot_capacity: Mapped[int] = mapped_column(BigInteger, default=0)
    state: Mapped[str] = mapped_column(String(16), default=ResourceState.ENABLED, index=True)
    status: Mapped[str] = mapped_column(String(16), default=VolumeStatus.READY, index=True)
    install_path: Mapped[str] = mapped_column(String(1024))  # the head image
    # The image under the snapshot tree: a template (backingFile) or, for a linked
    # clone, the snapshot image it was cloned from. None: the tree stands alone.
    base_path: Mapped[str | None] = mapped_column(String(1024), default=None)
    # The snapshot the head sits on.
    current_snapshot_uuid: Mapped[str | None] = mapped_column(String(32), default=None)
    # Linked clones: the snapshot (of another volume) whose image is the base.
    parent_snapshot_uuid: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    # Full clones: where the data came from (the source is pinned while Creating).
    source_snapshot_uuid: Mapped[str | None] = mapped_column(String(32), default=None)
    clone_progress: Mapped[float | None] = mapped_column(Float, default=None)
    # The disk offering it was created from (kept when the offering is deleted).
    disk_offering_uuid: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    # When it became Deleted (ZStack's Delay policy): expunged an expunge period later.
    deleted_date: Mapped[datetime | None] = mapped_column(default=None, index=True)
    create_date: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_op_date: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class VolumeSnapshot(Base):
    """A frozen image of a volume, a node of the volume's snapshot tree."""

    __tablename__ = "volume_snapshots"
    __tenant_owner__ = "account_uuid"  # volplane.tenancy

    uuid: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    volume_uuid: Mapped[str] = mapped_column(
        ForeignKey("volumes.uuid", ondelete="CASCADE"), index=True
    )
    account_uuid: Mapped[str] = mapped_column(String(32), index=True)
    primary_storage_uuid: Mapped[str] = mapped_column(String(32), index=True)
    parent_uuid: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    install_path: Mapped[str] = mapped_column(String(1024))
    size: Mapped[int] = mapped_column(BigInteger, default=0)  # its image's bytes on disk
    volume_size: Mapped[int] = mapped_column(BigInteger, default=0)  # virtual size when taken
    state: Mapped[str] = mapped_column(String(16), default=ResourceState.ENABLED)
    status: Mapped[str] = mapped_column(String(16), default=VolumeStatus.READY, index=True)
    create_date: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_op_date: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_volume_snapshots_volume_created", "volume_uuid", "create_date"),)


# Whether the volume's head sits on the snapshot (ZStack's ``latest``), read with the
# row by a correlated subquery so that listings need no second query.
VolumeSnapshot.latest = column_property(
    exists().where(
        Volume.uuid == VolumeSnapshot.volume_uuid,
        Volume.current_snapshot_uuid == VolumeSnapshot.uuid,
    )
)
