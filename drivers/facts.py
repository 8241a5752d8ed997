"""What a host agent tells the control plane about its machine."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
from functools import cache
from pathlib import Path

from schemas.agent import BlockDevice, HostFacts

SYS_BLOCK = Path("/sys/block")
DISK_BY_ID = Path("/dev/disk/by-id")
SECTOR = 512  # /sys/block/*/size counts 512-byte sectors whatever the device's own


def qemu_img_version(binary: str = "qemu-img") -> str | None:
    if shutil.which(binary) is None:
        return None
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r"version\s+(\S+)", out.stdout)
    return found.group(1) if found else None


@cache
def by_id_names(by_id_dir: Path = DISK_BY_ID) -> dict[str, list[str]]:
    """Device name (``sda``) to its ``/dev/disk/by-id`` links (WWN, serial...)."""
    names: dict[str, list[str]] = {}
    if not by_id_dir.is_dir():
        return names
    for link in sorted(by_id_dir.iterdir()):
        target = Path(os.path.realpath(link)).name
        names.setdefault(target, []).append(str(link))
    return names


def block_devices(sys_block: Path = SYS_BLOCK, by_id_dir: Path = DISK_BY_ID) -> list[BlockDevice]:
    if not sys_block.is_dir():
        return []
    ids = by_id_names(by_id_dir)
    devices = []
    for entry in sorted(sys_block.iterdir()):
        try:
            sectors = int((entry / "size").read_text().strip())
        except (OSError, ValueError):
            continue
        devices.append(
            BlockDevice(
                name=entry.name,
                path=f"/dev/{entry.name}",
                size_bytes=sectors * SECTOR,
                by_id=ids.get(entry.name, []),
            )
        )
    return devices


def pool_support() -> tuple[list[str], dict[str, str]]:
    """Pool types this host can run, and why it cannot run the others."""
    from drivers import disk
    from drivers.backends import nfs, smb

    reasons = {
        "disk": disk.unsupported_reason(),
        "nfs": nfs.unsupported_reason(),
        "samba": smb.unsupported_reason(),
    }
    supported = ["local-storage", "smp", *(kind for kind, why in reasons.items() if why is None)]
    return supported, {kind: why for kind, why in reasons.items() if why is not None}


def host_facts(data_dir: Path) -> HostFacts:
    stat = os.statvfs(data_dir)
    supported, unsupported = pool_support()
    return HostFacts(
        hostname=socket.gethostname(),
        data_dir=str(data_dir),
        data_dir_total_bytes=stat.f_blocks * stat.f_frsize,
        data_dir_available_bytes=stat.f_bavail * stat.f_frsize,
        block_devices=block_devices(),
        qemu_img=qemu_img_version(),
        pool_types=supported,
        unsupported_pool_types=unsupported,
    )
