"""Putting a finished file in place so that it survives a crash of the host.

qemu-img writes its output through the page cache and never flushes it: an image
renamed into place and reported ready could lose its data to a power failure. The
data is flushed before the rename, and the rename itself by a flush of the folder.
"""

from __future__ import annotations

import os
from pathlib import Path


def fsync_path(path: Path) -> None:
    """Flushes a file's (or a folder's) data and metadata to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def durable_replace(part: Path, dst: Path) -> None:
    """Renames a completely written ``part`` to ``dst``, both flushed to disk."""
    fsync_path(part)
    os.replace(part, dst)
    fsync_path(dst.parent)
