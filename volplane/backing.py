"""What a caller-supplied ``backingFile`` may point to (CONTRACT §5, ``docs/volumes.md``).

A new volume may be built on an image of the pool it is made in:

- a **template**: a file of the pool that no volume owns (or that volumes use only as
  their read-only base), whose own backing chain stays inside the pool and touches no
  volume's image. Templates are shared by every tenant that may use the pool;
- a **snapshot image of a volume the caller may see**: the new volume is then recorded
  as depending on that snapshot (``parentSnapshotUuid``, as a linked clone is), so the
  snapshot cannot be deleted, nor its volume deleted without ``force``, while the new
  volume needs it.

Everything else is refused: a path that leaves the pool (also through ``..`` or a
symbolic link), a missing file, another tenant's image, a file named like a volplane
image that no volume owns (an image being made, or a leftover), and a volume's writable
head (its data changes under the new volume; the caller's own head is a clear 400 that
says to snapshot it first, anyone else's is not found).

``choose_backing`` is pure: the worker asks the pool's agent where the path really
leads (``AgentClient.locate_image``) and which volumes own which files (the store), and
this module decides.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from volplane import layout
from volplane.errors import InvalidParameter, ResourceNotFound
from volplane.tenancy import Actor, may_act_for


class ImageRole(StrEnum):
    HEAD = "head"  # a volume's writable image
    SNAPSHOT = "snapshot"  # a frozen snapshot image
    BASE = "base"  # a template a volume is built on (read-only, shared)
    DATA = "data"  # a raw image adopted as a volume: that volume's data, written on unmanage


@dataclass(frozen=True)
class ImageOwner:
    """The volume a file of a pool belongs to, and in which role."""

    volume_uuid: str
    account_uuid: str
    role: ImageRole
    snapshot_uuid: str | None = None


@dataclass(frozen=True)
class BackingChoice:
    """The image a new volume is built on (its canonical path in the pool), and the
    snapshot it depends on, if it is one."""

    path: str
    parent_snapshot_uuid: str | None = None


def name_in_pool(mount_path: str, path: str) -> str | None:
    """``path`` as a name inside the pool, or None when, read as written, it is not an
    absolute path strictly inside ``mount_path`` or has ``.``/``..`` parts."""
    root = mount_path.rstrip("/")
    if not path.startswith(root + "/"):
        return None
    name = path[len(root) + 1 :]
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return None
    return name


def _missing(requested: str, pool_uuid: str) -> ResourceNotFound:
    return ResourceNotFound(
        f"backing file {requested} does not exist in primary storage {pool_uuid}"
    )


def choose_backing(
    *,
    requested: str,
    pool_uuid: str,
    mount_path: str,
    chain: Sequence[str | None],
    owners: Mapping[str, ImageOwner],
    actor: Actor,
) -> BackingChoice:
    """Judges ``requested`` for ``actor``.

    ``chain`` is where the path really leads, as the pool's agent found it: the file's
    name in the pool first, then the names of its backing files (None for one outside
    the pool); empty when there is no such regular file inside the pool. ``owners``
    maps canonical paths (``mount_path/name``) to the volumes that own them.
    """
    if name_in_pool(mount_path, requested) is None or not chain or chain[0] is None:
        raise _missing(requested, pool_uuid)
    root = mount_path.rstrip("/")
    path = posixpath.join(root, chain[0])
    owner = owners.get(path)
    if owner is not None and owner.role is ImageRole.BASE:
        owner = None  # a template: shared, whoever's volumes are built on it
    if owner is not None and not may_act_for(actor, owner.account_uuid):
        raise _missing(requested, pool_uuid)
    if owner is not None and owner.role in (ImageRole.HEAD, ImageRole.DATA):
        raise InvalidParameter(
            f"backing file {requested} is the writable image of volume {owner.volume_uuid}; "
            "take a snapshot and use its image, or clone the snapshot"
        )
    if owner is not None and owner.role is ImageRole.SNAPSHOT:
        # The rest of its chain is the same volume's tree and base, kept by that volume.
        return BackingChoice(path=path, parent_snapshot_uuid=owner.snapshot_uuid)
    for name in chain:
        if name is None:
            raise _missing(requested, pool_uuid)
        below = owners.get(posixpath.join(root, name))
        if below is not None and below.role is not ImageRole.BASE:
            raise _missing(requested, pool_uuid)
        if below is None and layout.recognize(name) is not None:
            raise _missing(requested, pool_uuid)
    return BackingChoice(path=path)
