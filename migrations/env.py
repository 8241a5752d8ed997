"""Alembic environment: the URL comes from volplane's settings (or the caller)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

import schemas.backups
import schemas.infra
import schemas.storage  # noqa: F401 - each module of tables adds them to Base.metadata
from schemas.tables import Base
from volplane.settings import Settings

config = context.config
url = config.get_main_option("sqlalchemy.url") or Settings().resolved_database_url()


def run() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _migrate(connectable)
        return
    engine = engine_from_config(
        {"sqlalchemy.url": url}, prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with engine.connect() as connection:
        _migrate(connection)


def _migrate(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=Base.metadata,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
