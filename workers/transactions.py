"""Agent steps run with no database transaction open.

An operation reads (and locks) rows through the job's session and writes its results
there; they are committed with the job's end, fenced by its lease. Agent steps can take
minutes, and a transaction left open across them keeps its row locks and a pooled
connection (PostgreSQL shows it ``idle in transaction``): twenty long copies would hold
twenty connections doing nothing. So before each agent call the job's transaction is
ended if it has written nothing yet. A read-only transaction commits nothing and the
rows it loaded stay loaded (the sessions do not expire on commit); what protects them
during the copy is the job's sync key, not locks held across it. The writes that follow
the agent steps open a new transaction, short, that ends with the job.

An operation that must reserve something before a long step commits the reservation in
a side session of its own at once (a full clone's ``Creating`` row) and removes it on
failure or cancel.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from drivers.client import AgentClient

log = logging.getLogger("volplane.runner")


class ReadOnlyTransactions:
    """Watches one session: ``end_if_read_only`` ends its transaction when nothing was
    written in it (no flush, nothing pending)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._wrote = False
        event.listen(session, "after_flush", self._flushed)
        event.listen(session, "after_transaction_end", self._ended)

    def _flushed(self, session: Session, context: Any) -> None:
        self._wrote = True

    def _ended(self, session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None:
            self._wrote = False

    def end_if_read_only(self) -> bool:
        """Ends the session's transaction if it wrote nothing; True when none is open."""
        session = self.session
        if not session.in_transaction():
            return True
        if self._wrote or session.new or session.dirty or session.deleted:
            log.debug("agent call inside a transaction that wrote; it stays open")
            return False
        session.commit()  # nothing to write: ends the transaction, keeps the objects
        return True

    def close(self) -> None:
        event.remove(self.session, "after_flush", self._flushed)
        event.remove(self.session, "after_transaction_end", self._ended)


class _OutsideTransaction:
    """An ``AgentClient`` whose every call first ends the job's read-only transaction."""

    def __init__(self, client: AgentClient, before_call: Callable[[], object]) -> None:
        self._client = client
        self._before_call = before_call

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if name.startswith("_") or not callable(attr):
            return attr

        @functools.wraps(attr)
        def call(*args: Any, **kwargs: Any) -> Any:
            self._before_call()
            return attr(*args, **kwargs)

        return call


def outside_transaction(client: AgentClient, transactions: ReadOnlyTransactions) -> AgentClient:
    return cast(AgentClient, _OutsideTransaction(client, transactions.end_if_read_only))
