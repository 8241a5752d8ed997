"""volumes and volume snapshots

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

import schemas.tables

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _dates() -> list[sa.Column[object]]:
    return [
        sa.Column("create_date", schemas.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_op_date", schemas.tables.UTCDateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "volumes",
        sa.Column("uuid", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("account_uuid", sa.String(length=32), nullable=False),
        sa.Column("primary_storage_uuid", sa.String(length=32), nullable=False),
        sa.Column("host_uuid", sa.String(length=32), nullable=True),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("actual_size", sa.BigInteger(), nullable=False),
        sa.Column("snapshot_size", sa.BigInteger(), nullable=False),
        sa.Column("snapshot_capacity", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("install_path", sa.String(length=1024), nullable=False),
        sa.Column("base_path", sa.String(length=1024), nullable=True),
        sa.Column("current_snapshot_uuid", sa.String(length=32), nullable=True),
        sa.Column("parent_snapshot_uuid", sa.String(length=32), nullable=True),
        sa.Column("source_snapshot_uuid", sa.String(length=32), nullable=True),
        sa.Column("clone_progress", sa.Float(), nullable=True),
        *_dates(),
        sa.ForeignKeyConstraint(["primary_storage_uuid"], ["primary_storage.uuid"]),
        sa.PrimaryKeyConstraint("uuid"),
    )
    with op.batch_alter_table("volumes", schema=None) as batch_op:
        for column in (
            "name",
            "account_uuid",
            "primary_storage_uuid",
            "host_uuid",
            "state",
            "status",
            "parent_snapshot_uuid",
            "create_date",
        ):
            batch_op.create_index(batch_op.f(f"ix_volumes_{column}"), [column], unique=False)

    op.create_table(
        "volume_snapshots",
        sa.Column("uuid", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("volume_uuid", sa.String(length=32), nullable=False),
        sa.Column("account_uuid", sa.String(length=32), nullable=False),
        sa.Column("primary_storage_uuid", sa.String(length=32), nullable=False),
        sa.Column("parent_uuid", sa.String(length=32), nullable=True),
        sa.Column("install_path", sa.String(length=1024), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("volume_size", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        *_dates(),
        sa.ForeignKeyConstraint(["volume_uuid"], ["volumes.uuid"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("uuid"),
    )
    with op.batch_alter_table("volume_snapshots", schema=None) as batch_op:
        for column in (
            "name",
            "volume_uuid",
            "account_uuid",
            "primary_storage_uuid",
            "parent_uuid",
            "status",
            "create_date",
        ):
            batch_op.create_index(
                batch_op.f(f"ix_volume_snapshots_{column}"), [column], unique=False
            )
        batch_op.create_index(
            "ix_volume_snapshots_volume_created", ["volume_uuid", "create_date"], unique=False
        )


def downgrade() -> None:
    op.drop_table("volume_snapshots")
    op.drop_table("volumes")
