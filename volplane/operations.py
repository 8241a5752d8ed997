"""Operations: each one declared once, spoken by every API dialect.

An operation is its request model, the resource it serializes on (ZStack's sync
signature) and the function a worker runs. The gateway turns an HTTP call into
``(operation, request, resource uuid)``; the worker runs it; nothing else knows
what a "CreateZone" is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from pydantic import BaseModel
from sqlalchemy.orm import Session

from volplane.errors import UnknownAction

if TYPE_CHECKING:
    from drivers.client import AgentClient
from volplane.settings import Settings

RequestT = TypeVar("RequestT", bound=BaseModel)


class JobContext(Protocol):
    """What an operation may use while it runs."""

    session: Session  # the operation's transaction; committed with the job's end
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

    def agent(self, base_url: str, token: str) -> AgentClient:
        """The typed client for the host agent at ``base_url``."""

    def op_id(self, step: str) -> str:
        """A stable agent operation id for ``step`` of this job: a rerun of the job
        after a worker died reattaches to the same agent operation."""


@dataclass(frozen=True)
class Operation(Generic[RequestT]):
    api_name: str
    request_model: type[RequestT]
    resource_type: str
    run: Callable[[JobContext, RequestT], dict[str, Any]]
    admin_only: bool = False
    # Which key the job serializes on; default: "<resource_type>:<resource uuid>".
    sync_key: Callable[[RequestT, str | None], str] | None = None

    def sync_key_for(self, request: RequestT, resource_uuid: str | None) -> str:
        if self.sync_key is not None:
            return self.sync_key(request, resource_uuid)
        if resource_uuid is None:
            return f"{self.resource_type}:*"
        return f"{self.resource_type}:{resource_uuid}"


@dataclass
class OperationRegistry:
    operations: dict[str, Operation[Any]] = field(default_factory=dict)

    def add(self, op: Operation[Any]) -> Operation[Any]:
        if op.api_name in self.operations:
            raise ValueError(f"operation {op.api_name} declared twice")
        self.operations[op.api_name] = op
        return op

    def get(self, api_name: str) -> Operation[Any]:
        try:
            return self.operations[api_name]
        except KeyError:
            raise UnknownAction(f"unknown operation {api_name}") from None

    def __contains__(self, api_name: object) -> bool:
        return api_name in self.operations

    def __iter__(self) -> Iterator[Operation[Any]]:
        return iter(self.operations.values())
