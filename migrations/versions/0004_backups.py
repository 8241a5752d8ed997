"""volume backups

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

import schemas.tables

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "volume_backups",
        sa.Column("uuid", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("volume_uuid", sa.String(length=32), nullable=False),
        sa.Column("account_uuid", sa.String(length=32), nullable=False),
        sa.Column("backup_storage_uuid", sa.String(length=32), nullable=False),
        sa.Column("snapshot_uuid", sa.String(length=32), nullable=True),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("parent_uuid", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Float(), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("data_size", sa.BigInteger(), nullable=False),
        sa.Column("read_bytes", sa.BigInteger(), nullable=False),
        sa.Column("stored_bytes", sa.BigInteger(), nullable=False),
        sa.Column("chunk_count", sa.Integer(), nullable=False),
        sa.Column("new_chunk_count", sa.Integer(), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=True),
        sa.Column("create_date", schemas.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_op_date", schemas.tables.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("uuid"),
    )
    with op.batch_alter_table("volume_backups", schema=None) as batch_op:
        for column in (
            "name",
            "volume_uuid",
            "account_uuid",
            "backup_storage_uuid",
            "snapshot_uuid",
            "parent_uuid",
            "status",
            "create_date",
        ):
            batch_op.create_index(batch_op.f(f"ix_volume_backups_{column}"), [column], unique=False)
        batch_op.create_index(
            "ix_volume_backups_volume_created", ["volume_uuid", "create_date"], unique=False
        )


def downgrade() -> None:
    op.drop_table("volume_backups")
