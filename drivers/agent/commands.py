"""The commands an agent runs: each one's argument model and the function doing it.

Handlers are plain blocking functions; the operation table runs them in threads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drivers import local_dir, qcow2
from drivers.agent.pools import ConnectedPools
from schemas.agent import (
    AgentModel,
    ConvertArgs,
    ImageChain,
    ImageInfo,
    ImageMap,
    OverlayArgs,
    PathArgs,
    PoolArgs,
    PoolCapacity,
    PoolConnectArgs,
    PoolDisconnected,
    PoolFiles,
    RebaseArgs,
    VolumeCreateArgs,
    VolumeDeleted,
    VolumeResizeArgs,
)
from volplane.errors import InvalidStoragePath


@dataclass(frozen=True)
class Context:
    """What a running command may use besides its arguments."""

    pools: ConnectedPools
    report_progress: Callable[[int], None]
    cancel_requested: Callable[[], bool]


@dataclass(frozen=True)
class Command:
    name: str
    args_model: type[AgentModel]
    handler: Callable[[Context, Any], AgentModel]


def pool_connect(ctx: Context, args: PoolConnectArgs) -> PoolCapacity:
    return local_dir.capacity(ctx.pools.connect(args.root, create=args.create))


def pool_capacity(ctx: Context, args: PoolArgs) -> PoolCapacity:
    return local_dir.capacity(ctx.pools.connected_root(args.root))


def pool_files(ctx: Context, args: PoolArgs) -> PoolFiles:
    root = ctx.pools.connected_root(args.root)
    return PoolFiles(root=str(root), files=local_dir.list_files(root))


def pool_disconnect(ctx: Context, args: PoolArgs) -> PoolDisconnected:
    return PoolDisconnected(root=args.root, was_connected=ctx.pools.disconnect(args.root))


def volume_create(ctx: Context, args: VolumeCreateArgs) -> ImageInfo:
    path = ctx.pools.resolve(args.path)
    backing = ctx.pools.resolve(args.backing_file) if args.backing_file else None
    return qcow2.create(path, size=args.size, backing=backing)


def volume_info(ctx: Context, args: PathArgs) -> ImageInfo:
    return qcow2.info(_existing(ctx, args.path))


def volume_delete(ctx: Context, args: PathArgs) -> VolumeDeleted:
    path = ctx.pools.resolve(args.path)
    if path.is_dir():
        raise InvalidStoragePath(f"{args.path} is a directory")
    existed = path.exists()
    path.unlink(missing_ok=True)
    return VolumeDeleted(path=str(path), existed=existed)


def volume_resize(ctx: Context, args: VolumeResizeArgs) -> ImageInfo:
    return qcow2.resize(_existing(ctx, args.path), args.size)


def image_overlay(ctx: Context, args: OverlayArgs) -> ImageInfo:
    path = ctx.pools.resolve(args.path)
    return qcow2.create_overlay(path, _existing(ctx, args.backing))


def image_commit(ctx: Context, args: PathArgs) -> ImageInfo:
    path = _existing(ctx, args.path)
    qcow2.commit(path)
    return qcow2.info(path)


def image_rebase(ctx: Context, args: RebaseArgs) -> ImageInfo:
    backing = _existing(ctx, args.backing) if args.backing else None
    return qcow2.rebase(_existing(ctx, args.path), backing, unsafe=args.unsafe)


def image_convert(ctx: Context, args: ConvertArgs) -> ImageInfo:
    return qcow2.convert(
        _existing(ctx, args.src),
        ctx.pools.resolve(args.dst),
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


def _existing(ctx: Context, path: str) -> Path:
    resolved = ctx.pools.resolve(path)
    if not resolved.is_file():
        raise InvalidStoragePath(f"{path} does not exist or is not a file")
    return resolved


COMMANDS: dict[str, Command] = {
    command.name: command
    for command in [
        Command("pool.connect", PoolConnectArgs, pool_connect),
        Command("pool.capacity", PoolArgs, pool_capacity),
        Command("pool.files", PoolArgs, pool_files),
        Command("pool.disconnect", PoolArgs, pool_disconnect),
        Command("volume.create", VolumeCreateArgs, volume_create),
        Command("volume.info", PathArgs, volume_info),
        Command("volume.delete", PathArgs, volume_delete),
        Command("volume.resize", VolumeResizeArgs, volume_resize),
        Command("image.overlay", OverlayArgs, image_overlay),
        Command("image.commit", PathArgs, image_commit),
        Command("image.rebase", RebaseArgs, image_rebase),
        Command("image.convert", ConvertArgs, image_convert),
        Command("image.map", PathArgs, image_map),
        Command("image.chain", PathArgs, image_chain),
    ]
}
