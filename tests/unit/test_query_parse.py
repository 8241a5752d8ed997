"""The query-string parser: operators, tricky values, parameters and hostile input."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.query import (
    DEFAULT_LIMIT,
    MAX_CONDITIONS,
    MAX_LIMIT,
    MAX_PATH_DEPTH,
    MAX_VALUE_LENGTH,
    Condition,
    Operator,
    QuerySpec,
    parse_query,
)
from volplane.errors import InvalidQuery


def one(q: str) -> Condition:
    (condition,) = parse_query([("q", q)]).conditions
    return condition


@pytest.mark.parametrize(
    ("q", "path", "op", "value"),
    [
        ("name=vm1", ("name",), Operator.EQ, "vm1"),
        ("name!=vm1", ("name",), Operator.NE, "vm1"),
        ("size>5", ("size",), Operator.GT, "5"),
        ("size<5", ("size",), Operator.LT, "5"),
        ("size>=5", ("size",), Operator.GE, "5"),
        ("size<=5", ("size",), Operator.LE, "5"),
        ("uuid?=a,b", ("uuid",), Operator.IN, "a,b"),
        ("name!?=VM1,VM2", ("name",), Operator.NOT_IN, "VM1,VM2"),
        ("name~=IntelCore%", ("name",), Operator.LIKE, "IntelCore%"),
        ("name!~=IntelCore_7", ("name",), Operator.NOT_LIKE, "IntelCore_7"),
        ("name=null", ("name",), Operator.IS_NULL, None),
        ("name!=null", ("name",), Operator.NOT_NULL, None),
    ],
)
def test_every_operator(q: str, path: tuple[str, ...], op: Operator, value: str | None) -> None:
    assert one(q) == Condition(path, op, value)


@pytest.mark.parametrize(
    ("q", "op", "value"),
    [
        ("name==x", Operator.EQ, "=x"),  # the operator is the first one after the path
        ("name!==x", Operator.NE, "=x"),
        ("name>==x", Operator.GE, "=x"),
        ("name~=%a_b%", Operator.LIKE, "%a_b%"),
        ("name=a=b=c", Operator.EQ, "a=b=c"),
        ("name=a!=b", Operator.EQ, "a!=b"),
        ("name?=", Operator.IN, ""),
        ("name=", Operator.EQ, ""),
        ("name= x ", Operator.EQ, " x "),
        ("name=nullable", Operator.EQ, "nullable"),
        ("name?=null", Operator.IN, "null"),
        ("name=NULL", Operator.EQ, "NULL"),  # only lower-case null is the null test
        ("name<>x", Operator.LT, ">x"),
        ("name='; drop table volumes; --", Operator.EQ, "'; drop table volumes; --"),
        ("name=line\nbreak", Operator.EQ, "line\nbreak"),
        ("name=日本", Operator.EQ, "日本"),
    ],
)
def test_tricky_values(q: str, op: Operator, value: str) -> None:
    condition = one(q)
    assert (condition.path, condition.op, condition.value) == (("name",), op, value)


def test_dotted_paths_and_tags() -> None:
    assert one("primaryStorage.zone.name=z1").path == ("primaryStorage", "zone", "name")
    assert one("primaryStorage.zone.name=z1").relations == ("primaryStorage", "zone")
    spec = parse_query(
        [("q", "__userTag__=gold"), ("q", "__systemTag__~=ha%"), ("q", "zone.__userTag__=x")]
    )
    assert [c.value for c in spec.user_tags] == ["gold"]
    assert [c.op for c in spec.system_tags] == [Operator.LIKE]
    assert spec.conditions[2].is_tag and spec.conditions[2].relations == ("zone",)


def test_in_values_split_on_commas() -> None:
    assert one("uuid?=a,,b").values() == ["a", "", "b"]


@pytest.mark.parametrize(
    "q",
    [
        "name = vm1",  # no spaces allowed around the operator
        " name=vm1",
        "name",
        "=vm1",
        "name.=x",
        ".name=x",
        "na-me=x",
        "1name=x",
        "name!x",
        "name~x",
        "name?x",
        "",
        "名前=x",
    ],
)
def test_malformed_conditions(q: str) -> None:
    with pytest.raises(InvalidQuery) as raised:
        parse_query([("q", q)])
    assert raised.value.code == "VOLPLANE.ARG.1007"
    assert "<field><operator><value>" in raised.value.details


def test_defaults() -> None:
    assert parse_query([]) == QuerySpec()
    assert QuerySpec().limit == DEFAULT_LIMIT == 1000


def test_parameters() -> None:
    spec = parse_query(
        [
            ("limit", "10"),
            ("start", "20"),
            ("count", "TRUE"),
            ("replyWithCount", "true"),
            ("sort", "-createDate"),
            ("fields", "uuid,name"),
            ("fields", "size"),
            ("fields", "uuid"),
            ("groupBy", "type"),
            ("unrelated", "whatever"),
        ]
    )
    assert (spec.limit, spec.start, spec.count, spec.reply_with_count) == (10, 20, True, True)
    assert spec.sort == ("createDate", False)
    assert spec.fields == ("uuid", "name", "size")
    assert spec.group_by == "type"


@pytest.mark.parametrize(
    ("params", "sort"),
    [
        ([("sort", "+name")], ("name", True)),
        ([("sort", " name")], ("name", True)),  # an unencoded '+' arrives as a space
        ([("sort", "name")], ("name", True)),
        ([("sort", "-name")], ("name", False)),
        ([("sortBy", "name")], ("name", True)),
        ([("sortBy", "name"), ("sortDirection", "DESC")], ("name", False)),
    ],
)
def test_sort_forms(params: list[tuple[str, str]], sort: tuple[str, bool]) -> None:
    assert parse_query(params).sort == sort


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ([("limit", "-1")], "negative"),
        ([("start", "-5")], "negative"),
        ([("limit", "abc")], "integer"),
        ([("limit", "1.5")], "integer"),
        ([("limit", "1_000")], "integer"),
        ([("limit", str(MAX_LIMIT + 1))], "at most"),
        ([("limit", "9" * 5000)], "integer"),
        ([("start", "99999999999")], "at most"),
        ([("limit", "1"), ("limit", "2")], "more than once"),
        ([("count", "yes")], "true or false"),
        ([("replyWithCount", "1")], "true or false"),
        ([("sort", "+")], "sort"),
        ([("sort", "+zone.name")], "native"),
        ([("sort", "*name")], "native"),
        ([("sortBy", "name"), ("sortDirection", "up")], "asc or desc"),
        ([("sortDirection", "asc")], "needs sortBy"),
        ([("sort", "+name"), ("sortBy", "name")], "not both"),
        ([("fields", "uuid,zone.name")], "native"),
        ([("fields", "__userTag__x;")], "native"),
        ([("groupBy", "zone.name")], "native"),
        ([("groupBy", "")], "native"),
        ([("q", "name=" + "x" * (MAX_VALUE_LENGTH + 1))], "longer than"),
        ([("q", "name=" + "x" * 100_000)], "too long"),
        ([("q", "name=a\x00b")], "NUL"),
        ([("q", "name=\ud800")], "not valid text"),
        ([("q", "uuid?=" + "a," * 2047 + "a")] * 5, "?= / !?= values"),
        ([("fields", ",".join(f"f{i}" for i in range(101)))], "at most 100 fields"),
    ],
)
def test_invalid_parameters(params: list[tuple[str, str]], message: str) -> None:
    with pytest.raises(InvalidQuery) as raised:
        parse_query(params)
    assert message in raised.value.details


def test_long_values_are_not_echoed_back() -> None:
    with pytest.raises(InvalidQuery) as raised:
        parse_query([("q", "name " + "x" * 4000)])
    assert len(raised.value.details) < 300


def test_condition_limit_is_inclusive() -> None:
    assert len(parse_query([("q", "name=x")] * MAX_CONDITIONS).conditions) == MAX_CONDITIONS
    with pytest.raises(InvalidQuery, match="at most 100"):
        parse_query([("q", "name=x")] * (MAX_CONDITIONS + 1))


def test_value_length_limit_is_inclusive() -> None:
    assert one("name=" + "x" * MAX_VALUE_LENGTH).value == "x" * MAX_VALUE_LENGTH


def test_path_depth_limit() -> None:
    deep = ".".join(["zone", "clusters"] * 3)  # six segments before the field
    assert len(one(".".join(["a"] * MAX_PATH_DEPTH) + ".name=x").path) == MAX_PATH_DEPTH + 1
    with pytest.raises(InvalidQuery, match="more than 5 relations"):
        parse_query([("q", deep + ".name=x")])


@given(st.lists(st.tuples(st.sampled_from(["q", "limit", "sort", "fields"]), st.text())))
def test_any_input_parses_or_is_an_invalid_query(params: list[tuple[str, str]]) -> None:
    with contextlib.suppress(InvalidQuery):
        parse_query(params)


@given(
    path=st.from_regex(
        r"[A-Za-z_][A-Za-z0-9_]{0,8}(\.[A-Za-z_][A-Za-z0-9_]{0,8}){0,3}", fullmatch=True
    ),
    op=st.sampled_from([op for op in Operator if op not in (Operator.IS_NULL, Operator.NOT_NULL)]),
    value=st.text(max_size=50).filter(lambda v: v != "null" and "\x00" not in v),
)
def test_condition_round_trips(path: str, op: Operator, value: str) -> None:
    try:
        value.encode()
    except UnicodeEncodeError:
        return
    condition = one(path + op.value + value)
    assert condition == Condition(tuple(path.split(".")), op, value)
    assert str(condition) == path + op.value + value
