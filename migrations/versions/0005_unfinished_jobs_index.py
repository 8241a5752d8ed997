"""partial index of unfinished jobs per sync key

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UNFINISHED = sa.text("state IN ('Pending', 'Running')")


def upgrade() -> None:
    op.create_index(
        "ix_api_jobs_unfinished_sync_key",
        "api_jobs",
        ["sync_key", "id"],
        postgresql_where=UNFINISHED,
        sqlite_where=UNFINISHED,
    )


def downgrade() -> None:
    op.drop_index("ix_api_jobs_unfinished_sync_key", table_name="api_jobs")
