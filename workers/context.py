"""What an operation may use while it runs, and how a worker module attaches its runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy.orm import Session

from drivers.client import AgentClient
from volplane.operation import Operation
from volplane.settings import Settings


class JobContext(Protocol):
    """What an operation may use while it runs."""

    # The job's session: its writes are committed with the job's end, fenced by the lease.
    # Before each agent call a transaction that wrote nothing is ended (transactions.py).
    session: Session
    settings: Settings
    job_uuid: str
    account_uuid: str
    is_admin: bool
    resource_uuid: str | None

    def progress(self, percent: int) -> None:
        """Reports progress (0-100) on the job."""

    def checkpoint(self) -> None:
        """Raises JobCancelled if cancellation was asked; a safe point to stop."""

    @property
    def cancel_requested(self) -> bool:
        """True once cancellation was asked (for agent calls' should_cancel)."""

    def secret(self, name: str) -> str | None:
        """A secret submitted with the job (see api.submit), if any."""

    def end_read_transaction(self) -> None:
        """Ends the job's transaction if it wrote nothing yet (done before every agent
        call; call it before other slow work, or before committing through a side
        session, so the job holds no connection meanwhile)."""

    def agent(self, base_url: str, token: str) -> AgentClient:
        """The typed client for the host agent at ``base_url``."""

    def op_id(self, step: str) -> str:
        """A stable agent operation id for ``step`` of this job: a rerun of the job
        after a worker died reattaches to the same agent operation."""


Run = Callable[[JobContext, Any], dict[str, Any]]
# What a module of workers/operations attaches: each declared operation's run.
Runs = dict[Operation[Any], Run]
