"""Reading ZStack request envelopes."""

from __future__ import annotations

import pytest

from api.body import action_params, create_params
from volplane.errors import InvalidParameter, UnknownAction


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
