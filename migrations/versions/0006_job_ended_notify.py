"""PostgreSQL: announce each job's end on the volplane_job_ended channel

Long-polls hear of the end at once instead of polling for it (volplane.store.
pg_job_ends). The notice goes out when the ending transaction commits. SQLite has
no such thing; there the gateway keeps polling.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE FUNCTION volplane_job_ended() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('volplane_job_ended', NEW.uuid);
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER api_jobs_ended AFTER UPDATE OF state ON api_jobs FOR EACH ROW
        WHEN (OLD.state IN ('Pending', 'Running')
              AND NEW.state IN ('Succeeded', 'Failed', 'Cancelled'))
        EXECUTE FUNCTION volplane_job_ended()
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER api_jobs_ended ON api_jobs")
    op.execute("DROP FUNCTION volplane_job_ended()")
