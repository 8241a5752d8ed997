"""Reading ZStack request envelopes."""

from __future__ import annotations

import pytest

from api.body import action_params, create_params
from api.json_body import loads, nesting_depth
from volplane.errors import BodyTooDeep, InvalidJSON, InvalidParameter, UnknownAction


def test_create_params_fold_in_tags() -> None:
    body = {"params": {"name": "z"}, "systemTags": ["a"], "userTags": ["b"]}
    assert create_params(body) == {"name": "z", "systemTags": ["a"], "userTags": ["b"]}


@pytest.mark.parametrize(
    "body",
    [{}, {"params": []}, {"params": {}, "extra": 1}, {"params": {}, "userTags": "x"}],
)
def test_create_params_refuse_malformed(body: dict) -> None:
    with pytest.raises(InvalidParameter):
        create_params(body)


def test_action_params() -> None:
    assert action_params({"updateZone": {"name": "x"}, "userTags": []}, {"updateZone"}) == (
        "updateZone",
        {"name": "x"},
    )
    assert action_params({"cancelApiJob": None}, {"cancelApiJob"}) == ("cancelApiJob", {})
    with pytest.raises(UnknownAction):
        action_params({"a": {}, "b": {}}, {"a", "b"})
    with pytest.raises(UnknownAction):
        action_params({"nope": {}}, {"a"})
    with pytest.raises(InvalidParameter):
        action_params({"a": 5}, {"a"})


@pytest.mark.parametrize(
    ("raw", "depth"),
    [
        (b"{}", 1),
        (b'{"a": [1, {"b": []}]}', 4),
        (b'{"a": "[[[[{{{{"}', 1),
        (b'{"a": "\\"[[[["}', 1),
        (b"[" * 1000 + b"]" * 1000, 1000),
        (b"1", 0),
    ],
)
def test_nesting_depth_ignores_brackets_in_strings(raw: bytes, depth: int) -> None:
    assert nesting_depth(raw) == depth


def test_loads_refuses_deep_bodies_before_parsing() -> None:
    assert loads(b'{"a": [[1]]}', max_depth=3) == {"a": [[1]]}
    with pytest.raises(BodyTooDeep):
        loads(b'{"a": [[1]]}', max_depth=2)
    with pytest.raises(BodyTooDeep):
        loads(b"[" * 1000 + b"]" * 1000, max_depth=32)
    with pytest.raises(InvalidJSON):
        loads(b"{", max_depth=32)
