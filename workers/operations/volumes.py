"""Volume operations (CONTRACT §5, §6): create, delete, resize, sync, update, flatten, state.

How they use transactions: ``ctx.session`` commits only with the job's end, so each
operation runs its agent steps first (each with ``ctx.op_id(step)``, so a rerun after
a worker died re-attaches instead of redoing) and writes rows afterwards. The pool row
is locked last (``lock_pool``) and only long enough to check capacity and record
``allocatedCapacity``, which is kept equal to the sum of the pool's volume sizes.
Every operation on a volume or its snapshots serializes on ``Volume:<uuid>``.
"""

from __future__ import annotations

import contextlib
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from drivers.client import AgentClient
from schemas import storage_requests as rq
from schemas.agent import ImageInfo
from schemas.infra import Host, PrimaryStorage
from schemas.states import ResourceState
from schemas.storage import DiskOffering, Volume, VolumeSnapshot, VolumeStatus
from schemas.storage_inventories import volume_inventory
from schemas.tables import utcnow
from volplane import layout
from volplane.backing import BackingChoice, choose_backing, name_in_pool
from volplane.capacity import default_snapshot_capacity
from volplane.catalog import volumes as catalog
from volplane.errors import (
    DriverCommandFailed,
    DuplicateResource,
    InvalidParameter,
    InvalidStoragePath,
    NoPoolAvailable,
    ResourceInState,
    ResourceNotFound,
    VolplaneError,
    VolumeHasDependents,
    VolumeShrinkRefused,
)
from volplane.sizes import volume_size
from volplane.snapshot_tree import (
    Delete,
    Overlay,
    Plan,
    Rebase,
    Rename,
    SnapshotNode,
    VolumeTree,
    plan_destroy,
    plan_flatten,
    step_name,
)
from volplane.store.images import image_owners
from volplane.store.tags import add_tags, delete_tags
from volplane.tenancy import get_visible, may_see, visible
from volplane.zstack_config import volume_deletion
from workers.context import JobContext, Runs
from workers.operations.common import absent_is_deleted
from workers.operations.host_access import CONNECTED, agent_of, require_usable_host
from workers.operations.primary_storage import (
    capacity_of,
    host_refs,
    hosts_of_pool,
    refresh_allocated,
)

# --- helpers shared with snapshots and clones ----------------------------------------


def side_session(ctx: JobContext) -> Session:
    """A session of its own, committed at once (``Creating`` rows, clone progress). The
    job's own transaction is ended first if it wrote nothing, so a job never holds two
    pooled connections at once."""
    ctx.end_read_transaction()
    return Session(bind=ctx.session.get_bind(), expire_on_commit=False)


def remove_creating(
    ctx: JobContext, uuid: str, pool_uuid: str, path: str, agent: AgentClient, step: str
) -> None:
    """Removes a volume that never became Ready (a failed or cancelled full clone or
    restore): its image, if the agent made it, then its Creating row, which gives the
    pool its reserved capacity back."""
    with contextlib.suppress(VolplaneError):
        agent.delete_volume(ctx.op_id(step), path)
    with side_session(ctx) as session, session.begin():
        pool = session.get(PrimaryStorage, pool_uuid, with_for_update=True)
        session.execute(
            delete(Volume).where(Volume.uuid == uuid, Volume.status == VolumeStatus.CREATING)
        )
        if pool is not None:
            session.flush()
            refresh_allocated(session, pool)


def visible_volume(ctx: JobContext, uuid: str | None, *, lock: bool = True) -> Volume:
    """The volume (locked for this job) if the caller may see it; else not found."""
    return get_visible(ctx.session, Volume, uuid, ctx, lock=lock)


def require_ready(volume: Volume) -> None:
    if volume.status != VolumeStatus.READY:
        raise ResourceInState(f"volume {volume.uuid} is {volume.status}")


def pool_of(ctx: JobContext, volume: Volume) -> PrimaryStorage:
    pool = ctx.session.get(PrimaryStorage, volume.primary_storage_uuid)
    if pool is None:
        raise ResourceNotFound(f"primary storage {volume.primary_storage_uuid} does not exist")
    return pool


def agent_for_pool(
    ctx: JobContext,
    pool: PrimaryStorage,
    *,
    new_work: bool = False,
    host_uuid: str | None = None,
) -> AgentClient:
    """The agent of a host that reaches the pool and can take the work.

    In cluster-wide local storage a volume's files are on its host only: pass the
    volume's ``host_uuid`` (or the one ``place_volume`` chose), whose agent it must be.
    """
    if pool.is_cluster_local:
        host = ctx.session.get(Host, host_uuid) if host_uuid else None
        if host is None:
            raise ResourceInState(f"host {host_uuid} of local storage {pool.uuid} is gone")
        require_usable_host(host, new_work=new_work)
        return agent_of(ctx, host)
    hosts = hosts_of_pool(ctx, pool)
    for host in hosts:
        usable = host.status == CONNECTED and host.state != ResourceState.MAINTENANCE
        if usable and not (new_work and host.state == ResourceState.DISABLED):
            return agent_of(ctx, host)
    if hosts:
        require_usable_host(hosts[0], new_work=new_work)
    raise ResourceInState(f"primary storage {pool.uuid} is reachable from no connected host")


def place_volume(
    ctx: JobContext, pool: PrimaryStorage, system_tags: list[str] | None, size: int
) -> str | None:
    """The host a new volume of the pool goes to: the pool's own host; in cluster-wide
    local storage the ``localStorage::hostUuid::<uuid>`` system tag's, else the usable
    host of the pool with the most available space (ZStack's allocator)."""
    if not pool.is_cluster_local:
        return pool.host_uuid
    refs = {ref.host_uuid: ref for ref in host_refs(ctx.session, pool.uuid)}
    wanted = local_storage_host_tag(system_tags)
    if wanted is not None:
        if wanted not in refs:
            raise InvalidParameter(f"host {wanted} has no share of local storage {pool.uuid}")
        host = ctx.session.get(Host, wanted)
        assert host is not None
        require_usable_host(host)
        return wanted
    usable = []
    for host_uuid, ref in refs.items():
        host = ctx.session.get(Host, host_uuid)
        if host is not None and host.status == CONNECTED and host.state == "Enabled":
            usable.append((ref.available_capacity, host.create_date, host_uuid))
    if not usable:
        raise NoPoolAvailable(f"local storage {pool.uuid} has no connected, enabled host")
    return max(usable, key=lambda found: (found[0], -found[1].timestamp()))[2]


def local_storage_host_tag(system_tags: list[str] | None) -> str | None:
    """The host a ``localStorage::hostUuid::<uuid>`` system tag names, if any."""
    for tag in system_tags or []:
        prefix, _, value = tag.partition("localStorage::hostUuid::")
        if not prefix and value:
            return value.strip()
    return None


def check_pool_open(ctx: JobContext, pool: PrimaryStorage | None, uuid: str) -> PrimaryStorage:
    """A pool the caller may place new volumes in (a closed pool is reported as absent)."""
    if pool is None or not may_see(pool, ctx):
        raise ResourceNotFound(f"primary storage {uuid} does not exist")
    if pool.state != ResourceState.ENABLED:
        raise ResourceInState(f"primary storage {pool.uuid} is {pool.state}")
    if pool.status != CONNECTED:
        raise ResourceInState(f"primary storage {pool.uuid} is {pool.status}")
    return pool


def lock_pool(ctx: JobContext, uuid: str) -> PrimaryStorage:
    pool = ctx.session.get(PrimaryStorage, uuid, with_for_update=True, populate_existing=True)
    if pool is None:
        raise ResourceNotFound(f"primary storage {uuid} does not exist")
    return pool


def check_allocate(pool: PrimaryStorage, delta: int) -> None:
    """Raises InsufficientCapacity if ``delta`` more virtual bytes exceed total * threshold."""
    if delta > 0:
        capacity_of(pool).check_allocate(delta, pool=f"primary storage {pool.uuid}")


def takes_new_work(ctx: JobContext, pool: PrimaryStorage) -> bool:
    """Whether a connected, enabled host reaches the pool (a shared pool whose hosts are
    all down cannot take a new volume, however Connected its own row still reads)."""
    if pool.is_cluster_local:
        hosts = [ctx.session.get(Host, ref.host_uuid) for ref in host_refs(ctx.session, pool.uuid)]
    else:
        hosts = list(hosts_of_pool(ctx, pool))
    return any(
        host is not None and host.status == CONNECTED and host.state == ResourceState.ENABLED
        for host in hosts
    )


def choose_pool(ctx: JobContext, requested: str | None, size: int) -> PrimaryStorage:
    """The requested pool, or the allocator's pick: the enabled, connected pool open to
    the caller, reached by a connected and enabled host, with the most available capacity
    that can still take ``size``."""
    if requested is not None:
        pool = check_pool_open(ctx, ctx.session.get(PrimaryStorage, requested), requested)
        check_allocate(pool, size)
        return pool
    candidates = [
        pool
        for pool in ctx.session.scalars(
            select(PrimaryStorage).where(
                PrimaryStorage.state == ResourceState.ENABLED, PrimaryStorage.status == CONNECTED
            )
        )
        if may_see(pool, ctx) and capacity_of(pool).can_allocate(size) and takes_new_work(ctx, pool)
    ]
    if not candidates:
        raise NoPoolAvailable(f"no pool open to this account can take {size} more bytes")
    return max(candidates, key=lambda p: (p.available_capacity, capacity_of(p).allocatable))


def snapshots_of(session: Session, volume_uuid: str) -> list[VolumeSnapshot]:
    return list(
        session.scalars(
            select(VolumeSnapshot)
            .where(VolumeSnapshot.volume_uuid == volume_uuid)
            .order_by(VolumeSnapshot.create_date, VolumeSnapshot.uuid)
        )
    )


def tree_of(volume: Volume, snapshots: list[VolumeSnapshot]) -> VolumeTree:
    return VolumeTree.of(
        head_path=volume.install_path,
        current=volume.current_snapshot_uuid,
        base_path=volume.base_path,
        snapshots=[SnapshotNode(s.uuid, s.parent_uuid, s.install_path) for s in snapshots],
    )


def run_plan(ctx: JobContext, agent: AgentClient, plan: Plan, prefix: str) -> dict[str, ImageInfo]:
    """Carries out the plan's image steps in order; the images made or changed, by path.

    No cancel point between steps: a plan stops only when a step fails.
    """
    results: dict[str, ImageInfo] = {}
    for index, step in enumerate(plan.steps):
        op_id = ctx.op_id(f"{prefix}{step_name(index, step)}")
        if isinstance(step, Rename):
            results[step.dst] = agent.rename_image(op_id, step.src, step.dst)
        elif isinstance(step, Overlay):
            results[step.path] = agent.create_overlay(op_id, step.path, step.backing)
        elif isinstance(step, Rebase):
            results[step.path] = agent.rebase_image(op_id, step.path, step.backing or "")
        elif isinstance(step, Delete):
            agent.delete_volume(op_id, step.path)
    return results


def measure(
    ctx: JobContext, agent: AgentClient, volume: Volume, snapshots: list[VolumeSnapshot], step: str
) -> None:
    """Reads sizes from the images: the head's, and the snapshots' (snapshotSize)."""
    head = agent.volume_info(volume.install_path, op_id=ctx.op_id(f"{step}-head"))
    volume.actual_size = head.actual_size or 0
    for index, snapshot in enumerate(snapshots):
        info = agent.volume_info(snapshot.install_path, op_id=ctx.op_id(f"{step}-{index}"))
        snapshot.size = info.actual_size or 0
    volume.snapshot_size = sum(s.size for s in snapshots)


def record_size(ctx: JobContext, volume: Volume) -> None:
    """After a volume's virtual size changed: the pool's allocated capacity follows."""
    ctx.session.flush()
    refresh_allocated(ctx.session, lock_pool(ctx, volume.primary_storage_uuid))
    ctx.session.flush()


def done(ctx: JobContext, volume: Volume) -> dict[str, Any]:
    volume.last_op_date = utcnow()
    ctx.session.flush()
    return {"inventory": volume_inventory(volume)}


# --- operations --------------------------------------------------------------------


def offered_size(ctx: JobContext, offering_uuid: str) -> int:
    """The size of an enabled disk offering (ZStack refuses a disabled one)."""
    offering = ctx.session.get(DiskOffering, offering_uuid)
    if offering is None:
        raise ResourceNotFound(f"disk offering {offering_uuid} does not exist")
    if offering.state != "Enabled":
        raise ResourceInState(f"disk offering {offering_uuid} is {offering.state}")
    return offering.disk_size


def pool_holding(ctx: JobContext, path: str) -> PrimaryStorage:
    """The pool open to the caller whose directory ``path`` names a file in."""
    holding = [
        pool
        for pool in ctx.session.scalars(
            select(PrimaryStorage).where(visible(PrimaryStorage, ctx)).order_by(PrimaryStorage.uuid)
        )
        if name_in_pool(pool.mount_path, path) is not None
    ]
    if not holding:
        raise ResourceNotFound(f"backing file {path} is in no primary storage open to this account")
    return max(holding, key=lambda pool: len(pool.mount_path.rstrip("/")))


def backing_of(
    ctx: JobContext, agent: AgentClient, pool: PrimaryStorage, requested: str
) -> BackingChoice:
    """What ``requested`` may back a new volume with (``volplane.backing``). A snapshot
    image's volume is locked, so that the snapshot cannot go while the volume is made."""
    located = agent.locate_image(pool.mount_path, requested, op_id=ctx.op_id("locate"))
    choice = choose_backing(
        requested=requested,
        pool_uuid=pool.uuid,
        mount_path=pool.mount_path,
        chain=located.names,
        owners=image_owners(ctx.session, pool.uuid),
        actor=ctx,
    )
    if choice.parent_snapshot_uuid is not None:
        keep_snapshot(ctx, choice.parent_snapshot_uuid)
    return choice


def keep_snapshot(ctx: JobContext, snapshot_uuid: str) -> VolumeSnapshot:
    """The Ready snapshot a new volume is built on, with its volume locked so that a
    delete cannot take it before the new volume is recorded as depending on it."""
    snapshot = get_visible(ctx.session, VolumeSnapshot, snapshot_uuid, ctx)
    visible_volume(ctx, snapshot.volume_uuid)
    # Read again under the volume's lock: a delete that held it may have taken it.
    snapshot = get_visible(ctx.session, VolumeSnapshot, snapshot_uuid, ctx, lock=True)
    if snapshot.status != "Ready":
        raise ResourceInState(f"snapshot {snapshot.uuid} is {snapshot.status}")
    return snapshot


def create_data_volume(ctx: JobContext, req: rq.CreateDataVolume) -> dict[str, Any]:
    """A new volume: empty (``diskSize``, or the size of ZStack's ``diskOfferingUuid``,
    which is recorded on the volume; an explicit diskSize wins, as in ZStack), or built
    on ``backingFile`` (see ``volplane.backing`` for what it may name)."""
    uuid = ctx.resource_uuid
    assert uuid is not None
    if ctx.session.get(Volume, uuid) is not None:
        raise DuplicateResource(f"volume {uuid} already exists")
    size = req.diskSize or None
    if req.diskOfferingUuid is not None:
        # the offering keeps the size it was given; the volume follows the one size rule
        size = size or volume_size(offered_size(ctx, req.diskOfferingUuid))
    requested = req.primaryStorageUuid
    if req.backingFile is not None and requested is None:
        requested = pool_holding(ctx, req.backingFile).uuid
    pool = choose_pool(ctx, requested, size or 0)
    host_uuid = place_volume(ctx, pool, req.systemTags, size or 0)
    agent = agent_for_pool(ctx, pool, new_work=True, host_uuid=host_uuid)
    backing = None if req.backingFile is None else backing_of(ctx, agent, pool, req.backingFile)
    path = layout.head_path(pool.mount_path, uuid)
    info = agent.create_volume(
        ctx.op_id("create"),
        path,
        size=size,
        backing_file=None if backing is None else backing.path,
    )
    try:
        if backing is not None and backing.parent_snapshot_uuid is not None:
            # Its snapshot must still be there once the volume is recorded on it.
            keep_snapshot(ctx, backing.parent_snapshot_uuid)
        pool = check_pool_open(ctx, lock_pool(ctx, pool.uuid), pool.uuid)
        check_allocate(pool, info.virtual_size)
    except VolplaneError:
        agent.delete_volume(ctx.op_id("undo-create"), path)
        raise
    volume = Volume(
        uuid=uuid,
        name=req.name,
        description=req.description,
        account_uuid=ctx.account_uuid,
        primary_storage_uuid=pool.uuid,
        host_uuid=host_uuid,
        size=info.virtual_size,
        actual_size=info.actual_size or 0,
        snapshot_size=0,
        snapshot_capacity=(
            req.snapshotCapacity
            if req.snapshotCapacity is not None
            else default_snapshot_capacity(info.virtual_size)
        ),
        install_path=path,
        base_path=None if backing is None else backing.path,
        parent_snapshot_uuid=None if backing is None else backing.parent_snapshot_uuid,
        status=VolumeStatus.READY,
        disk_offering_uuid=req.diskOfferingUuid,
    )
    ctx.session.add(volume)
    add_tags(ctx.session, uuid, "Volume", system=req.systemTags, user=req.userTags)
    record_size(ctx, volume)
    return {"inventory": volume_inventory(volume)}


def linked_clones_of(session: Session, volume_uuid: str) -> list[Volume]:
    of_volume = select(VolumeSnapshot.uuid).where(VolumeSnapshot.volume_uuid == volume_uuid)
    return list(
        session.scalars(
            select(Volume)
            .where(Volume.parent_snapshot_uuid.in_(of_volume))
            .order_by(Volume.create_date)
            .with_for_update()
        )
    )


def deletion_order(session: Session, volume: Volume) -> list[Volume]:
    """The volume's linked clones (and theirs), deepest first, then the volume."""
    order: list[Volume] = []

    def visit(at: Volume) -> None:
        for clone in linked_clones_of(session, at.uuid):
            visit(clone)
        order.append(at)

    visit(volume)
    return order


Snapshots = dict[str, list[VolumeSnapshot]]  # each volume's snapshots, by volume uuid


def delete_volume(ctx: JobContext, req: rq.DeleteVolume) -> dict[str, Any]:
    """ZStack's DeleteDataVolume under its deletion policy (``volume.deletionPolicy``,
    see ``volplane.zstack_config``): Delay makes the volume ``Deleted`` (recoverable,
    holding its space until expunged), Direct removes it and its images, Never forgets
    it and leaves its images in the pool.

    Refused with snapshots or linked clones unless ``force``: then the linked clones
    (deepest first) go with it. A forced delete of a volume still being made is Direct
    whatever the policy (there is nothing to keep for a recovery yet).
    """
    volume = visible_volume(ctx, req.uuid)
    policy = req.deletionPolicy or volume_deletion(ctx.session, ctx.settings).policy
    if volume.status == VolumeStatus.DELETED and policy == "Delay":
        return {}
    victims = deletion_order(ctx.session, volume)
    snapshots = {v.uuid: snapshots_of(ctx.session, v.uuid) for v in victims}
    if not req.force and (len(victims) > 1 or snapshots[volume.uuid]):
        raise VolumeHasDependents(
            f"volume {volume.uuid} has {len(snapshots[volume.uuid])} snapshot(s) and "
            f"{len(victims) - 1} linked clone(s); delete them first or use force=true"
        )
    foreign = sum(1 for victim in victims if not may_see(victim, ctx))
    if foreign:
        raise VolumeHasDependents(
            f"volume {volume.uuid}: {foreign} volume(s) of another account are built on its "
            "snapshots; they must be flattened or deleted first"
        )
    for victim in victims:
        # A forced delete may take a clone being made; its job then removes its image.
        if victim.status == VolumeStatus.CREATING and not req.force:
            raise ResourceInState(f"volume {victim.uuid} is being created; use force=true")
    if any(v.status == VolumeStatus.CREATING for v in victims):
        policy = "Direct"
    if policy == "Delay":
        now = utcnow()
        for victim in victims:
            victim.status = VolumeStatus.DELETED
            victim.deleted_date = victim.last_op_date = now
        ctx.session.flush()
        return {}
    if policy == "Never":
        forget(ctx, victims, snapshots)
        return {}
    destroy(ctx, victims, snapshots)
    return {}


def forget(
    ctx: JobContext, victims: list[Volume], snapshots: dict[str, list[VolumeSnapshot]]
) -> None:
    """Removes the volumes' rows and leaves their images: what is left in the pool can
    be adopted again (manageable volumes). The pools' allocated capacity drops."""
    pools = sorted({v.primary_storage_uuid for v in victims})
    for victim in victims:
        for snapshot in snapshots[victim.uuid]:
            ctx.session.delete(snapshot)
        delete_tags(ctx.session, victim.uuid)
        ctx.session.delete(victim)
    ctx.session.flush()
    for pool_uuid in pools:
        refresh_allocated(ctx.session, lock_pool(ctx, pool_uuid))
    ctx.session.flush()


def destroy(
    ctx: JobContext, victims: list[Volume], snapshots: dict[str, list[VolumeSnapshot]]
) -> None:
    """Removes the volumes' images (each head and its snapshots, children first), then
    their rows."""
    for victim in victims:
        plan = plan_destroy(tree_of(victim, snapshots[victim.uuid]))
        agent = agent_for_pool(ctx, pool_of(ctx, victim), host_uuid=victim.host_uuid)
        run_plan(ctx, agent, plan, prefix=f"del-{victim.uuid}-")
    forget(ctx, victims, snapshots)


def expunge_data_volume(ctx: JobContext, req: rq.VolumeRef) -> dict[str, Any]:
    """ZStack's ExpungeDataVolume: a Deleted volume goes for good, with its snapshots
    and the linked clones deleted with it. Refused while a live linked clone needs it."""
    volume = visible_volume(ctx, req.uuid)
    if volume.status != VolumeStatus.DELETED:
        raise ResourceInState(f"volume {volume.uuid} is {volume.status}; only Deleted ones expunge")
    victims = deletion_order(ctx.session, volume)
    alive = [v.uuid for v in victims if v.status != VolumeStatus.DELETED]
    if alive:
        raise VolumeHasDependents(f"volume {volume.uuid} has live linked clones: {alive}")
    destroy(ctx, victims, {v.uuid: snapshots_of(ctx.session, v.uuid) for v in victims})
    return {}


def recover_data_volume(ctx: JobContext, req: rq.VolumeRef) -> dict[str, Any]:
    """ZStack's RecoverDataVolume: a Deleted volume is Ready again. It held its space
    while Deleted, so no capacity is asked again."""
    volume = visible_volume(ctx, req.uuid)
    if volume.status != VolumeStatus.DELETED:
        raise ResourceInState(f"volume {volume.uuid} is {volume.status}; only Deleted ones recover")
    volume.status = VolumeStatus.READY
    volume.deleted_date = None
    return done(ctx, volume)


def resize_data_volume(ctx: JobContext, req: rq.ResizeDataVolume) -> dict[str, Any]:
    """Grow only; the pool must have room for the growth (total * threshold)."""
    volume = visible_volume(ctx, req.uuid)
    require_ready(volume)
    if req.size < volume.size:
        raise VolumeShrinkRefused(
            f"volume {volume.uuid} is {volume.size} bytes; shrinking to {req.size} is refused"
        )
    if req.size == volume.size:
        return done(ctx, volume)
    pool = lock_pool(ctx, volume.primary_storage_uuid)
    check_allocate(pool, req.size - volume.size)
    info = agent_for_pool(ctx, pool, host_uuid=volume.host_uuid).resize_volume(
        ctx.op_id("resize"), volume.install_path, req.size
    )
    volume.size = info.virtual_size
    volume.actual_size = info.actual_size or 0
    record_size(ctx, volume)
    return done(ctx, volume)


def sync_volume_size(ctx: JobContext, req: rq.VolumeRef) -> dict[str, Any]:
    """Reads the head's and the snapshots' sizes from the images, after checking that
    the whole image chain opens: a volume whose chain is broken (an image removed
    behind volplane's back) becomes ``Error``, and ``Ready`` again once it opens."""
    volume = visible_volume(ctx, req.uuid)
    if volume.status not in (VolumeStatus.READY, VolumeStatus.ERROR):
        raise ResourceInState(f"volume {volume.uuid} is {volume.status}")
    agent = agent_for_pool(ctx, pool_of(ctx, volume), host_uuid=volume.host_uuid)
    try:
        agent.image_chain(volume.install_path, op_id=ctx.op_id("chain"))
    except (DriverCommandFailed, InvalidStoragePath):
        volume.status = VolumeStatus.ERROR
        return done(ctx, volume)
    volume.status = VolumeStatus.READY
    measure(ctx, agent, volume, snapshots_of(ctx.session, volume.uuid), "measure")
    return done(ctx, volume)


def update_volume(ctx: JobContext, req: rq.UpdateVolume) -> dict[str, Any]:
    volume = visible_volume(ctx, req.uuid)
    if req.name is not None:
        volume.name = req.name
    if req.description is not None:
        volume.description = req.description
    if req.snapshotCapacity is not None:
        volume.snapshot_capacity = req.snapshotCapacity
    return done(ctx, volume)


def change_volume_state(ctx: JobContext, req: rq.ChangeVolumeState) -> dict[str, Any]:
    volume = visible_volume(ctx, req.uuid)
    volume.state = ResourceState.ENABLED if req.stateEvent == "enable" else ResourceState.DISABLED
    return done(ctx, volume)


def flatten_volume(ctx: JobContext, req: rq.VolumeRef) -> dict[str, Any]:
    """Copies the base's data (a linked clone's snapshot, a template) into the volume's
    lowest images, so it depends on nothing outside its own tree."""
    volume = visible_volume(ctx, req.uuid)
    require_ready(volume)
    snapshots = snapshots_of(ctx.session, volume.uuid)
    plan = plan_flatten(tree_of(volume, snapshots))
    if plan.steps:
        agent = agent_for_pool(ctx, pool_of(ctx, volume), host_uuid=volume.host_uuid)
        run_plan(ctx, agent, plan, prefix="flatten-")
        measure(ctx, agent, volume, snapshots, "measure")
    volume.base_path = None
    volume.parent_snapshot_uuid = None
    return done(ctx, volume)


RUNS: Runs = {
    catalog.CREATE_DATA_VOLUME: create_data_volume,
    catalog.DELETE_VOLUME: absent_is_deleted(Volume, delete_volume),
    catalog.RESIZE_DATA_VOLUME: resize_data_volume,
    catalog.SYNC_VOLUME_SIZE: sync_volume_size,
    catalog.UPDATE_VOLUME: update_volume,
    catalog.CHANGE_VOLUME_STATE: change_volume_state,
    catalog.FLATTEN_VOLUME: flatten_volume,
    catalog.EXPUNGE_DATA_VOLUME: expunge_data_volume,
    catalog.RECOVER_DATA_VOLUME: recover_data_volume,
}
