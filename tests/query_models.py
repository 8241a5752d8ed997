"""A small test-only schema for the query language, deterministic data for it, and a
pure-Python reference evaluator the compiled SQL is checked against.

zone <- cluster, zone <- primaryStorage <- volume <- snapshot; volumes and snapshots
belong to accounts (a snapshot's account may differ from its volume's, so tenant checks
at every relation hop are visible in results).
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st
from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, String, Text, insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from api.query import (
    SYSTEM_TAG,
    USER_TAG,
    FieldKind,
    Operator,
    QueryableResource,
    QueryField,
    QueryRegistry,
    QueryRelation,
)
from schemas.tables import ResourceTag, UTCDateTime, to_millisecond


class QueryTestBase(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime()}


class Zone(QueryTestBase):
    __tablename__ = "qt_zones"
    uuid: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    create_date: Mapped[datetime]


class Cluster(QueryTestBase):
    __tablename__ = "qt_clusters"
    uuid: Mapped[str] = mapped_column(String(32), primary_key=True)
    zone_uuid: Mapped[str] = mapped_column(ForeignKey("qt_zones.uuid"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    hypervisor_type: Mapped[str] = mapped_column(String(32))
    create_date: Mapped[datetime]


class PrimaryStorage(QueryTestBase):
    __tablename__ = "qt_primary_storage"
    uuid: Mapped[str] = mapped_column(String(32), primary_key=True)
    zone_uuid: Mapped[str] = mapped_column(ForeignKey("qt_zones.uuid"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(32))
    total_capacity: Mapped[int] = mapped_column(BigInteger)
    available_capacity: Mapped[int | None] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16))
    create_date: Mapped[datetime]


class Volume(QueryTestBase):
    __tablename__ = "qt_volumes"
    __tenant_owner__ = "account_uuid"
    uuid: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    primary_storage_uuid: Mapped[str | None] = mapped_column(
        ForeignKey("qt_primary_storage.uuid"), index=True
    )
    account_uuid: Mapped[str] = mapped_column(String(32), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    actual_size: Mapped[float | None] = mapped_column(Float)
    shareable: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    create_date: Mapped[datetime]
    last_op_date: Mapped[datetime | None]


class Snapshot(QueryTestBase):
    __tablename__ = "qt_snapshots"
    __tenant_owner__ = "account_uuid"
    uuid: Mapped[str] = mapped_column(String(32), primary_key=True)
    volume_uuid: Mapped[str] = mapped_column(ForeignKey("qt_volumes.uuid"), index=True)
    account_uuid: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str | None] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    latest: Mapped[bool] = mapped_column(Boolean)
    create_date: Mapped[datetime]


def _fields(model: type, kinds: dict[str, FieldKind]) -> dict[str, QueryField]:
    def camel(key: str) -> str:
        head, *rest = key.split("_")
        return head + "".join(part.title() for part in rest)

    return {camel(k): QueryField(camel(k), getattr(model, k), kind) for k, kind in kinds.items()}


S, INT, F, B, D = (
    FieldKind.STRING,
    FieldKind.INT,
    FieldKind.FLOAT,
    FieldKind.BOOL,
    FieldKind.DATETIME,
)


def make_registry() -> QueryRegistry:
    registry = QueryRegistry()
    registry.register(
        QueryableResource(
            name="zone",
            model=Zone,
            fields=_fields(
                Zone, {"uuid": S, "name": S, "description": S, "state": S, "create_date": D}
            ),
            relations={
                "clusters": QueryRelation("clusters", "cluster", Zone.uuid, Cluster.zone_uuid),
                "primaryStorage": QueryRelation(
                    "primaryStorage", "primaryStorage", Zone.uuid, PrimaryStorage.zone_uuid
                ),
            },
            tag_resource_type="ZoneVO",
        )
    )
    registry.register(
        QueryableResource(
            name="cluster",
            model=Cluster,
            fields=_fields(
                Cluster,
                {"uuid": S, "zone_uuid": S, "name": S, "hypervisor_type": S, "create_date": D},
            ),
            relations={"zone": QueryRelation("zone", "zone", Cluster.zone_uuid, Zone.uuid)},
        )
    )
    registry.register(
        QueryableResource(
            name="primaryStorage",
            model=PrimaryStorage,
            fields=_fields(
                PrimaryStorage,
                {"uuid": S, "zone_uuid": S, "name": S, "type": S, "total_capacity": INT}
                | {"available_capacity": INT, "state": S, "create_date": D},
            ),
            relations={
                "zone": QueryRelation("zone", "zone", PrimaryStorage.zone_uuid, Zone.uuid),
                "volumes": QueryRelation(
                    "volumes", "volume", PrimaryStorage.uuid, Volume.primary_storage_uuid
                ),
            },
            tag_resource_type="PrimaryStorageVO",
        )
    )
    registry.register(
        QueryableResource(
            name="volume",
            model=Volume,
            fields=_fields(
                Volume,
                {"uuid": S, "name": S, "description": S, "primary_storage_uuid": S}
                | {"account_uuid": S, "size": INT, "actual_size": F, "shareable": B}
                | {"state": S, "status": S, "create_date": D, "last_op_date": D},
            ),
            relations={
                "primaryStorage": QueryRelation(
                    "primaryStorage",
                    "primaryStorage",
                    Volume.primary_storage_uuid,
                    PrimaryStorage.uuid,
                ),
                "snapshots": QueryRelation(
                    "snapshots", "snapshot", Volume.uuid, Snapshot.volume_uuid
                ),
            },
            tag_resource_type="VolumeVO",
        )
    )
    registry.register(
        QueryableResource(
            name="snapshot",
            model=Snapshot,
            fields=_fields(
                Snapshot,
                {"uuid": S, "volume_uuid": S, "account_uuid": S, "name": S, "size": INT}
                | {"latest": B, "create_date": D},
            ),
            relations={
                "volume": QueryRelation("volume", "volume", Snapshot.volume_uuid, Volume.uuid)
            },
        )
    )
    registry.check()
    return registry


# --- deterministic data -------------------------------------------------------

ACCOUNTS = ("a" * 32, "b" * 32, "c" * 32)
# Names that trip case folding, collations, LIKE wildcards, GLOB specials and quoting.
NAMES = (
    *("vol", "Vol", "VOL", "vol-1", "vol_1", "vol%1", "data", "Data", "a", "B", "b"),
    *("_", "%", "ünïcode", "Ünïcode", "日本", "ß", "SS", "x\\y", "[abc]", "*?", "z1", "Z1"),
    *("", "with space", "'; drop table qt_volumes; --"),
)
STATES = ("Enabled", "Disabled")
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
TAGS = ("gold", "Gold", "silver", "ha::true", "staticip:10.10.1.20", "a%b", "a_b")
TAG_TYPES = {"zone": "ZoneVO", "primaryStorage": "PrimaryStorageVO", "volume": "VolumeVO"}

TABLES = {
    "zone": Zone,
    "cluster": Cluster,
    "primaryStorage": PrimaryStorage,
    "volume": Volume,
    "snapshot": Snapshot,
}


@dataclass
class Dataset:
    """Rows keyed by ORM attribute name, per resource; tags as ResourceTag rows."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    tags: list[dict[str, Any]] = field(default_factory=list)


def generate(seed: int = 7, volumes: int = 3000) -> Dataset:
    """The same rows for the same seed: a few thousand, with nulls, odd names and tags."""
    rnd = random.Random(seed)

    def uid(prefix: str, n: int) -> str:
        return f"{prefix}{n:0{32 - len(prefix)}d}"

    def date() -> datetime:
        # Milliseconds: the precision dates are stored with (schemas.tables.UTCDateTime).
        offset = timedelta(
            seconds=rnd.randrange(400 * 86400), microseconds=rnd.randrange(10**6) // 1000 * 1000
        )
        return EPOCH + offset

    def maybe(value: Any, p: float = 0.2) -> Any:
        return None if rnd.random() < p else value

    def name() -> str:
        return rnd.choice(NAMES)

    data = Dataset()
    data.rows["zone"] = [
        dict(
            uuid=uid("z", i),
            name=name(),
            description=maybe(name()),
            state=rnd.choice(STATES),
            create_date=date(),
        )
        for i in range(6)
    ]
    zones = [z["uuid"] for z in data.rows["zone"]]
    data.rows["cluster"] = [
        dict(
            uuid=uid("c", i),
            zone_uuid=rnd.choice(zones),
            name=name(),
            hypervisor_type=rnd.choice(("KVM", "kvm", "Simulator")),
            create_date=date(),
        )
        for i in range(24)
    ]
    data.rows["primaryStorage"] = [
        dict(
            uuid=uid("p", i),
            zone_uuid=rnd.choice(zones),
            name=name(),
            type=rnd.choice(("LocalStorage", "NFS", "SharedBlock")),
            total_capacity=rnd.randrange(2**40),
            available_capacity=maybe(rnd.randrange(-5, 2**40)),
            state=rnd.choice(STATES),
            create_date=date(),
        )
        for i in range(40)
    ]
    pools = [p["uuid"] for p in data.rows["primaryStorage"]]
    data.rows["volume"] = [
        dict(
            uuid=uid("v", i),
            name=name(),
            description=maybe(name(), 0.5),
            primary_storage_uuid=maybe(rnd.choice(pools), 0.05),
            account_uuid=rnd.choice(ACCOUNTS),
            size=rnd.choice((0, 1, 2**30, 2**31, 2**33, -1, rnd.randrange(2**40))),
            actual_size=maybe(rnd.randrange(-8, 4000) / 4),
            shareable=rnd.random() < 0.3,
            state=rnd.choice(STATES),
            status=rnd.choice(("Ready", "Creating", "Deleting", "Error")),
            create_date=date(),
            last_op_date=maybe(date()),
        )
        for i in range(volumes)
    ]
    data.rows["snapshot"] = []
    for i in range(volumes * 5 // 3):
        volume = rnd.choice(data.rows["volume"])
        account = volume["account_uuid"] if rnd.random() < 0.9 else rnd.choice(ACCOUNTS)
        data.rows["snapshot"].append(
            dict(
                uuid=uid("s", i),
                volume_uuid=volume["uuid"],
                account_uuid=account,
                name=maybe(name(), 0.1),
                size=rnd.randrange(2**34),
                latest=rnd.random() < 0.5,
                create_date=date(),
            )
        )
    for resource in ("zone", "primaryStorage", "volume"):
        for row in data.rows[resource]:
            for _ in range(rnd.choice((0, 0, 1, 2))):
                data.tags.append(
                    dict(
                        resource_uuid=row["uuid"],
                        resource_type=TAG_TYPES[resource],
                        tag_type=rnd.choice(("user", "system")),
                        tag=rnd.choice(TAGS),
                        create_date=EPOCH,
                    )
                )
    # A tag of the same uuid under another resource type must never match.
    data.tags.append(
        dict(
            resource_uuid=uid("v", 0),
            resource_type="ImageVO",
            tag_type="user",
            tag="only-on-image",
            create_date=EPOCH,
        )
    )
    return data


def load(connection: Connection, data: Dataset) -> None:
    QueryTestBase.metadata.create_all(connection)
    ResourceTag.__table__.create(connection, checkfirst=True)  # type: ignore[attr-defined]
    for resource in ("zone", "cluster", "primaryStorage", "volume", "snapshot"):
        connection.execute(insert(TABLES[resource]), data.rows[resource])
    connection.execute(insert(ResourceTag), data.tags)


# --- the reference evaluator ------------------------------------------------


@dataclass(frozen=True)
class RefCondition:
    """A condition with an already-typed value (a list for ?= / !?=)."""

    path: tuple[str, ...]
    op: Operator
    value: Any


class Reference:
    """Answers queries by brute force over a Dataset, following the documented semantics."""

    def __init__(self, registry: QueryRegistry, data: Dataset) -> None:
        self.registry = registry
        self.data = data
        self.by_key: dict[tuple[str, str, Any], list[dict[str, Any]]] = defaultdict(list)
        for resource, rows in data.rows.items():
            for row in rows:
                for key, value in row.items():
                    self.by_key[(resource, key, value)].append(row)
        self.tags: dict[tuple[str, str, str], list[str]] = defaultdict(list)
        for tag in data.tags:
            self.tags[(tag["resource_uuid"], tag["resource_type"], tag["tag_type"])].append(
                tag["tag"]
            )

    def query(
        self, resource: str, conditions: list[RefCondition], tenant: str | None
    ) -> list[dict[str, Any]]:
        declared = self.registry.get(resource)
        return [
            row
            for row in self.data.rows[resource]
            if self._visible(declared, row, tenant)
            and all(self._holds(declared, row, c, 0, tenant) for c in conditions)
        ]

    def _visible(
        self, declared: QueryableResource, row: dict[str, Any], tenant: str | None
    ) -> bool:
        owner = getattr(declared.model, "__tenant_owner__", None)
        return tenant is None or owner is None or row[owner] == tenant

    def _holds(
        self,
        declared: QueryableResource,
        row: dict[str, Any],
        c: RefCondition,
        at: int,
        tenant: str | None,
    ) -> bool:
        if at == len(c.path) - 1:
            if c.path[at] in (USER_TAG, SYSTEM_TAG):
                return self._tag_holds(declared, row, c)
            field = declared.fields[c.path[at]]
            value = c.value
            if field.kind is FieldKind.DATETIME:  # a value names its whole millisecond
                value = (
                    [to_millisecond(v) for v in value]
                    if isinstance(value, list)
                    else (to_millisecond(value) if isinstance(value, datetime) else value)
                )
            return compare(row[field.column.key], c.op, value)
        relation = declared.relations[c.path[at]]
        target = self.registry.get(relation.target)
        related = self.by_key[(target.name, relation.remote.key, row[relation.local.key])]
        if row[relation.local.key] is None:
            related = []
        return any(
            self._visible(target, other, tenant) and self._holds(target, other, c, at + 1, tenant)
            for other in related
        )

    def _tag_holds(self, declared: QueryableResource, row: dict[str, Any], c: RefCondition) -> bool:
        tag_type = "user" if c.path[-1] == USER_TAG else "system"
        tags = self.tags[(row["uuid"], declared.tag_resource_type or "", tag_type)]
        if c.op is Operator.IS_NULL:
            return not tags
        if c.op is Operator.NOT_NULL:
            return bool(tags)
        negated = {
            Operator.NE: Operator.EQ,
            Operator.NOT_IN: Operator.IN,
            Operator.NOT_LIKE: Operator.LIKE,
        }
        if c.op in negated:
            return not any(compare(t, negated[c.op], c.value) for t in tags)
        return any(compare(t, c.op, c.value) for t in tags)


def compare(actual: Any, op: Operator, value: Any) -> bool:
    """SQL semantics: only the null tests are true of a NULL."""
    if op is Operator.IS_NULL:
        return actual is None
    if op is Operator.NOT_NULL:
        return actual is not None
    if actual is None:
        return False
    match op:
        case Operator.EQ:
            return bool(actual == value)
        case Operator.NE:
            return bool(actual != value)
        case Operator.GT:
            return bool(actual > value)
        case Operator.LT:
            return bool(actual < value)
        case Operator.GE:
            return bool(actual >= value)
        case Operator.LE:
            return bool(actual <= value)
        case Operator.IN:
            return actual in value
        case Operator.NOT_IN:
            return actual not in value
        case Operator.LIKE:
            return like_regex(value).fullmatch(actual) is not None
        case Operator.NOT_LIKE:
            return like_regex(value).fullmatch(actual) is None
    raise AssertionError(op)


def like_regex(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    chars = iter(pattern)
    for char in chars:
        if char == "%":
            out.append(".*")
        elif char == "_":
            out.append(".")
        else:
            if char == "\\":
                char = next(chars, "\\")
            out.append(re.escape(char))
    return re.compile("".join(out), re.DOTALL)


# --- random queries for property tests ---------------------------------------

LIKE_PATTERNS = (
    *("vol%", "%ol%", "V%", "_", "__", "%", "", "vol\\%1", "vol\\_1", "vol_1", "%\\\\%"),
    *("x\\\\y", "[abc]", "*?", "%[%", "*%", "日_", "%1", "ünï%", "Ü%", "%space", "'%"),
    *("%a%", "%A%", "a_b", "a%b", "gold", "G%", "%::%"),
)
ROOTS = ("volume", "snapshot", "zone", "primaryStorage")
_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00,"), max_size=6)


def relation_paths(
    registry: QueryRegistry, root: str, depth: int
) -> list[tuple[tuple[str, ...], str]]:
    """Every relation path from ``root`` with at most ``depth`` hops, with its end resource."""
    paths: list[tuple[tuple[str, ...], str]] = [((), root)]
    frontier = list(paths)
    for _ in range(depth):
        frontier = [
            ((*path, relation.name), relation.target)
            for path, end in frontier
            for relation in registry.get(end).relations.values()
        ]
        paths += frontier
    return paths


def _operators(kind: FieldKind) -> list[Operator]:
    if kind is FieldKind.STRING:
        return list(Operator)
    if kind is FieldKind.BOOL:
        return [Operator.EQ, Operator.NE, Operator.IN, Operator.NOT_IN]
    return [op for op in Operator if op not in (Operator.LIKE, Operator.NOT_LIKE)]


def _render(kind: FieldKind, value: Any) -> str:
    if kind is FieldKind.BOOL:
        return "true" if value else "false"
    if kind is FieldKind.DATETIME:
        return str(value.isoformat())
    if kind is FieldKind.FLOAT:
        return repr(value)
    return str(value)


@st.composite
def random_condition(
    draw: st.DrawFn, registry: QueryRegistry, data: Dataset, root: str
) -> tuple[str, RefCondition]:
    """A ``q`` string and the same condition with typed values, over ``root``."""
    path, end = draw(st.sampled_from(relation_paths(registry, root, 3)))
    resource = registry.get(end)
    names = list(resource.fields)
    if resource.tag_resource_type is not None:
        names += [USER_TAG, SYSTEM_TAG]
    name = draw(st.sampled_from(names))
    if name in (USER_TAG, SYSTEM_TAG):
        kind, known = FieldKind.STRING, list(TAGS)
    else:
        kind = resource.fields[name].kind
        key = resource.fields[name].column.key
        known = sorted({row[key] for row in data.rows[end]} - {None}, key=repr)
    op = draw(st.sampled_from(_operators(kind)))
    extra = {
        FieldKind.STRING: _TEXT,
        FieldKind.INT: st.integers(-(2**63), 2**63 - 1),
        FieldKind.FLOAT: st.floats(allow_nan=False, allow_infinity=False),
        FieldKind.BOOL: st.booleans(),
        FieldKind.DATETIME: st.datetimes(
            min_value=datetime(2023, 12, 1), max_value=datetime(2025, 3, 1), timezones=st.just(UTC)
        ),
    }[kind]
    one = st.sampled_from(known) | extra if known else extra
    full = ".".join((*path, name))
    value: Any
    if op in (Operator.IS_NULL, Operator.NOT_NULL):
        return full + op.value, RefCondition((*path, name), op, None)
    if op in (Operator.IN, Operator.NOT_IN):
        value = draw(st.lists(one, min_size=1, max_size=4))
        text = ",".join(_render(kind, v) for v in value)
    elif op in (Operator.LIKE, Operator.NOT_LIKE):
        value = draw(st.sampled_from(LIKE_PATTERNS) | _TEXT)
        text = value
    else:
        value = draw(one)
        text = _render(kind, value)
    if text == "null" and op in (Operator.EQ, Operator.NE):  # would be the null test
        text = value = "nul"
    return full + op.value + text, RefCondition((*path, name), op, value)


@st.composite
def random_query(
    draw: st.DrawFn, registry: QueryRegistry, data: Dataset
) -> tuple[str, list[tuple[str, RefCondition]], str | None]:
    root = draw(st.sampled_from(ROOTS))
    conditions = draw(st.lists(random_condition(registry, data, root), max_size=4))
    tenant = draw(st.sampled_from((None, *ACCOUNTS)))
    return root, conditions, tenant
