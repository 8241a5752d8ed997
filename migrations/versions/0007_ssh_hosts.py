"""Hosts added over SSH: their login (never the password) and the management key

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

import schemas.tables

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("hosts", sa.Column("ssh_username", sa.String(255), nullable=True))
    op.add_column("hosts", sa.Column("ssh_port", sa.Integer(), nullable=True))
    op.create_table(
        "management_keys",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("private_key", sa.Text(), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("create_date", schemas.tables.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("management_keys")
    op.drop_column("hosts", "ssh_port")
    op.drop_column("hosts", "ssh_username")
