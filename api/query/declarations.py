"""What can be queried: resources, their fields and the relations between them.

Each queryable resource is declared once (``QueryableResource``) and registered in a
``QueryRegistry``. The compiler, the parameter validation and ``docs/query.md`` all read
these declarations, so a field that is queryable is also documented.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import InstrumentedAttribute

from volplane.errors import InvalidQuery


class FieldKind(StrEnum):
    """How a condition's text value is read before it is compared with the column."""

    STRING = "string"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    DATETIME = "datetime"


@dataclass(frozen=True)
class QueryField:
    """A native field: its camelCase API name and the mapped column behind it.

    ``values``, for a text field shown under other names than stored (ZStack's
    ``LocalStorage`` for a stored ``local-storage``), maps stored → shown; conditions
    then compare the shown values.
    """

    name: str
    column: InstrumentedAttribute[Any]
    kind: FieldKind
    values: Mapping[str, str] | None = None


@dataclass(frozen=True)
class QueryRelation:
    """A hop to another resource; a row of ``target`` is related when
    ``target.remote == this.local``."""

    name: str
    target: str
    local: InstrumentedAttribute[Any]
    remote: InstrumentedAttribute[Any]


@dataclass(frozen=True)
class QueryableResource:
    """One resource as the query language sees it.

    Which rows a caller sees is ``volplane.tenancy``'s rule for ``model``, here and
    whenever a condition reaches this resource through a relation.
    ``tag_resource_type`` is the ``ResourceTag.resource_type`` used by
    ``__userTag__``/``__systemTag__`` conditions (which need a ``uuid`` field).
    """

    name: str
    model: type
    fields: Mapping[str, QueryField]
    relations: Mapping[str, QueryRelation] = field(default_factory=dict)
    tag_resource_type: str | None = None
    default_sort: str = "createDate"

    def describe(self) -> str:
        """The valid segments after this resource, for error messages."""
        fields = ", ".join(sorted(self.fields)) or "none"
        relations = ", ".join(sorted(self.relations)) or "none"
        return f"fields of {self.name}: {fields}; relations: {relations}"


class QueryRegistry:
    """The queryable resources by name."""

    def __init__(self, resources: Iterable[QueryableResource] = ()) -> None:
        self._resources: dict[str, QueryableResource] = {}
        for resource in resources:
            self.register(resource)

    def register(self, resource: QueryableResource) -> None:
        if resource.name in self._resources:
            raise ValueError(f"query resource {resource.name!r} registered twice")
        for name, declared in resource.fields.items():
            if name != declared.name:
                raise ValueError(f"{resource.name}: field key {name!r} != {declared.name!r}")
        for name, relation in resource.relations.items():
            if name != relation.name:
                raise ValueError(f"{resource.name}: relation key {name!r} != {relation.name!r}")
            if name in resource.fields:
                raise ValueError(f"{resource.name}: {name!r} is both a field and a relation")
        self._resources[resource.name] = resource

    def get(self, name: str) -> QueryableResource:
        try:
            return self._resources[name]
        except KeyError:
            raise InvalidQuery(f"{name!r} is not a queryable resource") from None

    def check(self) -> None:
        """Fails when a relation points at an unregistered resource (call after registering)."""
        for resource in self:
            for relation in resource.relations.values():
                if relation.target not in self._resources:
                    raise ValueError(
                        f"{resource.name}.{relation.name} targets unknown {relation.target!r}"
                    )

    def names(self) -> list[str]:
        return sorted(self._resources)

    def __iter__(self) -> Iterator[QueryableResource]:
        return iter(self._resources.values())

    def __contains__(self, name: object) -> bool:
        return name in self._resources
