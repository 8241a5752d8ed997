"""Pool capacity rules (thin provisioning), as plain functions.

``total`` and ``available`` are what the pool's filesystem reports; ``allocated`` is
the sum of the virtual sizes of the volumes in it. A pool may promise up to
``total * overAllocationThreshold`` bytes of virtual size.
"""

from __future__ import annotations

from dataclasses import dataclass

from volplane.errors import InsufficientCapacity

# Room a volume's snapshots may take beside it, unless its creator says otherwise.
SNAPSHOT_CAPACITY_FACTOR = 3


def default_snapshot_capacity(size: int) -> int:
    """The snapshot capacity of a volume of ``size`` virtual bytes (ZStack's 3 x size)."""
    return SNAPSHOT_CAPACITY_FACTOR * size


@dataclass(frozen=True)
class PoolCapacity:
    total: int
    available: int
    allocated: int
    threshold: float

    @property
    def limit(self) -> int:
        """The most virtual bytes the pool may hold."""
        return int(self.total * self.threshold)

    @property
    def allocatable(self) -> int:
        """Virtual bytes a new volume may still take."""
        return max(0, self.limit - self.allocated)

    def can_allocate(self, size: int) -> bool:
        return size <= self.allocatable

    def check_allocate(self, size: int, *, pool: str = "the pool") -> None:
        """Raises ``InsufficientCapacity`` if ``size`` more virtual bytes exceed the limit."""
        if not self.can_allocate(size):
            raise InsufficientCapacity(
                f"{pool}: {size} bytes requested, {self.allocatable} allocatable "
                f"({self.allocated} of {self.limit} allocated; total {self.total} "
                f"* overAllocationThreshold {self.threshold:g})"
            )


def summed(capacities: list[PoolCapacity]) -> dict[str, int]:
    """ZStack's GetPrimaryStorageCapacity answer for several pools."""
    return {
        "totalCapacity": sum(c.total for c in capacities),
        "availableCapacity": sum(c.available for c in capacities),
        "totalPhysicalCapacity": sum(c.total for c in capacities),
        "availablePhysicalCapacity": sum(c.available for c in capacities),
        "allocatedCapacity": sum(c.allocated for c in capacities),
    }
