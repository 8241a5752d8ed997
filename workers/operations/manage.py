"""Adopting existing images (CONTRACT §5 manageable volumes, §9): list, manage, unmanage.

The pool's agent judges each file (``drivers/discovery.py``); this module tells it
which files volumes already own, and turns a safe file into a volume row exactly as
CreateDataVolume would (same table, ``install_path``, pool ``allocatedCapacity``),
so a managed volume is a volume like any other: snapshots, clones, backups.

- A **qcow2** image is adopted in place: the file becomes the volume's head, and the
  backing file it may have (inside the pool) becomes the volume's base.
- A **raw** image cannot be a head (every volume operation works on qcow2), so the
  volume gets a new qcow2 head whose backing file is the raw image, and is tagged
  ``MANAGED_RAW_TAG``. Nothing is copied.

Unmanaging forgets the volume and keeps its data in a file: a qcow2 head stays where
it is (a head named like a volplane image, ``volume-<uuid>.qcow2``, is renamed to
``unmanaged-volume-<uuid>.qcow2`` so discovery does not take it for an image in the
making); a raw adoption's head is committed into the raw image and removed. A volume
with snapshots (or linked clones of them) is refused: the file would not hold them.

Manage jobs serialize on their pool (``PrimaryStorage:<uuid>``), so two adoptions of
one file, or of an image and its backing file, never race.
"""

from __future__ import annotations

import posixpath
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from schemas import manage_requests as rq
from schemas.infra import PrimaryStorage
from schemas.storage import Volume, VolumeSnapshot, VolumeStatus
from schemas.storage_inventories import reason_not_safe, volume_inventory
from schemas.tables import Account, ResourceTag
from volplane import layout
from volplane.backing import ImageRole
from volplane.capacity import default_snapshot_capacity
from volplane.catalog import manage as catalog
from volplane.errors import (
    DuplicateResource,
    ImageNotManageable,
    InvalidParameter,
    ResourceNotFound,
    VolplaneError,
    VolumeNotUnmanageable,
)
from volplane.store.images import MANAGED_RAW_TAG, image_owners
from volplane.store.manageable import owned_images
from volplane.store.tags import add_tags, delete_tags
from volplane.tenancy import Actor, Tenant, may_act_for, may_see
from workers.context import JobContext, Runs
from workers.operations.primary_storage import refresh_allocated
from workers.operations.volumes import (
    agent_for_pool,
    check_allocate,
    check_pool_open,
    linked_clones_of,
    lock_pool,
    place_volume,
    pool_of,
    record_size,
    require_ready,
    snapshots_of,
    visible_volume,
)

UNMANAGED_PREFIX = "unmanaged-"


# --- operations --------------------------------------------------------------------


def _owner(ctx: JobContext, account_uuid: str | None) -> Actor:
    """Who the adopted volume will belong to: the caller, or the account it names."""
    if account_uuid is None or account_uuid == ctx.account_uuid:
        return ctx
    account = ctx.session.get(Account, account_uuid)
    if account is None:
        raise ResourceNotFound(f"account {account_uuid} does not exist")
    return Tenant(account.uuid, is_admin=account.is_admin)


def _depends_on(
    ctx: JobContext, req: rq.ManageVolume, pool: PrimaryStorage, base: str | None, owner: Actor
) -> str | None:
    """The snapshot an adopted image is built on directly, which the new volume then
    depends on (as a linked clone does); its volume is locked so it cannot go now."""
    if base is None:
        return None
    found = image_owners(ctx.session, pool.uuid).get(posixpath.normpath(base))
    if found is None or found.role is ImageRole.BASE:
        return None
    if found.role is not ImageRole.SNAPSHOT or not may_act_for(owner, found.account_uuid):
        raise ImageNotManageable(
            f"{req.sourceName}: its backing file {base} is an image of volume "
            f"{found.volume_uuid} that account {owner.account_uuid} may not build on"
        )
    visible_volume(ctx, found.volume_uuid)
    return found.snapshot_uuid


def _claimed(session: Session, path: str) -> str | None:
    """The volume that owns ``path`` by now, if any (checked under the pool lock)."""
    as_volume = session.scalar(
        select(Volume.uuid).where(or_(Volume.install_path == path, Volume.base_path == path))
    )
    if as_volume is not None:
        return as_volume
    return session.scalar(
        select(VolumeSnapshot.volume_uuid).where(VolumeSnapshot.install_path == path)
    )


def manage_volume(ctx: JobContext, req: rq.ManageVolume) -> dict[str, Any]:
    uuid = ctx.resource_uuid
    assert uuid is not None
    if ctx.session.get(Volume, uuid) is not None:
        raise DuplicateResource(f"volume {uuid} already exists")
    owner = _owner(ctx, req.accountUuid)
    pool = check_pool_open(
        ctx, ctx.session.get(PrimaryStorage, req.primaryStorageUuid), req.primaryStorageUuid
    )
    if not may_see(pool, owner):
        raise InvalidParameter(
            f"primary storage {pool.uuid} is not open to account {owner.account_uuid}"
        )
    host_uuid = place_volume(ctx, pool, req.systemTags, 0)
    agent = agent_for_pool(ctx, pool, new_work=True, host_uuid=host_uuid)
    found = agent.manageable_images(
        pool.mount_path,
        owned_images(ctx.session, pool.uuid),
        names=[req.sourceName],
        op_id=ctx.op_id("discover"),
    ).images
    if not found:
        raise ResourceNotFound(f"primary storage {pool.uuid} holds no image {req.sourceName}")
    image = found[0]
    if not image.safe_to_manage:
        raise ImageNotManageable(f"{req.sourceName}: {reason_not_safe(image)}")
    assert image.virtual_size is not None
    raw = image.format == "raw"
    base_path: str | None
    if raw:
        head = layout.head_path(pool.mount_path, uuid)
        info = agent.create_volume(ctx.op_id("overlay"), head, backing_file=image.path)
        install_path, base_path, actual_size = head, image.path, info.actual_size or 0
    else:
        install_path, base_path = image.path, image.backing_file
        actual_size = image.actual_size or 0
    parent_snapshot = None if raw else _depends_on(ctx, req, pool, base_path, owner)
    try:
        pool = check_pool_open(ctx, lock_pool(ctx, pool.uuid), pool.uuid)
        claimed = _claimed(ctx.session, image.path)
        if claimed is not None:
            raise ImageNotManageable(f"{req.sourceName}: already managed by volume {claimed}")
        check_allocate(pool, image.virtual_size)
    except VolplaneError:
        if raw:
            agent.delete_volume(ctx.op_id("undo-overlay"), install_path)
        raise
    volume = Volume(
        uuid=uuid,
        name=req.name or posixpath.basename(req.sourceName),
        description=req.description,
        account_uuid=owner.account_uuid,
        primary_storage_uuid=pool.uuid,
        host_uuid=host_uuid,
        size=image.virtual_size,
        actual_size=actual_size,
        snapshot_size=0,
        snapshot_capacity=(
            req.snapshotCapacity
            if req.snapshotCapacity is not None
            else default_snapshot_capacity(image.virtual_size)
        ),
        install_path=install_path,
        base_path=base_path,
        parent_snapshot_uuid=parent_snapshot,
        status=VolumeStatus.READY,
    )
    ctx.session.add(volume)
    system_tags = [*req.systemTags, *([MANAGED_RAW_TAG] if raw else [])]
    add_tags(ctx.session, uuid, "Volume", system=system_tags, user=req.userTags)
    record_size(ctx, volume)
    return {"inventory": volume_inventory(volume)}


def is_raw_adoption(session: Session, volume: Volume) -> bool:
    tagged = session.scalar(
        select(ResourceTag.tag).where(
            ResourceTag.resource_uuid == volume.uuid,
            ResourceTag.tag_type == "system",
            ResourceTag.tag == MANAGED_RAW_TAG,
        )
    )
    return tagged is not None and volume.base_path is not None


def kept_path(install_path: str) -> str:
    """Where an unmanaged head is left: in place, unless its name is reserved for
    volplane's own images."""
    if layout.recognize(install_path) is None:
        return install_path
    directory, name = posixpath.split(install_path)
    return posixpath.join(directory, UNMANAGED_PREFIX + name)


def unmanage_volume(ctx: JobContext, req: rq.UnmanageVolume) -> dict[str, Any]:
    volume = visible_volume(ctx, req.uuid)
    require_ready(volume)
    snapshots = snapshots_of(ctx.session, volume.uuid)
    clones = linked_clones_of(ctx.session, volume.uuid)
    if snapshots or clones:
        raise VolumeNotUnmanageable(
            f"volume {volume.uuid} has {len(snapshots)} snapshot(s) and {len(clones)} "
            "linked clone(s); delete them (or flatten the clones) first"
        )
    agent = agent_for_pool(ctx, pool_of(ctx, volume), host_uuid=volume.host_uuid)
    if is_raw_adoption(ctx.session, volume):
        assert volume.base_path is not None
        agent.commit_image(ctx.op_id("commit"), volume.install_path)
        agent.delete_volume(ctx.op_id("drop-head"), volume.install_path)
        kept = volume.base_path
    else:
        kept = kept_path(volume.install_path)
        if kept != volume.install_path:
            agent.rename_image(ctx.op_id("rename"), volume.install_path, kept)
    inventory = {**volume_inventory(volume), "installPath": kept, "status": "Unmanaged"}
    delete_tags(ctx.session, volume.uuid)
    ctx.session.delete(volume)
    ctx.session.flush()
    record_size_after_removal(ctx, volume.primary_storage_uuid)
    return {"inventory": inventory}


def record_size_after_removal(ctx: JobContext, pool_uuid: str) -> None:
    refresh_allocated(ctx.session, lock_pool(ctx, pool_uuid))
    ctx.session.flush()


RUNS: Runs = {
    catalog.MANAGE_VOLUME: manage_volume,
    catalog.UNMANAGE_VOLUME: unmanage_volume,
}
