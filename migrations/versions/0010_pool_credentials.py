"""Network pools keep how they are reached: mount options and a share's password

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("primary_storage", sa.Column("mount_options", sa.JSON(), nullable=True))
    op.add_column("primary_storage", sa.Column("password", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("primary_storage", "password")
    op.drop_column("primary_storage", "mount_options")
