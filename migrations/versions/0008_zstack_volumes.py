"""ZStack's disk offerings, the offering a volume came from, and Deleted volumes

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

import schemas.tables

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "disk_offerings",
        sa.Column("uuid", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("disk_size", sa.BigInteger(), nullable=False),
        sa.Column("sort_key", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("allocator_strategy", sa.String(length=255), nullable=True),
        sa.Column("create_date", schemas.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_op_date", schemas.tables.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("uuid"),
    )
    with op.batch_alter_table("disk_offerings", schema=None) as batch_op:
        for column in ("name", "create_date"):
            batch_op.create_index(f"ix_disk_offerings_{column}", [column], unique=False)
    with op.batch_alter_table("volumes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("disk_offering_uuid", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("deleted_date", schemas.tables.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index("ix_volumes_disk_offering_uuid", ["disk_offering_uuid"])
        batch_op.create_index("ix_volumes_deleted_date", ["deleted_date"])


def downgrade() -> None:
    with op.batch_alter_table("volumes", schema=None) as batch_op:
        batch_op.drop_index("ix_volumes_deleted_date")
        batch_op.drop_index("ix_volumes_disk_offering_uuid")
        batch_op.drop_column("deleted_date")
        batch_op.drop_column("disk_offering_uuid")
    op.drop_table("disk_offerings")
