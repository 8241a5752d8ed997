"""The commands an agent runs: each one's argument model and the function doing it.

Handlers are plain blocking functions; the operation table runs them in threads.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from drivers import backup_io, discovery, disk, local_dir, qcow2, scratch
from drivers.agent.pools import ConnectedPools, Located
from drivers.backends import DirectoryBackend, NfsBackend, SmbBackend, smb
from drivers.chunkstore import ChunkStore, HttpChunkStore, LocalChunkStore
from drivers.durable import durable_replace, writing_behind
from schemas.agent import (
    AgentModel,
    BackupCreateArgs,
    BackupCreated,
    BackupDeleteArgs,
    BackupRestoreArgs,
    ChunkStoreRef,
    ConvertArgs,
    DiscoverArgs,
    DiskConnectArgs,
    ImageChain,
    ImageInfo,
    ImageMap,
    LocateArgs,
    LocatedImage,
    ManageableImages,
    MountArgs,
    OverlayArgs,
    PathArgs,
    PoolArgs,
    PoolCapacity,
    PoolConnectArgs,
    PoolDisconnected,
    PoolFiles,
    PullArgs,
    RebaseArgs,
    RenameArgs,
    StoreGcArgs,
    StoreGcResult,
    StoreUsage,
    VolumeCreateArgs,
    VolumeDeleted,
    VolumeResizeArgs,
)
from volplane.errors import (
    AgentError,
    AgentTimeout,
    AgentUnreachable,
    InvalidParameter,
    InvalidStoragePath,
    JobCancelled,
    UnsupportedPoolType,
    VolplaneError,
)


@dataclass(frozen=True)
class Context:
    """What a running command may use besides its arguments."""

    pools: ConnectedPools
    report_progress: Callable[[int], None]
    cancel_requested: Callable[[], bool]
    cancel: Callable[[], None] = lambda: None  # asks this operation to stop


@dataclass(frozen=True)
class Command:
    name: str
    args_model: type[AgentModel]
    handler: Callable[[Context, Any], AgentModel]
    # A read-only command changes nothing, so it is not journaled: asking again is safe.
    read_only: bool = False


def _capacity(root: Path) -> PoolCapacity:
    return DirectoryBackend(root).capacity()


def pool_connect(ctx: Context, args: PoolConnectArgs) -> PoolCapacity:
    return _capacity(ctx.pools.connect(args.root, create=args.create))


def pool_capacity(ctx: Context, args: PoolArgs) -> PoolCapacity:
    return ctx.pools.backend(args.root).capacity()


def pool_files(ctx: Context, args: PoolArgs) -> PoolFiles:
    backend = ctx.pools.backend(args.root)
    return PoolFiles(root=backend.root, files=backend.files())


def pool_disconnect(ctx: Context, args: PoolArgs) -> PoolDisconnected:
    return PoolDisconnected(root=args.root, was_connected=ctx.pools.disconnect(args.root))


def _mount_dir(ctx: Context, name: str) -> Path:
    return ctx.pools.data_dir / "mounts" / name


def disk_connect(ctx: Context, args: DiskConnectArgs) -> PoolCapacity:
    mounted = disk.prepare(args.device, _mount_dir(ctx, args.name), force=args.force)
    return local_dir.capacity(ctx.pools.adopt(mounted))


def pool_mount(ctx: Context, args: MountArgs) -> PoolCapacity:
    """Reaches a network pool: NFS in userspace (nothing mounted), samba mounted."""
    if args.kind == "nfs":
        backend = NfsBackend.from_source(args.source, args.options)
        found = backend.connect()
        ctx.pools.add(backend)
        return found
    if args.kind == "samba":
        reason = smb.unsupported_reason()
        if reason is not None:
            raise UnsupportedPoolType(f"samba pools cannot run on this host: {reason}")
        server, share = smb.parse_source(args.source)
        options = dict(o.split("=", 1) for o in args.options if "=" in o)
        unknown = sorted(set(options) - {"username"}) + [o for o in args.options if "=" not in o]
        if unknown:
            raise InvalidStoragePath(f"samba pools take only the username option; got {unknown}")
        share_pool = SmbBackend(
            server, share, _mount_dir(ctx, args.name), options.get("username", ""),
            args.password or "",
        )  # fmt: skip
        found = share_pool.mount()
        ctx.pools.add(share_pool)
        return found
    raise UnsupportedPoolType(f"no {args.kind} pools")


def pool_unmount(ctx: Context, args: PoolArgs) -> PoolDisconnected:
    """Stops serving a mounted pool (disk, nfs, samba) and unmounts it."""
    if "://" in args.root:
        return PoolDisconnected(root=args.root, was_connected=ctx.pools.disconnect(args.root))
    mounted = _samba_pool(ctx, args.root)
    if mounted is not None:
        was_connected = ctx.pools.disconnect(args.root)
        mounted.unmount()
        return PoolDisconnected(root=args.root, was_connected=was_connected)
    root = Path(args.root)
    if root.parent != ctx.pools.data_dir / "mounts":
        raise InvalidStoragePath(f"{args.root} is not a mount this agent made")
    was_connected = ctx.pools.disconnect(args.root)
    disk.release(root)
    return PoolDisconnected(root=args.root, was_connected=was_connected)


def _samba_pool(ctx: Context, root: str) -> SmbBackend | None:
    try:
        found = ctx.pools.backend(root)
    except InvalidStoragePath:
        return None
    return found if isinstance(found, SmbBackend) else None


def volume_create(ctx: Context, args: VolumeCreateArgs) -> ImageInfo:
    at = ctx.pools.locate(args.path)
    backing = ctx.pools.locate(args.backing_file).path if args.backing_file else None
    return qcow2.create(at.path, size=args.size, backing=backing, files=at.backend)


def volume_info(ctx: Context, args: PathArgs) -> ImageInfo:
    return qcow2.info(_existing(ctx, args.path))


# How long a delete waits for the copy still writing its image to stop.
STOP_WRITER_SECONDS = 30.0


def _writing(ctx: Context, at: Located) -> contextlib.AbstractContextManager[None]:
    """Holds the ``.part`` of the image at ``at`` for this operation, so that a delete of
    that image (``volume_delete``) stops it first."""
    local = at.backend.local_path(str(qcow2.part_path(at.path)))
    return scratch.holding(local, stop=ctx.cancel) if local else contextlib.nullcontext()


def volume_delete(ctx: Context, args: PathArgs) -> VolumeDeleted:
    at = ctx.pools.locate(args.path)
    # A job that gave up on a copy (its agent hung) deletes the image the copy is still
    # writing: the copy stops first, so it cannot put the image in place afterwards.
    local = at.backend.local_path(str(qcow2.part_path(at.path)))
    if local is not None and not scratch.stop_holders(local, STOP_WRITER_SECONDS):
        raise AgentTimeout(f"the copy writing {args.path} did not stop")
    return VolumeDeleted(path=at.path, existed=at.backend.remove(at.path))


def volume_resize(ctx: Context, args: VolumeResizeArgs) -> ImageInfo:
    return qcow2.resize(_existing(ctx, args.path), args.size)


def image_overlay(ctx: Context, args: OverlayArgs) -> ImageInfo:
    at = ctx.pools.locate(args.path)
    return qcow2.create_overlay(at.path, _existing(ctx, args.backing), files=at.backend)


def image_commit(ctx: Context, args: PathArgs) -> ImageInfo:
    path = _existing(ctx, args.path)
    qcow2.commit(path)
    return qcow2.info(path)


def image_rebase(ctx: Context, args: RebaseArgs) -> ImageInfo:
    backing = _existing(ctx, args.backing) if args.backing else None
    return qcow2.rebase(_existing(ctx, args.path), backing, unsafe=args.unsafe)


def image_convert(ctx: Context, args: ConvertArgs) -> ImageInfo:
    dst = ctx.pools.locate(args.dst)
    with _writing(ctx, dst):
        return qcow2.convert(
            _existing(ctx, args.src),
            dst.path,
            files=dst.backend,
            compress=args.compress,
            rate_limit=args.rate_limit,
            on_progress=ctx.report_progress,
            should_cancel=ctx.cancel_requested,
        )


def image_map(ctx: Context, args: PathArgs) -> ImageMap:
    path = _existing(ctx, args.path)
    return ImageMap(path=str(path), extents=qcow2.map_extents(path))


def image_chain(ctx: Context, args: PathArgs) -> ImageChain:
    return ImageChain(images=qcow2.backing_chain(_existing(ctx, args.path)))


def image_locate(ctx: Context, args: LocateArgs) -> LocatedImage:
    """Follows a caller's path (and the file's backing chain) inside one pool only."""
    pool = ctx.pools.backend(args.root)
    prefix = pool.root.rstrip("/") + "/"

    def name_of(path: str) -> str | None:
        try:
            resolved = pool.resolve(path)
        except InvalidStoragePath:
            return None
        return resolved[len(prefix) :] if resolved.startswith(prefix) else None

    first = name_of(args.path)
    if first is None or not pool.is_file(prefix + first):
        return LocatedImage()
    try:
        chain = qcow2.probed_chain(prefix + first)
    except VolplaneError:
        return LocatedImage()  # unreadable, or its backing chain is broken
    return LocatedImage(names=[first, *(name_of(image.path) for image in chain[1:])])


def _existing(ctx: Context, path: str) -> str:
    """The name of an existing image file inside a connected pool."""
    at = ctx.pools.locate(path)
    if not at.backend.is_file(at.path):
        raise InvalidStoragePath(f"{path} does not exist or is not a file")
    return at.path


# --- volumes area: renames and cross-host copies ------------------------------


def image_rename(ctx: Context, args: RenameArgs) -> ImageInfo:
    src, dst = ctx.pools.locate(args.src), ctx.pools.locate(args.dst)
    if src.backend is not dst.backend:
        raise InvalidStoragePath(f"{args.src} and {args.dst} are in different pools")
    files = src.backend
    if not files.exists(src.path) and files.is_file(dst.path):
        return qcow2.info(dst.path)  # done before, by an agent that died before answering
    if files.exists(dst.path):
        raise InvalidStoragePath(f"{args.dst} already exists")
    files.rename(_existing(ctx, args.src), dst.path)
    return qcow2.info(dst.path)


# A source that sends nothing for this long is gone (a cut link): the pull fails, and
# its partial file goes, rather than hanging the job.
PULL_TIMEOUT = httpx.Timeout(15.0, connect=5.0)


def image_pull(ctx: Context, args: PullArgs) -> ImageInfo:
    """Streams an image another agent exports into ``dst``, written beside it and renamed
    when complete, so ``dst`` never holds a partial image."""
    dst = ctx.pools.resolve(args.dst)
    if dst.exists():
        raise InvalidStoragePath(f"{args.dst} already exists")
    part = dst.with_name(dst.name + qcow2.PART_SUFFIX)
    with scratch.holding(part, stop=ctx.cancel):
        return _pull_into(ctx, args, dst, part)


def _pull_into(ctx: Context, args: PullArgs, dst: Path, part: Path) -> ImageInfo:
    try:
        with httpx.stream("GET", args.url, timeout=PULL_TIMEOUT) as answer:
            if answer.is_error:
                raise AgentError(f"export at {answer.url.host} answered {answer.status_code}")
            length = int(answer.headers.get("content-length") or 0)
            done, last = 0, -1
            with part.open("wb") as out, writing_behind(part):
                for chunk in answer.iter_bytes(1 << 20):
                    if ctx.cancel_requested():
                        raise JobCancelled(f"pull into {args.dst} was cancelled")
                    out.write(chunk)
                    done += len(chunk)
                    percent = 100 * done // length if length else 0
                    if percent != last:
                        last = percent
                        ctx.report_progress(percent)
        pulled = qcow2.standalone_info(part)
        if pulled.backing_file and not args.keep_backing:
            raise InvalidStoragePath(f"the image pulled into {args.dst} depends on a backing file")
        if pulled.backing_file and not ctx.pools.resolve(pulled.backing_file).is_file():
            raise InvalidStoragePath(
                f"the image pulled into {args.dst} needs {pulled.backing_file}, not on this host"
            )
        durable_replace(part, dst)
    except httpx.HTTPError as exc:
        part.unlink(missing_ok=True)
        raise AgentUnreachable(f"fetching {args.dst} from another agent failed: {exc}") from exc
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return pulled.model_copy(update={"path": str(dst)})


# --- manageable images: files in a pool that could become volumes ---------------------


def pool_manageable(ctx: Context, args: DiscoverArgs) -> ManageableImages:
    root = ctx.pools.connected_root(args.root)
    images = discovery.discover(root, args.owned, names=args.names)
    return ManageableImages(root=str(root), images=images)


# --- backups: chunk stores on backup storage -----------------------------------


def _chunk_store(ctx: Context, ref: ChunkStoreRef) -> ChunkStore:
    if ref.url is None:
        return LocalChunkStore(ctx.pools.connected_root(ref.root))
    if ref.expires is None or ref.ticket is None:
        raise InvalidParameter("a remote chunk store needs expires and ticket")
    return HttpChunkStore(
        ref.url, root=ref.root, expires=ref.expires, mode=ref.mode, ticket=ref.ticket
    )


def _scratch_dir(ctx: Context) -> Path:
    """Where images of network pools are staged as local raw files."""
    return ctx.pools.data_dir / "scratch"


def _close(store: ChunkStore) -> None:
    if isinstance(store, HttpChunkStore):
        store.close()


def _store_usage(store: LocalChunkStore) -> StoreUsage:
    found = store.usage()
    space = local_dir.capacity(store.root)
    return StoreUsage(
        root=str(store.root),
        stored_bytes=found.stored_bytes,
        chunk_count=found.chunk_count,
        manifest_count=found.manifest_count,
        total_bytes=space.total_bytes,
        available_bytes=space.available_bytes,
    )


def backup_create(ctx: Context, args: BackupCreateArgs) -> BackupCreated:
    """Reads the image's allocated data into the chunk store; the manifest comes last."""
    at = ctx.pools.locate(_existing(ctx, args.src))
    store = _chunk_store(ctx, args.store)
    try:
        stats = backup_io.backup_image(
            at.local or at.path,
            store,
            scratch_dir=None if at.local else _scratch_dir(ctx),
            backup_uuid=args.backup_uuid,
            base_uuid=args.base_uuid,
            chunk_size=args.chunk_size,
            level=args.level,
            on_progress=ctx.report_progress,
            should_cancel=ctx.cancel_requested,
        )
    finally:
        _close(store)
    manifest = stats.manifest
    return BackupCreated(
        backup_uuid=manifest.backup_uuid,
        base_uuid=manifest.base_uuid,
        virtual_size=manifest.virtual_size,
        data_bytes=manifest.data_bytes,
        chunk_count=len(manifest.chunks),
        read_bytes=stats.read_bytes,
        new_chunks=stats.new_chunks,
        new_stored_bytes=stats.new_stored_bytes,
        reused_chunks=stats.reused_chunks,
        checksum=manifest.checksum,
    )


def backup_restore(ctx: Context, args: BackupRestoreArgs) -> ImageInfo:
    """Writes a backup into a new image at ``dst``, every chunk checked against its hash."""
    dst = ctx.pools.locate(args.dst)
    store = _chunk_store(ctx, args.store)
    try:
        with _writing(ctx, dst):
            return backup_io.restore_image(
                store,
                args.backup_uuid,
                dst.local or dst.path,
                files=dst.backend,
                scratch_dir=None if dst.backend.builds_in_place else _scratch_dir(ctx),
                on_progress=ctx.report_progress,
                should_cancel=ctx.cancel_requested,
            )
    finally:
        _close(store)


def _gc(store: LocalChunkStore, grace: float, existed: bool | None = None) -> StoreGcResult:
    result = store.gc(grace_seconds=grace)
    return StoreGcResult(
        removed_chunks=result.removed_chunks,
        freed_bytes=result.freed_bytes,
        kept_by_pins=result.kept_by_pins,
        manifest_existed=existed,
        usage=_store_usage(store),
    )


def backup_delete(ctx: Context, args: BackupDeleteArgs) -> StoreGcResult:
    """Removes a backup's manifest and pin, then the chunks nothing else uses."""
    # owner="": this removes the pin of a backup it does not run (a failed one's).
    store = LocalChunkStore(ctx.pools.connected_root(args.root), owner="")
    existed = store.delete_manifest(args.backup_uuid)
    store.unpin(args.backup_uuid)
    return _gc(store, args.grace_seconds, existed)


def store_gc(ctx: Context, args: StoreGcArgs) -> StoreGcResult:
    return _gc(LocalChunkStore(ctx.pools.connected_root(args.root)), args.grace_seconds)


def store_usage(ctx: Context, args: PoolArgs) -> StoreUsage:
    return _store_usage(LocalChunkStore(ctx.pools.connected_root(args.root)))


COMMANDS: dict[str, Command] = {
    command.name: command
    for command in [
        Command("pool.connect", PoolConnectArgs, pool_connect),
        Command("pool.capacity", PoolArgs, pool_capacity, read_only=True),
        Command("pool.files", PoolArgs, pool_files, read_only=True),
        Command("pool.disconnect", PoolArgs, pool_disconnect),
        Command("disk.connect", DiskConnectArgs, disk_connect),
        Command("pool.mount", MountArgs, pool_mount),
        Command("pool.unmount", PoolArgs, pool_unmount),
        Command("volume.create", VolumeCreateArgs, volume_create),
        Command("volume.info", PathArgs, volume_info, read_only=True),
        Command("volume.delete", PathArgs, volume_delete),
        Command("volume.resize", VolumeResizeArgs, volume_resize),
        Command("image.overlay", OverlayArgs, image_overlay),
        Command("image.commit", PathArgs, image_commit),
        Command("image.rebase", RebaseArgs, image_rebase),
        Command("image.convert", ConvertArgs, image_convert),
        Command("image.map", PathArgs, image_map, read_only=True),
        Command("image.chain", PathArgs, image_chain, read_only=True),
        Command("image.locate", LocateArgs, image_locate, read_only=True),
        Command("image.rename", RenameArgs, image_rename),
        Command("image.pull", PullArgs, image_pull),
        Command("backup.create", BackupCreateArgs, backup_create),
        Command("backup.restore", BackupRestoreArgs, backup_restore),
        Command("backup.delete", BackupDeleteArgs, backup_delete),
        Command("store.gc", StoreGcArgs, store_gc),
        Command("store.usage", PoolArgs, store_usage, read_only=True),
        Command("pool.manageable", DiscoverArgs, pool_manageable, read_only=True),
    ]
}
