"""The ``nfs`` and ``samba`` pool drivers: the agent mounts a network share.

Both need the kernel's client filesystem and the mount helper. Where they are
missing (containers usually lack them) the agent says so in its facts and refuses
the command with ``UnsupportedPoolType``; nothing pretends to mount.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from drivers.disk import filesystem_known
from volplane.errors import DriverCommandFailed, InvalidStoragePath, UnsupportedPoolType

KINDS = {
    # kind: (kernel filesystem(s), mount helper, -t type)
    "nfs": (("nfs", "nfs4"), "mount.nfs", "nfs"),
    "samba": (("cifs", "smb3"), "mount.cifs", "cifs"),
}
_NFS_SOURCE = re.compile(r"^[A-Za-z0-9.\-\[\]:]+:/\S*$")
_SAMBA_SOURCE = re.compile(r"^//[A-Za-z0-9.\-\[\]:]+/\S+$")
_OPTION = re.compile(r"^[A-Za-z0-9_.=/-]+$")


def unsupported_reason(kind: str) -> str | None:
    filesystems, helper, _ = KINDS[kind]
    problems = []
    if not any(filesystem_known(fs) for fs in filesystems):
        problems.append(f"the kernel has no {'/'.join(filesystems)} client filesystem")
    if shutil.which(helper) is None:
        problems.append(f"{helper} is not installed")
    if os.geteuid() != 0:
        problems.append("the agent does not run as root")
    return "; ".join(problems) or None


def check_source(kind: str, source: str) -> None:
    pattern = _NFS_SOURCE if kind == "nfs" else _SAMBA_SOURCE
    if not pattern.match(source):
        example = "server:/export" if kind == "nfs" else "//server/share"
        raise InvalidStoragePath(f"{source!r} is not a {kind} source like {example}")


def mount(kind: str, source: str, mount_dir: Path, options: list[str]) -> Path:
    reason = unsupported_reason(kind)
    if reason is not None:
        raise UnsupportedPoolType(f"{kind} pools cannot run on this host: {reason}")
    check_source(kind, source)
    bad = [o for o in options if not _OPTION.match(o)]
    if bad:
        raise InvalidStoragePath(f"invalid mount options {bad}")
    if os.path.ismount(mount_dir):
        return mount_dir
    mount_dir.mkdir(parents=True, exist_ok=True)
    argv = ["mount", "-t", KINDS[kind][2]]
    if options:
        argv += ["-o", ",".join(options)]
    argv += [source, str(mount_dir)]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired as exc:
        raise DriverCommandFailed(f"mounting {source} did not finish in 60s") from exc
    if done.returncode != 0:
        raise DriverCommandFailed(
            f"mount {source} exited {done.returncode}: {done.stderr.strip()[:1000]}"
        )
    return mount_dir
