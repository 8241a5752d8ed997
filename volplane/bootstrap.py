"""Preparing a database: migrations to head, then the first admin account."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from volplane.settings import Settings

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def migrate(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(settings.resolved_database_url()), "head")


def prepare_database(settings: Settings) -> None:
    from client.signing import new_secret
    from volplane.db import make_engine, make_session_factory
    from volplane.store.accounts import AccountStore

    migrate(settings)
    engine = make_engine(settings)
    try:
        accounts = AccountStore(make_session_factory(engine), session_timeout=1)
        accounts.ensure_admin(settings.admin_name, settings.admin_password, new_secret())
    finally:
        engine.dispose()
