"""Operations: each one declared once, spoken by every API dialect.

An operation's declaration is its name, its request model, the resource it
serializes on (ZStack's sync signature) and whether only admins may call it.
Declarations live in ``volplane/catalog/``; a route names its operation by
importing the declaration, and a worker attaches the function it runs
(``workers/registry.py``). Nothing else knows what a "CreateZone" is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from volplane.errors import UnknownAction

RequestT = TypeVar("RequestT", bound=BaseModel)


@dataclass(frozen=True)
class Operation(Generic[RequestT]):
    api_name: str
    request_model: type[RequestT]
    resource_type: str
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
