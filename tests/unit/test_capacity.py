"""Capacity rules, host status decisions and disk-driver helpers (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers.disk import filesystem_known, is_ours
from volplane.capacity import PoolCapacity, summed
from volplane.errors import InsufficientCapacity
from workers.heartbeat import next_status


def test_allocation_limit_is_total_times_threshold() -> None:
    pool = PoolCapacity(total=100, available=40, allocated=150, threshold=2.0)
    assert pool.limit == 200 and pool.allocatable == 50
    assert pool.can_allocate(50) and not pool.can_allocate(51)


def test_over_allocation_fails_with_capacity_code() -> None:
    pool = PoolCapacity(total=100, available=100, allocated=100, threshold=1.0)
    with pytest.raises(InsufficientCapacity) as raised:
        pool.check_allocate(1, pool="p1")
    assert raised.value.code == "VOLPLANE.STORAGE.1001" and "p1" in raised.value.details


def test_capacities_are_summed() -> None:
    pools = [PoolCapacity(10, 5, 3, 1.0), PoolCapacity(20, 1, 7, 1.0)]
    assert summed(pools) == {
        "totalCapacity": 30,
        "availableCapacity": 6,
        "totalPhysicalCapacity": 30,
        "availablePhysicalCapacity": 6,
        "allocatedCapacity": 10,
    }


@pytest.mark.parametrize(
    ("current", "alive", "expected"),
    [
        ("Connected", False, "Disconnected"),
        ("Disconnected", True, "Connected"),
        ("Connected", True, "Connected"),
        ("Connecting", False, "Connecting"),
    ],
)
def test_heartbeat_status(current: str, alive: bool, expected: str) -> None:
    assert next_status(current, alive) == expected


def test_only_our_label_is_reused() -> None:
    assert is_ours({"TYPE": "ext4", "LABEL": "volplane"})
    assert not is_ours({"TYPE": "ext4", "LABEL": "data"})
    assert not is_ours({"PTTYPE": "gpt"})
    assert not is_ours(None)


def test_filesystem_table(tmp_path: Path) -> None:
    table = tmp_path / "filesystems"
    table.write_text("nodev\tproc\n\text4\nnodev\tnfs4\n")
    assert filesystem_known("ext4", table) and filesystem_known("nfs4", table)
    assert not filesystem_known("cifs", table)
