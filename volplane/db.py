"""Engine and session factory: the one place that knows which database we talk to.

It is also the store's edge for errors: a database that is down, restarting or refusing
connections raises ``DatabaseUnavailable`` (a ``VolplaneError``, 503) from every query,
so no caller maps SQLAlchemy's errors again."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from volplane.errors import DatabaseUnavailable
from volplane.settings import Settings

log = logging.getLogger("volplane.db")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the gateway read while a worker writes; busy_timeout turns lock
    # contention between processes into a short wait instead of an error.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _outage(context: ExceptionContext) -> None:
    # A lost connection (server restart, failover) or a refused one is an outage, not a
    # bug. The pool still drops the broken connections before this is raised.
    if context.is_disconnect or isinstance(context.sqlalchemy_exception, OperationalError):
        log.warning("database unavailable")
        raise DatabaseUnavailable(
            str(context.original_exception)[:200]
        ) from context.sqlalchemy_exception


def make_engine(settings: Settings) -> Engine:
    url = settings.resolved_database_url()
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 10, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        # No pre-ping: it costs a round trip per checkout. A connection broken by a
        # server restart fails one statement, and the pool then drops all of them.
        engine = create_engine(url, pool_size=20, max_overflow=20, pool_recycle=3600)
    event.listen(engine, "handle_error", _outage)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
