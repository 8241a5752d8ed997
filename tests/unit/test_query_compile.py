"""The compiler against an in-memory SQLite database, checked row for row against the
pure-Python reference evaluator in ``tests/query_models.py``."""

from __future__ import annotations

import functools
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.orm import Session

from api.query import (
    CompiledQuery,
    Operator,
    QueryResult,
    compile_query,
    parse_query,
    render_query_docs,
    run_query,
)
from tests.query_models import (
    ACCOUNTS,
    RefCondition,
    Reference,
    generate,
    load,
    make_registry,
    random_query,
)
from volplane.errors import InvalidQuery
from volplane.tenancy import ADMIN, as_tenant

REGISTRY = make_registry()
DATA = generate()
REFERENCE = Reference(REGISTRY, DATA)
A, B, C = ACCOUNTS


@functools.cache
def engine() -> Engine:
    created = create_engine("sqlite://")  # one connection, kept: the database is in memory
    with created.begin() as connection:
        load(connection, DATA)
    return created


def run(resource: str, *params: tuple[str, str], tenant: str | None = None) -> QueryResult:
    compiled = compile_query(REGISTRY, resource, parse_query(params), actor=as_tenant(tenant))
    with Session(engine()) as session:
        return run_query(session, compiled)


def found(resource: str, *qs: str, tenant: str | None = None) -> list[str]:
    params = [("q", q) for q in qs] + [("limit", "10000")]
    return sorted(row.uuid for row in run(resource, *params, tenant=tenant).rows)


def expected(resource: str, *conditions: RefCondition, tenant: str | None = None) -> list[str]:
    return sorted(row["uuid"] for row in REFERENCE.query(resource, list(conditions), tenant))


def cond(path: str, op: Operator, value: Any = None) -> RefCondition:
    return RefCondition(tuple(path.split(".")), op, value)


def check(resource: str, q: str, condition: RefCondition, tenant: str | None = None) -> list[str]:
    rows = found(resource, q, tenant=tenant)
    assert rows == expected(resource, condition, tenant=tenant)
    return rows


def test_dataset_is_large_and_deterministic() -> None:
    assert len(DATA.rows["volume"]) == 3000 and len(DATA.rows["snapshot"]) == 5000
    assert generate().rows["volume"][17] == DATA.rows["volume"][17]


@pytest.mark.parametrize(
    ("q", "condition"),
    [
        ("name=vol", cond("name", Operator.EQ, "vol")),
        ("name!=vol", cond("name", Operator.NE, "vol")),
        ("name>Vol", cond("name", Operator.GT, "Vol")),
        ("name<b", cond("name", Operator.LT, "b")),
        ("name>=Z1", cond("name", Operator.GE, "Z1")),
        ("name<=data", cond("name", Operator.LE, "data")),
        ("name?=vol,Vol,日本", cond("name", Operator.IN, ["vol", "Vol", "日本"])),
        ("name!?=vol,Vol", cond("name", Operator.NOT_IN, ["vol", "Vol"])),
        ("name~=vol%", cond("name", Operator.LIKE, "vol%")),
        ("name!~=vol%", cond("name", Operator.NOT_LIKE, "vol%")),
        ("description=null", cond("description", Operator.IS_NULL)),
        ("description!=null", cond("description", Operator.NOT_NULL)),
        ("description!=vol", cond("description", Operator.NE, "vol")),
        ("description!?=vol", cond("description", Operator.NOT_IN, ["vol"])),
        ("description!~=%", cond("description", Operator.NOT_LIKE, "%")),
        ("name=", cond("name", Operator.EQ, "")),
        ("size>1073741824", cond("size", Operator.GT, 2**30)),
        ("size<=0", cond("size", Operator.LE, 0)),
        ("size?=0,1,-1", cond("size", Operator.IN, [0, 1, -1])),
        ("size!?=0,1", cond("size", Operator.NOT_IN, [0, 1])),
        ("actualSize>=100.25", cond("actualSize", Operator.GE, 100.25)),
        ("actualSize<-0.5", cond("actualSize", Operator.LT, -0.5)),
        ("actualSize=1e2", cond("actualSize", Operator.EQ, 100.0)),
        ("actualSize=null", cond("actualSize", Operator.IS_NULL)),
        ("shareable=true", cond("shareable", Operator.EQ, True)),
        ("shareable!=TRUE", cond("shareable", Operator.NE, True)),
        ("shareable?=false", cond("shareable", Operator.IN, [False])),
        (
            "createDate>2024-06-01T00:00:00Z",
            cond("createDate", Operator.GT, datetime(2024, 6, 1, tzinfo=UTC)),
        ),
        (
            "createDate<2024-06-01T08:00:00+08:00",
            cond("createDate", Operator.LT, datetime(2024, 6, 1, tzinfo=UTC)),
        ),
        (
            "createDate>=2024-06-01",  # naive is UTC
            cond("createDate", Operator.GE, datetime(2024, 6, 1, tzinfo=UTC)),
        ),
        (
            "createDate<1717200000000",  # epoch milliseconds = 2024-06-01T00:00:00Z
            cond("createDate", Operator.LT, datetime(2024, 6, 1, tzinfo=UTC)),
        ),
        ("lastOpDate=null", cond("lastOpDate", Operator.IS_NULL)),
    ],
)
def test_every_operator_and_kind(q: str, condition: RefCondition) -> None:
    rows = check("volume", q, condition)
    assert 0 < len(rows) < 3000 or q == "description!~=%"  # NULL is never "not like"


def test_like_is_case_sensitive_and_honours_wildcards_and_escapes() -> None:
    names = DATA.rows["volume"]

    def volume_names(*qs: str) -> set[str]:
        wanted = set(found("volume", *qs))
        return {row["name"] for row in names if row["uuid"] in wanted}

    assert volume_names("name~=vol%") == {"vol", "vol-1", "vol_1", "vol%1"}
    assert volume_names("name~=VOL") == {"VOL"}
    assert volume_names("name~=vol_1") == {"vol-1", "vol_1", "vol%1"}
    assert volume_names("name~=vol\\_1") == {"vol_1"}
    assert volume_names("name~=vol\\%1") == {"vol%1"}
    assert volume_names("name~=x\\\\y") == {"x\\y"}
    assert volume_names("name~=_") == {"a", "B", "b", "_", "%", "ß"}
    assert volume_names("name~=[abc]") == {"[abc]"}  # GLOB specials stay literal
    assert volume_names("name~=*?") == {"*?"}
    assert volume_names("name~=ü%") == {"ünïcode"}
    assert volume_names("name~=%") == {row["name"] for row in names}


def test_text_orders_by_code_point() -> None:
    assert check("volume", "name<a", cond("name", Operator.LT, "a"))
    rows = run("volume", ("sort", "+name"), ("limit", "10000")).rows
    assert [row.name for row in rows] == sorted(row["name"] for row in DATA.rows["volume"])


@pytest.mark.parametrize(
    ("resource", "q", "condition"),
    [
        # depth 1, to-one and to-many
        ("volume", "primaryStorage.name=vol", cond("primaryStorage.name", Operator.EQ, "vol")),
        ("volume", "snapshots.name=Vol", cond("snapshots.name", Operator.EQ, "Vol")),
        # depth 2 and 3
        (
            "volume",
            "primaryStorage.zone.state=Enabled",
            cond("primaryStorage.zone.state", Operator.EQ, "Enabled"),
        ),
        (
            "volume",
            "primaryStorage.zone.clusters.hypervisorType=kvm",
            cond("primaryStorage.zone.clusters.hypervisorType", Operator.EQ, "kvm"),
        ),
        (
            "volume",
            "snapshots.volume.primaryStorage.type=NFS",
            cond("snapshots.volume.primaryStorage.type", Operator.EQ, "NFS"),
        ),
        (
            "snapshot",
            "volume.primaryStorage.zone.state~=En%",
            cond("volume.primaryStorage.zone.state", Operator.LIKE, "En%"),
        ),
        (
            "zone",
            "primaryStorage.volumes.snapshots.latest=true",
            cond("primaryStorage.volumes.snapshots.latest", Operator.EQ, True),
        ),
        # a cycle, four hops
        (
            "zone",
            "clusters.zone.clusters.zone.name!=vol",
            cond("clusters.zone.clusters.zone.name", Operator.NE, "vol"),
        ),
        (
            "cluster",
            "zone.primaryStorage.volumes.size>1073741824",
            cond("zone.primaryStorage.volumes.size", Operator.GT, 2**30),
        ),
        (
            "primaryStorage",
            "volumes.description=null",
            cond("volumes.description", Operator.IS_NULL),
        ),
    ],
)
def test_joins_at_depth(resource: str, q: str, condition: RefCondition) -> None:
    for tenant in (None, A):
        rows = found(resource, q, tenant=tenant)
        assert rows == expected(resource, condition, tenant=tenant)
        assert len(rows) == len(set(rows))  # EXISTS never duplicates a row
    assert found(resource, q)


def test_combined_conditions_are_anded() -> None:
    qs = ("primaryStorage.zone.state=Enabled", "snapshots.latest=true", "size>0", "name~=%o%")
    conditions = [
        cond("primaryStorage.zone.state", Operator.EQ, "Enabled"),
        cond("snapshots.latest", Operator.EQ, True),
        cond("size", Operator.GT, 0),
        cond("name", Operator.LIKE, "%o%"),
    ]
    rows = found("volume", *qs, tenant=B)
    assert rows and rows == expected("volume", *conditions, tenant=B)


def test_empty_results() -> None:
    assert found("volume", "name=nobody") == []
    assert found("volume", "primaryStorage.zone.name=nowhere") == []
    result = run("volume", ("q", "name=nobody"), ("replyWithCount", "true"))
    assert (result.rows, result.total) == ([], 0)


@pytest.mark.parametrize(
    ("resource", "q", "condition"),
    [
        ("volume", "__userTag__=gold", cond("__userTag__", Operator.EQ, "gold")),
        ("volume", "__systemTag__=gold", cond("__systemTag__", Operator.EQ, "gold")),
        (
            "volume",
            "__userTag__?=gold,silver",
            cond("__userTag__", Operator.IN, ["gold", "silver"]),
        ),
        ("volume", "__userTag__~=a\\_b", cond("__userTag__", Operator.LIKE, "a\\_b")),
        ("volume", "__userTag__~=G%", cond("__userTag__", Operator.LIKE, "G%")),
        ("volume", "__userTag__!=gold", cond("__userTag__", Operator.NE, "gold")),
        ("volume", "__userTag__!~=%a%", cond("__userTag__", Operator.NOT_LIKE, "%a%")),
        ("volume", "__systemTag__=null", cond("__systemTag__", Operator.IS_NULL)),
        ("volume", "__systemTag__!=null", cond("__systemTag__", Operator.NOT_NULL)),
        (
            "volume",
            "primaryStorage.__userTag__=gold",
            cond("primaryStorage.__userTag__", Operator.EQ, "gold"),
        ),
        (
            "zone",
            "primaryStorage.volumes.__systemTag__=ha::true",
            cond("primaryStorage.volumes.__systemTag__", Operator.EQ, "ha::true"),
        ),
    ],
)
def test_tags(resource: str, q: str, condition: RefCondition) -> None:
    for tenant in (None, C):
        rows = found(resource, q, tenant=tenant)
        assert rows == expected(resource, condition, tenant=tenant)
    assert found(resource, q)


def test_tags_of_other_resource_types_never_match() -> None:
    assert found("volume", "__userTag__=only-on-image") == []


def test_tags_on_resources_without_tags_are_invalid() -> None:
    with pytest.raises(InvalidQuery, match="cluster has no tags"):
        found("cluster", "__userTag__=x")
    with pytest.raises(InvalidQuery, match="snapshot has no tags"):
        found("volume", "snapshots.__systemTag__=x")


def test_tenant_sees_only_its_rows() -> None:
    mine = {row["uuid"] for row in DATA.rows["volume"] if row["account_uuid"] == A}
    assert set(found("volume", tenant=A)) == mine
    assert found("volume", f"accountUuid={B}", tenant=A) == []
    assert len(found("volume")) == 3000  # admin


def test_tenant_isolation_holds_through_joins() -> None:
    # Snapshots of account A on volumes of account B exist (shared data) ...
    owner = {v["uuid"]: v["account_uuid"] for v in DATA.rows["volume"]}
    crossing = [
        s for s in DATA.rows["snapshot"] if s["account_uuid"] == A and owner[s["volume_uuid"]] == B
    ]
    assert crossing
    # ... but a tenant cannot learn anything about B's volumes through them.
    assert found("snapshot", f"volume.accountUuid={B}", tenant=A) == []
    assert found("snapshot", "volume.name!=null", tenant=A) == expected(
        "snapshot", cond("volume.name", Operator.NOT_NULL), tenant=A
    )
    assert found("snapshot", f"volume.accountUuid={B}") != []  # the admin sees them
    assert found("zone", f"primaryStorage.volumes.accountUuid={B}", tenant=A) == []
    assert found("volume", f"snapshots.accountUuid={B}", tenant=A) == []


def test_sort_and_pages_match_the_reference() -> None:
    for field, key in (("description", "description"), ("actualSize", "actual_size")):
        for ascending in (True, False):
            by_uuid = sorted(DATA.rows["volume"], key=lambda r: r["uuid"])
            want = [r["uuid"] for r in _sorted(by_uuid, key, ascending)]
            sign = "+" if ascending else "-"
            page = run("volume", ("sort", sign + field), ("start", "100"), ("limit", "50"))
            assert [r.uuid for r in page.rows] == want[100:150]


def _sorted(rows: list[dict[str, Any]], key: str, ascending: bool) -> list[dict[str, Any]]:
    """Nulls first ascending, last descending; ties by uuid (rows come in uuid order)."""
    nulls = [r for r in rows if r[key] is None]
    values = sorted((r for r in rows if r[key] is not None), key=lambda r: r[key])
    if ascending:
        return nulls + values
    # A stable descending sort keeps equal values in uuid order.
    return sorted(values, key=lambda r: r[key], reverse=True) + nulls


def test_default_sort_is_create_date() -> None:
    rows = run("volume", ("limit", "5")).rows
    assert [r.uuid for r in rows] == [
        r["uuid"] for r in sorted(DATA.rows["volume"], key=lambda r: r["create_date"])[:5]
    ]


def test_counts() -> None:
    want = expected("volume", cond("state", Operator.EQ, "Enabled"), tenant=A)
    only = run("volume", ("q", "state=Enabled"), ("count", "true"), tenant=A)
    assert (only.rows, only.total) == ([], len(want))
    both = run(
        "volume", ("q", "state=Enabled"), ("replyWithCount", "true"), ("limit", "3"), tenant=A
    )
    assert (len(both.rows), both.total) == (3, len(want))
    assert run("volume", ("limit", "0")).rows == []
    assert run("volume").total is None
    assert len(run("volume").rows) == 1000  # the default limit


def test_group_by() -> None:
    rows = [r for r in DATA.rows["volume"] if r["account_uuid"] == A and r["size"] > 0]
    counts = Counter(r["status"] for r in rows)
    result = run(
        "volume", ("q", "size>0"), ("groupBy", "status"), ("replyWithCount", "true"), tenant=A
    )
    assert result.groups == sorted(counts.items())
    assert result.total == len(counts)
    first = {s: min(r["uuid"] for r in rows if r["status"] == s) for s in counts}
    assert {r.uuid for r in result.rows} == set(first.values())
    nullable = run("volume", ("groupBy", "description"), ("limit", "3"))
    assert nullable.groups is not None and nullable.groups[0] == (
        None,
        sum(r["description"] is None for r in DATA.rows["volume"]),
    )
    assert len(nullable.groups) == 3


def test_fields_are_validated_and_exposed() -> None:
    compiled = compile_query(
        REGISTRY, "volume", parse_query([("fields", "uuid,name")]), actor=ADMIN
    )
    assert compiled.fields == ("uuid", "name")
    assert compile_query(REGISTRY, "volume", parse_query([]), actor=ADMIN).fields is None
    with pytest.raises(InvalidQuery, match="'zoneUuid' is not a native field of volume"):
        compile_query(REGISTRY, "volume", parse_query([("fields", "zoneUuid")]), actor=ADMIN)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ([("q", "nme=x")], "unknown field 'nme'; fields of volume: accountUuid, actualSize"),
        ([("q", "primaryStorage.zone.nam=x")], "unknown field 'nam'; fields of zone:"),
        ([("q", "primaryStorag.name=x")], "unknown relation 'primaryStorag'; fields of volume"),
        ([("q", "primaryStorage.zones.name=x")], "relations: volumes, zone"),
        ([("q", "primaryStorage=x")], "'primaryStorage' is a relation of volume"),
        ([("q", "name.length=3")], "'name' is a field of volume, not a relation"),
        ([("q", "size>abc")], "size: 'abc' is not a 64-bit integer"),
        ([("q", "size>99999999999999999999")], "size:"),
        ([("q", "size?=1,2,x")], "size: 'x' is not a 64-bit integer"),
        ([("q", "size>1.5")], "size:"),
        ([("q", "size=")], "size:"),
        ([("q", "actualSize>inf")], "actualSize: 'inf' is not a finite number"),
        ([("q", "actualSize>nan")], "actualSize:"),
        ([("q", "actualSize>1e999")], "actualSize:"),
        ([("q", "shareable=yes")], "shareable: 'yes' is not true or false"),
        ([("q", "shareable>true")], "> does not apply to bool"),
        ([("q", "size~=1%")], "~= and !~= apply to text, not int"),
        ([("q", "snapshots.createDate>yesterday")], "snapshots.createDate: 'yesterday'"),
        ([("q", "createDate>999999999999999")], "createDate:"),
        ([("q", "createDate>0001-01-01T00:00:00+01:00")], "createDate:"),
        ([("sort", "+zoneUuid")], "sort: 'zoneUuid' is not a native field"),
        ([("groupBy", "nope")], "groupBy: 'nope' is not a native field"),
    ],
)
def test_invalid_queries_name_the_problem(params: list[tuple[str, str]], message: str) -> None:
    with pytest.raises(InvalidQuery) as raised:
        compile_query(REGISTRY, "volume", parse_query(params), actor=ADMIN)
    assert message in raised.value.details
    assert raised.value.status == 400


def test_unknown_resource() -> None:
    with pytest.raises(InvalidQuery, match="'nope' is not a queryable resource"):
        compile_query(REGISTRY, "nope", parse_query([]), actor=ADMIN)


def test_hostile_values_are_bound_not_spliced() -> None:
    value = "'; drop table qt_volumes; --"
    compiled = compile_query(REGISTRY, "volume", parse_query([("q", "name=" + value)]), actor=ADMIN)
    assert "drop" not in str(compiled.rows)
    assert check("volume", "name=" + value, cond("name", Operator.EQ, value))
    assert inspect(engine()).has_table("qt_volumes")
    assert found("volume", 'name="; select 1; --', "description~=%'%") == []


def test_a_hundred_long_conditions_run() -> None:
    qs = [f"name!={'x' * 4096}"] * 50 + [
        f"primaryStorage.zone.clusters.name!~=%{i}%" for i in range(50)
    ]
    rows = found("volume", *qs)
    assert rows == expected(
        "volume",
        *[
            cond("primaryStorage.zone.clusters.name", Operator.NOT_LIKE, f"%{i}%")
            for i in range(50)
        ],
    )
    with pytest.raises(InvalidQuery):
        found("volume", *qs, "name=x")


def test_cyclic_paths_are_bounded() -> None:
    five = "clusters.zone.clusters.zone.clusters.name=vol"
    assert found("zone", five) == expected(
        "zone", cond(five.removesuffix("=vol"), Operator.EQ, "vol")
    )
    with pytest.raises(InvalidQuery, match="more than 5 relations"):
        found("zone", "clusters.zone." + five)


def test_cached_statements_keep_their_own_patterns() -> None:
    # Same statement shape, different LIKE values: the compiled-SQL cache must not mix them.
    first = found("volume", "name~=vol%")
    second = found("volume", "name~=Vol%")
    assert first != second
    assert second == expected("volume", cond("name", Operator.LIKE, "Vol%"))


def test_compiling_is_pure() -> None:
    compiled = compile_query(REGISTRY, "volume", parse_query([("q", "name=x")]), actor=as_tenant(A))
    assert isinstance(compiled, CompiledQuery)
    assert str(compiled.rows).count("?") == 0  # default dialect, no database needed


def test_sqlite_case_sensitive_like_is_not_a_global_pragma() -> None:
    with engine().connect() as connection:
        assert connection.execute(text("select 'a' like 'A'")).scalar() == 1


def test_docs_list_every_resource_field_and_relation() -> None:
    docs = render_query_docs(REGISTRY)
    for resource in REGISTRY:
        assert f"### {resource.name}" in docs
        for name, field in resource.fields.items():
            assert f"| `{name}` | {field.kind.value} |" in docs
        for name in resource.relations:
            assert f"| `{name}.` |" in docs
    assert "`!?=`" in docs and "VOLPLANE.ARG.1007" in docs


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_query(REGISTRY, DATA))
def test_random_queries_match_the_reference(
    query: tuple[str, list[tuple[str, RefCondition]], str | None],
) -> None:
    resource, conditions, tenant = query
    rows = found(resource, *(q for q, _ in conditions), tenant=tenant)
    assert rows == expected(resource, *(c for _, c in conditions), tenant=tenant)
