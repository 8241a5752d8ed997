"""The ``disk`` pool driver: a whole block device holding one ext4 filesystem.

An empty device gets a filesystem labelled ``volplane``; a device already labelled so
is reused (a reconnect after a reboot). A device that is mounted elsewhere or held by
another user (device mapper, RAID, an open exclusive handle) is always refused; one
that holds anything else (a partition table, another filesystem, or just non-zero
bytes at its start) is refused unless ``force``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import subprocess
from pathlib import Path

from volplane.errors import (
    DeviceInUse,
    DriverCommandFailed,
    InvalidStoragePath,
    UnsupportedPoolType,
)

LABEL = "volplane"
FSTYPE = "ext4"
PROBE_BYTES = 1024 * 1024
TOOLS = ("blkid", "mkfs.ext4", "wipefs", "mount", "umount")
MOUNTINFO = Path("/proc/self/mountinfo")


def unsupported_reason() -> str | None:
    """Why this machine cannot run disk pools, or None if it can."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        return f"missing tools: {', '.join(missing)}"
    if os.geteuid() != 0:
        return "the agent does not run as root, so it cannot make filesystems or mount"
    if not filesystem_known(FSTYPE):
        return f"the kernel does not list {FSTYPE} in /proc/filesystems"
    return None


def filesystem_known(fstype: str, table: Path = Path("/proc/filesystems")) -> bool:
    try:
        lines = table.read_text().splitlines()
    except OSError:
        return False
    return any(line.split()[-1] == fstype for line in lines if line.strip())


def _run(argv: list[str], *, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise DriverCommandFailed(f"{argv[0]} did not finish in {timeout:.0f}s") from exc
    except OSError as exc:
        raise DriverCommandFailed(f"{argv[0]} could not run: {exc}") from exc
    return done


def _check(argv: list[str]) -> str:
    done = _run(argv)
    if done.returncode != 0:
        raise DriverCommandFailed(
            f"{' '.join(argv)} exited {done.returncode}: {done.stderr.strip()[:1000]}"
        )
    return done.stdout


def resolve_device(device: str) -> Path:
    """The block device a path (``/dev/sdb``, ``/dev/disk/by-id/wwn-...``) names."""
    if not device.startswith("/"):
        raise InvalidStoragePath(f"{device} is not an absolute device path")
    resolved = Path(os.path.realpath(device))
    try:
        mode = resolved.stat().st_mode
    except FileNotFoundError as exc:
        raise InvalidStoragePath(f"{device} does not exist") from exc
    if not stat.S_ISBLK(mode):
        raise InvalidStoragePath(f"{device} is not a block device")
    return resolved


def mount_points(device: Path, mountinfo: Path = MOUNTINFO) -> list[Path]:
    """Where the device is mounted, matched by device number (not by name)."""
    rdev = device.stat().st_rdev
    wanted = f"{os.major(rdev)}:{os.minor(rdev)}"
    found = []
    for line in mountinfo.read_text().splitlines():
        fields = line.split()
        if len(fields) > 4 and fields[2] == wanted:
            # Mount points escape spaces and the like as octal.
            found.append(Path(fields[4].encode().decode("unicode_escape")))
    return found


def holders(device: Path) -> list[str]:
    """Kernel users of the device (device mapper, md) and its partitions."""
    sys_dir = Path("/sys/class/block") / device.name
    users = [p.name for p in (sys_dir / "holders").glob("*")] if sys_dir.is_dir() else []
    partitions = [p.name for p in sys_dir.glob(f"{device.name}*") if (p / "partition").exists()]
    return users + partitions


def signature(device: Path) -> dict[str, str] | None:
    """What ``blkid`` finds on the device (TYPE, LABEL, PTTYPE...), None if nothing."""
    done = _run(["blkid", "-p", "-o", "export", str(device)])
    if done.returncode == 2:  # blkid's "nothing found"
        return None
    if done.returncode != 0:
        raise DriverCommandFailed(f"blkid {device} exited {done.returncode}: {done.stderr.strip()}")
    pairs = (line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    return {key: value for key, value in pairs}


def has_data(device: Path, length: int = PROBE_BYTES) -> bool:
    with device.open("rb") as f:
        return any(f.read(length))


def _exclusive_check(device: Path) -> None:
    try:
        fd = os.open(device, os.O_RDONLY | os.O_EXCL)
    except OSError as exc:
        if exc.errno == errno.EBUSY:
            raise DeviceInUse(f"{device} is in use by another program") from exc
        raise InvalidStoragePath(f"{device} cannot be opened: {exc.strerror}") from exc
    os.close(fd)


def is_ours(found: dict[str, str] | None) -> bool:
    return found is not None and found.get("TYPE") == FSTYPE and found.get("LABEL") == LABEL


def prepare(device: str, mount_dir: Path, *, force: bool = False) -> Path:
    """Makes ``device`` a mounted pool at ``mount_dir`` and returns the mount point.

    Idempotent: a device already mounted at ``mount_dir`` is left as it is.
    """
    reason = unsupported_reason()
    if reason is not None:
        raise UnsupportedPoolType(f"disk pools cannot run on this host: {reason}")
    dev = resolve_device(device)
    mounted = mount_points(dev)
    if mounted:
        if Path(os.path.realpath(mount_dir)) in mounted:
            return mount_dir
        where = ", ".join(str(m) for m in mounted)
        raise DeviceInUse(f"{device} is mounted at {where}")
    users = holders(dev)
    if users:
        raise DeviceInUse(f"{device} is in use by {', '.join(sorted(users))}")
    _exclusive_check(dev)
    found = signature(dev)
    if not is_ours(found):
        unknown = found is not None or has_data(dev)
        if unknown and not force:
            what = _describe(found)
            raise DeviceInUse(f"{device} holds {what}; add force to overwrite it")
        if found is not None:
            _check(["wipefs", "-a", str(dev)])
        _check(["mkfs.ext4", "-q", "-F", "-L", LABEL, str(dev)])
    mount_dir.mkdir(parents=True, exist_ok=True)
    _check(["mount", "-t", FSTYPE, str(dev), str(mount_dir)])
    return mount_dir


def release(mount_dir: Path) -> bool:
    """Unmounts the pool; True if it was mounted. The data stays on the device."""
    if not mount_dir.exists():
        return False
    was_mounted = os.path.ismount(mount_dir)
    if was_mounted:
        _check(["umount", str(mount_dir)])
    # Not empty: files written while it was unmounted stay for someone to look at.
    with contextlib.suppress(OSError):
        mount_dir.rmdir()
    return was_mounted


def _describe(found: dict[str, str] | None) -> str:
    if found is None:
        return "data of unknown kind"
    if "PTTYPE" in found:
        return f"a {found['PTTYPE']} partition table"
    label = f" labelled {found['LABEL']!r}" if "LABEL" in found else ""
    return f"a {found.get('TYPE', 'unknown')} filesystem{label}"
