"""ZStack's volume global configs: defaults and validation."""

from __future__ import annotations

import pytest

from volplane.errors import InvalidParameter, ResourceNotFound
from volplane.settings import Settings
from volplane.zstack_config import checked, defaults, entry


def test_zstacks_defaults() -> None:
    assert defaults(Settings()) == {
        "volume.deletionPolicy": "Delay",
        "volume.expungePeriod": "259200",
    }


@pytest.mark.parametrize(
    ("name", "value", "kept"),
    [("deletionPolicy", "Never", "Never"), ("expungePeriod", "60", "60")],
)
def test_valid_values_are_kept(name: str, value: str, kept: str) -> None:
    assert checked(entry("volume", name), value) == kept


@pytest.mark.parametrize(
    ("name", "value"),
    [("deletionPolicy", "delay"), ("expungePeriod", "0"), ("expungePeriod", "soon")],
)
def test_invalid_values_are_refused(name: str, value: str) -> None:
    with pytest.raises(InvalidParameter):
        checked(entry("volume", name), value)


def test_unknown_entries_are_not_found() -> None:
    with pytest.raises(ResourceNotFound):
        entry("volume", "expungeInterval")
