"""Engine and session factory: the one place that knows which database we talk to.

It is also the store's edge for errors: a database that is down, restarting or refusing
connections raises ``DatabaseUnavailable`` (a ``VolplaneError``, 503) from every query,
so no caller maps SQLAlchemy's errors again."""

from __future__ import annotations

import logging
import select
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DisconnectionError, OperationalError
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


def closed_by_server(fileno: int) -> bool:
    """Whether an idle connection's socket has something to read.

    An idle PostgreSQL connection is sent nothing, except its end: a server that
    restarts, or terminates the backend, sends a FATAL error and closes the socket.
    Looking costs one non-blocking ``poll`` on the socket, no round trip.
    """
    poller = select.poll()
    poller.register(fileno, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


def _drop_if_closed_by_server(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    # The pool discards a connection whose checkout raises this and hands out
    # another one (a new one once the stale ones are gone): no request fails.
    try:
        closed = dbapi_connection.closed or closed_by_server(dbapi_connection.fileno())
    except Exception as exc:  # a socket that is gone altogether
        raise DisconnectionError("the pooled connection is unusable") from exc
    if closed:
        raise DisconnectionError("the server closed this pooled connection")


def make_engine(settings: Settings) -> Engine:
    url = settings.resolved_database_url()
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 10, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        # No pre-ping (a round trip per checkout): a connection the server closed (a
        # restart, a terminated backend) is seen on its socket at checkout and replaced.
        engine = create_engine(url, pool_size=20, max_overflow=20, pool_recycle=3600)
        event.listen(engine, "checkout", _drop_if_closed_by_server)
    event.listen(engine, "handle_error", _outage)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
