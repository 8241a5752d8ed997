"""How ``volplane up`` picks its agent's port."""

from __future__ import annotations

import pytest

from volplane.embedded import AGENT_PORT, StartupRefused, pick_agent_port


def pick(requested: int | None, saved: int | None, taken: set[int]) -> int:
    return pick_agent_port(requested, saved, lambda p: p not in taken, lambda: 40000)


def test_asked_port_is_used_or_refused() -> None:
    assert pick(9000, 9100, set()) == 9000
    with pytest.raises(StartupRefused, match="agent port 9000 is taken"):
        pick(9000, None, {9000})


def test_last_port_then_7070_then_any_free() -> None:
    assert pick(None, 9100, set()) == 9100
    assert pick(None, 9100, {9100}) == AGENT_PORT
    assert pick(None, None, set()) == AGENT_PORT
    assert pick(None, None, {AGENT_PORT}) == 40000
    assert pick(None, 9100, {9100, AGENT_PORT}) == 40000
