"""Reading ZStack request envelopes."""

from __future__ import annotations

import pytest

from api.body import action_params, create_params, without_path_echo
from api.json_body import loads, nesting_depth
from volplane.errors import BodyTooDeep, InvalidJSON, InvalidParameter, UnknownAction


def test_create_params_fold_in_tags() -> None:
    body = {"params": {"name": "z"}, "systemTags": ["a"], "userTags": ["b"]}
    assert create_params(body, path={}) == {"name": "z", "systemTags": ["a"], "userTags": ["b"]}


def test_tags_inside_params_as_zstack_sdks_send_them_are_kept() -> None:
    body = {"params": {"name": "z", "systemTags": ["a"], "userTags": ["b"]}}
    assert create_params(body, path={}) == {"name": "z", "systemTags": ["a"], "userTags": ["b"]}


@pytest.mark.parametrize(
    "body",
    [{}, {"params": []}, {"params": {}, "extra": 1}, {"params": {}, "userTags": "x"}],
)
def test_create_params_refuse_malformed(body: dict) -> None:
    with pytest.raises(InvalidParameter):
        create_params(body, path={})


def test_a_path_parameter_repeated_in_the_body_is_dropped_when_equal() -> None:
    body = {"params": {"volumeSnapshotUuid": "s1", "name": "c"}}
    assert create_params(body, path={"volumeSnapshotUuid": "s1"}) == {"name": "c"}


def test_a_path_parameter_repeated_with_another_value_is_refused() -> None:
    body = {"params": {"volumeSnapshotUuid": "s2", "name": "c"}}
    with pytest.raises(InvalidParameter, match="volumeSnapshotUuid"):
        create_params(body, path={"volumeSnapshotUuid": "s1"})


def test_unknown_fields_beside_a_repeated_path_parameter_stay() -> None:
    # Left for the request model to refuse: only the path's own parameters go.
    assert without_path_echo({"uuid": "u", "typo": 1}, {"uuid": "u"}) == {"typo": 1}


def test_action_params() -> None:
    assert action_params(
        {"updateZone": {"name": "x"}, "userTags": []}, {"updateZone"}, path={}
    ) == ("updateZone", {"name": "x"})
    assert action_params({"cancelApiJob": None}, {"cancelApiJob"}, path={}) == (
        "cancelApiJob",
        {},
    )
    with pytest.raises(UnknownAction):
        action_params({"a": {}, "b": {}}, {"a", "b"}, path={})
    with pytest.raises(UnknownAction):
        action_params({"nope": {}}, {"a"}, path={})
    with pytest.raises(InvalidParameter):
        action_params({"a": 5}, {"a"}, path={})


def test_action_params_drop_the_repeated_uuid_under_the_actions_own_name() -> None:
    body = {"syncPrimaryStorageCapacity": {"primaryStorageUuid": "p"}}
    renames = {"syncPrimaryStorageCapacity": {"uuid": "primaryStorageUuid"}}
    assert action_params(
        body, {"syncPrimaryStorageCapacity"}, path={"uuid": "p"}, path_fields=renames
    ) == ("syncPrimaryStorageCapacity", {})
    with pytest.raises(InvalidParameter):
        action_params({"updateZone": {"uuid": "other"}}, {"updateZone"}, path={"uuid": "p"})


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
