"""One size rule for volumes: every size a caller gives is rounded up to a sector."""

from __future__ import annotations

import pytest

from api.share.requests import VolumeCreate
from schemas.storage_requests import CreateDataVolume, ResizeDataVolume
from volplane.sizes import SECTOR, volume_size

UUID = "0" * 32


@pytest.mark.parametrize(
    ("requested", "size"), [(1, 512), (512, 512), (513, 1024), (10 * 2**20 + 1, 10 * 2**20 + 512)]
)
def test_sizes_round_up_to_a_sector(requested: int, size: int) -> None:
    assert volume_size(requested) == size


@pytest.mark.parametrize("requested", [1, 1000, 2**30 + 7])
def test_every_dialect_rounds_the_same(requested: int) -> None:
    expected = volume_size(requested)
    assert expected % SECTOR == 0
    assert CreateDataVolume(name="v", diskSize=requested).diskSize == expected
    assert ResizeDataVolume(uuid=UUID, size=requested).size == expected
    share = VolumeCreate(
        cluster_uuid=UUID,
        tenant=UUID,
        pool_uuid=UUID,
        volume_name="v",
        volume_type="block",
        capacity=requested,
        snap_capacity=0,
    )
    assert share.capacity == expected
