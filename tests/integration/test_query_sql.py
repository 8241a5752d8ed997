"""The query compiler on real PostgreSQL: the same answers as the reference evaluator and
as SQLite, in a database with a linguistic (ICU en-US) collation where naive text
comparison and LIKE would differ from SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy import Engine, create_engine, inspect
from sqlalchemy.orm import Session

from api.query import Operator, QueryResult, compile_query, parse_query, run_query
from tests.query_models import (
    ACCOUNTS,
    RefCondition,
    Reference,
    generate,
    load,
    make_registry,
    random_query,
)
from volplane.tenancy import as_tenant

pytestmark = pytest.mark.integration

DATABASE = "volplane_query_test"
ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{DATABASE}"
REGISTRY = make_registry()
DATA = generate()
REFERENCE = Reference(REGISTRY, DATA)
A, B, _ = ACCOUNTS

# Filled once by the module fixture; module state so hypothesis examples can reuse it.
ENGINES: dict[str, Engine] = {}


@pytest.fixture(scope="module", autouse=True)
def databases() -> Iterator[None]:
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        admin.execute(
            f"CREATE DATABASE {DATABASE} TEMPLATE template0 ENCODING 'UTF8' "
            "LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
        )
    ENGINES["postgresql"] = create_engine(URL)
    ENGINES["sqlite"] = create_engine("sqlite://")
    for engine in ENGINES.values():
        with engine.begin() as connection:
            load(connection, DATA)
    yield
    for engine in ENGINES.values():
        engine.dispose()
    ENGINES.clear()
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


def run(
    backend: str, resource: str, *params: tuple[str, str], tenant: str | None = None
) -> QueryResult:
    compiled = compile_query(REGISTRY, resource, parse_query(params), actor=as_tenant(tenant))
    with Session(ENGINES[backend]) as session:
        return run_query(session, compiled)


def found(backend: str, resource: str, *qs: str, tenant: str | None = None) -> list[str]:
    params = [("q", q) for q in qs] + [("limit", "10000")]
    return sorted(row.uuid for row in run(backend, resource, *params, tenant=tenant).rows)


def expected(resource: str, *conditions: RefCondition, tenant: str | None = None) -> list[str]:
    return sorted(row["uuid"] for row in REFERENCE.query(resource, list(conditions), tenant))


def test_the_database_collation_is_linguistic() -> None:
    with ENGINES["postgresql"].connect() as connection:
        raw = connection.exec_driver_sql("select 'a' < 'B', 'a' like 'A'").one()
    assert tuple(raw) == (True, False)  # so byte order below is the compiler's doing


def test_like_is_case_sensitive() -> None:
    for backend in ENGINES:
        assert found(backend, "volume", "name~=vol%") == expected(
            "volume", RefCondition(("name",), Operator.LIKE, "vol%")
        )
        assert found(backend, "volume", "name~=vol\\_1") == expected(
            "volume", RefCondition(("name",), Operator.LIKE, "vol\\_1")
        )


def test_text_compares_and_sorts_by_code_point() -> None:
    want = expected("volume", RefCondition(("name",), Operator.LT, "a"))
    assert want
    for backend in ENGINES:
        assert found(backend, "volume", "name<a") == want
        rows = run(backend, "volume", ("sort", "-name"), ("limit", "10000")).rows
        names = [row.name for row in rows]
        assert names == sorted(names, reverse=True)


PAGED_QUERIES: list[tuple[str, list[tuple[str, str]], str | None]] = [
    ("volume", [("sort", "+description"), ("start", "30"), ("limit", "200")], None),
    ("volume", [("sort", "-actualSize"), ("limit", "500")], A),
    ("volume", [("sort", "+name"), ("q", "snapshots.latest=true"), ("limit", "300")], B),
    ("snapshot", [("sort", "-name"), ("q", "volume.primaryStorage.zone.name!=x")], A),
    ("zone", [("q", "primaryStorage.__userTag__?=gold,Gold"), ("sort", "+name")], None),
    ("volume", [("groupBy", "description"), ("replyWithCount", "true")], A),
    ("volume", [("q", "createDate>1717200000000"), ("count", "true")], B),
]


@pytest.mark.parametrize(("resource", "params", "tenant"), PAGED_QUERIES)
def test_sqlite_and_postgresql_agree_row_for_row(
    resource: str, params: list[tuple[str, str]], tenant: str | None
) -> None:
    answers: list[Any] = []
    for backend in ENGINES:
        result = run(backend, resource, *params, tenant=tenant)
        answers.append(([row.uuid for row in result.rows], result.total, result.groups))
    assert answers[0] == answers[1]
    assert answers[0][0] or answers[0][1]


def test_tenant_isolation_through_joins() -> None:
    assert found("postgresql", "snapshot", f"volume.accountUuid={B}", tenant=A) == []
    assert found("postgresql", "volume", f"snapshots.accountUuid={B}", tenant=A) == []
    assert found("postgresql", "snapshot", f"volume.accountUuid={B}") != []


def test_hostile_values_leave_the_database_alone() -> None:
    value = "'; drop table qt_volumes; --"
    assert found("postgresql", "volume", "name=" + value) == expected(
        "volume", RefCondition(("name",), Operator.EQ, value)
    )
    assert found("postgresql", "volume", "name~=%" + "\\" * 4095) == []
    assert inspect(ENGINES["postgresql"]).has_table("qt_volumes")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_query(REGISTRY, DATA))
def test_random_queries_match_the_reference_on_postgresql(
    query: tuple[str, list[tuple[str, RefCondition]], str | None],
) -> None:
    resource, conditions, tenant = query
    rows = found("postgresql", resource, *(q for q, _ in conditions), tenant=tenant)
    assert rows == expected(resource, *(c for _, c in conditions), tenant=tenant)
