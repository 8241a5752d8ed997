"""Where each image file of a volume lives in its pool (see ``docs/image-layout.md``).

Every file sits directly in the pool's directory and is named after the volume that
owns it, so an operator can tell from a name alone what a file is:

    volume-<volume uuid>.qcow2                     the volume's head (what a VM writes)
    volume-<volume uuid>.snap-<snapshot uuid>.qcow2  a frozen snapshot of that volume
    volume-<volume uuid>.export.qcow2              a clone in transit to another host
    <any of the above>.part                        a copy being written (renamed when done)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SUFFIX = ".qcow2"
PART_SUFFIX = ".part"
_NAME = re.compile(
    r"^volume-(?P<volume>[0-9a-f]{32})"
    r"(?:\.snap-(?P<snapshot>[0-9a-f]{32})|(?P<export>\.export))?\.qcow2(?P<part>\.part)?$"
)


def _join(mount_path: str, name: str) -> str:
    return f"{mount_path.rstrip('/')}/{name}"


def head_path(mount_path: str, volume_uuid: str) -> str:
    return _join(mount_path, f"volume-{volume_uuid}{SUFFIX}")


def snapshot_path(mount_path: str, volume_uuid: str, snapshot_uuid: str) -> str:
    return _join(mount_path, f"volume-{volume_uuid}.snap-{snapshot_uuid}{SUFFIX}")


def export_path(mount_path: str, volume_uuid: str) -> str:
    """A flattened copy made on the source host while a clone travels to another host."""
    return _join(mount_path, f"volume-{volume_uuid}.export{SUFFIX}")


@dataclass(frozen=True)
class FileRole:
    """What a pool file is, read from its name."""

    volume_uuid: str
    role: str  # "head" | "snapshot" | "export"
    snapshot_uuid: str | None = None
    partial: bool = False


def recognize(name: str) -> FileRole | None:
    """The role of a file (by its name relative to the pool), or None if it is not ours."""
    found = _NAME.match(name.rsplit("/", 1)[-1])
    if found is None:
        return None
    role = "snapshot" if found["snapshot"] else "export" if found["export"] else "head"
    return FileRole(
        volume_uuid=found["volume"],
        role=role,
        snapshot_uuid=found["snapshot"],
        partial=bool(found["part"]),
    )
