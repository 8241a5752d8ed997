"""The table of volume backups (manifests and chunks live on the backup storage)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from schemas.tables import Base, utcnow


class BackupStatus(StrEnum):
    """``BackupStarted`` is share-storage's word (seed 001) for a backup being made."""

    STARTED = "BackupStarted"
    READY = "Ready"
    DELETING = "Deleting"
    FAILED = "Failed"


class BackupMode:
    FULL = "full"
    INCREMENTAL = "incremental"


class VolumeBackup(Base):
    """One backup of a volume: its manifest ``manifests/<uuid>.json`` on the backup storage."""

    __tablename__ = "volume_backups"
    __tenant_owner__ = "account_uuid"  # volplane.tenancy

    uuid: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    # Not a foreign key: a backup outlives its volume.
    volume_uuid: Mapped[str] = mapped_column(String(32), index=True)
    account_uuid: Mapped[str] = mapped_column(String(32), index=True)
    # Not a foreign key either: deleting a backup storage must not fail on its backups.
    backup_storage_uuid: Mapped[str] = mapped_column(String(32), index=True)
    snapshot_uuid: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    mode: Mapped[str] = mapped_column(String(16), default=BackupMode.FULL)
    parent_uuid: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    status: Mapped[str] = mapped_column(String(16), default=BackupStatus.STARTED, index=True)
    progress: Mapped[float | None] = mapped_column(Float, default=None)
    size: Mapped[int] = mapped_column(BigInteger, default=0)  # the volume's virtual size
    data_size: Mapped[int] = mapped_column(BigInteger, default=0)  # bytes its chunks cover
    read_bytes: Mapped[int] = mapped_column(BigInteger, default=0)  # read from the image
    stored_bytes: Mapped[int] = mapped_column(BigInteger, default=0)  # new, compressed
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)
    new_chunk_count: Mapped[int] = mapped_column(Integer, default=0)
    checksum: Mapped[str | None] = mapped_column(String(64), default=None)
    create_date: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_op_date: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_volume_backups_volume_created", "volume_uuid", "create_date"),)
