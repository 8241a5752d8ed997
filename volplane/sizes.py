"""The one rule for a volume's size, whichever dialect or call gives it.

A qcow2 image's virtual size is a whole number of 512-byte sectors: ``qemu-img
create`` rounds a size up to one, and ``qemu-img resize`` refuses any other. So every
size a caller gives a volume (creating, resizing; ZStack's ``diskSize`` and ``size``,
the share dialect's ``capacity``) is rounded up to a sector before anything uses it.
"""

from __future__ import annotations

SECTOR = 512


def volume_size(requested: int) -> int:
    """``requested`` bytes rounded up to a whole sector: what the image will hold."""
    return -(-requested // SECTOR) * SECTOR
