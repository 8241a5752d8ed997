"""ZStack's cluster-wide local storage: each host's share of a pool and its capacity

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

import schemas.tables

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "local_storage_host_refs",
        sa.Column("primary_storage_uuid", sa.String(32), nullable=False),
        sa.Column("host_uuid", sa.String(32), nullable=False),
        sa.Column("total_capacity", sa.BigInteger(), nullable=False),
        sa.Column("available_capacity", sa.BigInteger(), nullable=False),
        sa.Column("total_physical_capacity", sa.BigInteger(), nullable=False),
        sa.Column("available_physical_capacity", sa.BigInteger(), nullable=False),
        sa.Column("create_date", schemas.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_op_date", schemas.tables.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["primary_storage_uuid"], ["primary_storage.uuid"], ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["host_uuid"], ["hosts.uuid"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("primary_storage_uuid", "host_uuid"),
    )
    with op.batch_alter_table("local_storage_host_refs") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_local_storage_host_refs_host_uuid"), ["host_uuid"], unique=False
        )


def downgrade() -> None:
    op.drop_table("local_storage_host_refs")
