"""The database tables. Schema changes go through Alembic (``migrations/``)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from schemas.states import ResourceState
from volplane.jobs import UNFINISHED_STATES


def new_uuid() -> str:
    """A ZStack-style uuid: a v4 UUID as 32 lowercase hex digits."""
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_millisecond(value: datetime) -> datetime:
    """The precision every date is stored and shown with."""
    return value.replace(microsecond=value.microsecond - value.microsecond % 1000)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops tzinfo), stored at
    the millisecond: the precision inventories show them with, so a date read from a
    reply and sent back names exactly the stored value (queries, keyset paging)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return to_millisecond(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON}


class Account(Base):
    __tablename__ = "accounts"
    __tenant_owner__ = "uuid"  # a tenant sees its own account (volplane.tenancy)

    uuid: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_uuid)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    webhook_secret: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    create_date: Mapped[datetime] = mapped_column(default=utcnow)
    last_op_date: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Session(Base):
    __tablename__ = "sessions"

    uuid: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_uuid)
    account_uuid: Mapped[str] = mapped_column(
        ForeignKey("accounts.uuid", ondelete="CASCADE"), index=True
    )
    create_date: Mapped[datetime] = mapped_column(default=utcnow)
    last_used: Mapped[datetime] = mapped_column(default=utcnow)
    expired_date: Mapped[datetime] = mapped_column(index=True)


_UNFINISHED_SQL = "state IN ({})".format(", ".join(f"'{s}'" for s in UNFINISHED_STATES))


class ApiJob(Base):
    """One accepted asynchronous call. ``id`` orders jobs by acceptance."""

    __tablename__ = "api_jobs"
    __tenant_owner__ = "account_uuid"  # volplane.tenancy

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    uuid: Mapped[str] = mapped_column(String(32), unique=True)
    account_uuid: Mapped[str] = mapped_column(String(32), index=True)
    api_name: Mapped[str] = mapped_column(String(100), index=True)
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    request_digest: Mapped[str] = mapped_column(String(64))
    resource_type: Mapped[str | None] = mapped_column(String(64), default=None)
    resource_uuid: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    sync_key: Mapped[str] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(16), index=True)
    progress: Mapped[int | None] = mapped_column(Integer, default=None)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    base_url: Mapped[str] = mapped_column(String(512))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_token: Mapped[str | None] = mapped_column(String(32), default=None)
    lease_expires: Mapped[datetime | None] = mapped_column(default=None)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    dispatched_at: Mapped[datetime | None] = mapped_column(default=None)
    create_date: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    start_date: Mapped[datetime | None] = mapped_column(default=None)
    finish_date: Mapped[datetime | None] = mapped_column(default=None, index=True)
    webhook_url: Mapped[str | None] = mapped_column(String(2048), default=None)
    webhook_state: Mapped[str | None] = mapped_column(String(16), default=None, index=True)
    webhook_next_attempt: Mapped[datetime | None] = mapped_column(default=None)
    # Start of the current delivery effort: the give-up horizon counts from here,
    # and a redelivery request starts a new effort.
    webhook_since: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (
        Index("ix_api_jobs_sync_key_id", "sync_key", "id"),
        # Unfinished work per resource, kept small however long the history: the
        # ordering checks (admission, claim, next in line) probe it.
        Index(
            "ix_api_jobs_unfinished_sync_key",
            "sync_key",
            "id",
            postgresql_where=text(_UNFINISHED_SQL),
            sqlite_where=text(_UNFINISHED_SQL),
        ),
    )


class WebhookDelivery(Base):
    """One attempt to push a job's result to its webhook."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    job_uuid: Mapped[str] = mapped_column(
        ForeignKey("api_jobs.uuid", ondelete="CASCADE"), index=True
    )
    attempt: Mapped[int] = mapped_column(Integer)
    date: Mapped[datetime] = mapped_column(default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    latency_ms: Mapped[float | None] = mapped_column(Float, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)


class JobSecret(Base):
    """A secret a job needs (an agent token, a share password), kept out of the job
    record and deleted when the job ends."""

    __tablename__ = "job_secrets"

    job_uuid: Mapped[str] = mapped_column(
        ForeignKey("api_jobs.uuid", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ResourceTag(Base):
    """A user or system tag on any resource (ZStack ``userTags``/``systemTags``)."""

    __tablename__ = "resource_tags"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    resource_uuid: Mapped[str] = mapped_column(String(32), index=True)
    resource_type: Mapped[str] = mapped_column(String(64))
    tag_type: Mapped[str] = mapped_column(String(8))  # "user" | "system"
    tag: Mapped[str] = mapped_column(String(1024))
    create_date: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_resource_tags_tag", "tag_type", "tag"),)


class Zone(Base):
    __tablename__ = "zones"

    uuid: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    state: Mapped[str] = mapped_column(String(16), default=ResourceState.ENABLED, index=True)
    type: Mapped[str] = mapped_column(String(32), default="zstack")
    create_date: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_op_date: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
