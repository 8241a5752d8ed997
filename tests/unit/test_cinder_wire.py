"""Cinder's wire rules as pure functions (api/cinder/wire.py)."""

from __future__ import annotations

from typing import Any

import pytest

from api.cinder.errors import CinderBadRequest, CinderNotFound, VersionNotAcceptable, fault_body
from api.cinder.wire import (
    MANAGEABLE_VERSION,
    paginate,
    parse_manage,
    parse_page,
    requested_version,
    require_version,
    summary,
)


def entry(name: str, size: int) -> dict[str, Any]:
    return {"reference": {"source-name": name}, "size": size, "safe_to_manage": True}


ENTRIES = [entry("b", 2), entry("a", 1), entry("c", 1), entry("d", 3)]


def names(entries: list[dict[str, Any]]) -> list[str]:
    return [e["reference"]["source-name"] for e in entries]


def test_microversion_header() -> None:
    assert requested_version("volume 3.8") == (3, 8)
    assert requested_version("compute 2.1, volume 3.16") == (3, 16)
    assert requested_version(None) == (3, 0)
    assert requested_version(None, "3.9") == (3, 9)
    assert requested_version("volume latest") == (3, 71)
    with pytest.raises(CinderBadRequest):
        requested_version("volume 3.x")
    with pytest.raises(VersionNotAcceptable):
        requested_version("volume 3.99")
    with pytest.raises(CinderNotFound):
        require_version((3, 7), MANAGEABLE_VERSION, "manageable_volumes")


def test_default_order_is_reference_descending() -> None:
    assert names(paginate(ENTRIES, parse_page({}))) == ["d", "c", "b", "a"]


def test_sort_by_several_keys() -> None:
    page = parse_page({"sort": "size:asc,reference:desc"})

    assert names(paginate(ENTRIES, page)) == ["c", "a", "b", "d"]


def test_marker_offset_and_limit_follow_cinder() -> None:
    page = parse_page(
        {"sort": "reference:asc", "marker": '{"source-name": "a"}', "offset": "1", "limit": "1"}
    )

    assert names(paginate(ENTRIES, page)) == ["c"]


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "name:asc"},
        {"sort": "size:sideways"},
        {"limit": "x"},
        {"offset": "-1"},
        {"marker": "not json"},
    ],
)
def test_bad_listing_parameters(params: dict[str, str]) -> None:
    with pytest.raises(CinderBadRequest):
        paginate(ENTRIES, parse_page(params))


def test_a_marker_that_is_not_listed() -> None:
    with pytest.raises(CinderBadRequest, match="marker not found"):
        paginate(ENTRIES, parse_page({"marker": '{"source-name": "zz"}'}))


def test_summary_keeps_three_keys() -> None:
    assert set(summary({**entry("a", 1), "cinder_id": None, "extra_info": None})) == {
        "reference",
        "size",
        "safe_to_manage",
    }


def test_manage_body_rules() -> None:
    ok = parse_manage(
        {"volume": {"host": "h@p", "ref": {"source-name": "x.qcow2"}, "name": None}}, (3, 8)
    )
    assert ok.host == "h@p" and ok.source_name == "x.qcow2" and ok.name is None
    by_id = parse_manage({"volume": {"cluster": "c@p", "ref": {"source-id": "y"}}}, (3, 16))
    assert by_id.cluster == "c@p" and by_id.source_name == "y"

    for body, version in [
        ({"volume": {"host": "h@p", "cluster": "c@p", "ref": {"source-name": "x"}}}, (3, 16)),
        ({"volume": {"ref": {"source-name": "x"}}}, (3, 16)),
        ({"volume": {"host": "h@p"}}, (3, 8)),
        ({"volume": {"host": "h@p", "ref": {"source-name": "x"}, "size": 1}}, (3, 8)),
        ({"volume": {"cluster": "c@p", "ref": {"source-name": "x"}}}, (3, 15)),
        ({"volume": {"host": "h@p", "ref": {}}}, (3, 8)),
        ({"volume": "h@p"}, (3, 8)),
        ({}, (3, 8)),
    ]:
        with pytest.raises(CinderBadRequest):
            parse_manage(body, version)


def test_fault_names() -> None:
    assert fault_body(400, "m") == {"badRequest": {"code": 400, "message": "m"}}
    assert fault_body(404, "m") == {"itemNotFound": {"code": 404, "message": "m"}}
    assert fault_body(502, "m") == {"computeFault": {"code": 502, "message": "m"}}
