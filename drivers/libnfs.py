"""A userspace NFSv3 client: the few file operations the agent needs, through libnfs.

qemu reads and writes images itself (its ``nfs://`` driver links libnfs too); what is
left is what a mounted filesystem would give for free: stat, rename, unlink, mkdir,
listing and free space. No kernel NFS client, no mount, no root privileges needed.

Every call opens its own mounted context (one MOUNT and a few RPCs, milliseconds on a
LAN), so threads never share libnfs state, and a server that went away and came back
costs nothing to recover from. A call that cannot reach the server fails after
``timeout`` instead of hanging.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

from volplane.errors import DriverCommandFailed, StorageUnreachable

LIBRARY = "libnfs.so.13"
NFS_VERSION = 3  # qemu 7.2's nfs driver speaks v3 only; libnfs 4.0's v4 breaks on big writes
DEFAULT_TIMEOUT_MS = 15_000


class _Stat(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_uint64)
        for name in [
            "dev",
            "ino",
            "mode",
            "nlink",
            "uid",
            "gid",
            "rdev",
            "size",
            "blksize",
            "blocks",
            "atime",
            "mtime",
            "ctime",
            "atime_nsec",
            "mtime_nsec",
            "ctime_nsec",
            "used",
        ]
    ]


class _StatVfs(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_uint64)
        for name in [
            "bsize",
            "frsize",
            "blocks",
            "bfree",
            "bavail",
            "files",
            "ffree",
            "favail",
            "fsid",
            "flag",
            "namemax",
        ]
    ]


_NF3REG, _NF3DIR = 1, 2  # RFC 1813 ftype3


class _Dirent(ctypes.Structure):
    # The leading fields of libnfs's struct nfsdirent (stable since libnfs 1.x).
    _fields_ = [
        ("next", ctypes.c_void_p),
        ("name", ctypes.c_char_p),
        ("inode", ctypes.c_uint64),
        ("type", ctypes.c_uint32),
        ("mode", ctypes.c_uint32),
        ("size", ctypes.c_uint64),
    ]


@cache
def library() -> ctypes.CDLL:
    """libnfs, with the signatures used here; raises OSError where it is missing."""
    lib = ctypes.CDLL(ctypes.util.find_library("nfs") or LIBRARY)
    lib.nfs_init_context.restype = ctypes.c_void_p
    lib.nfs_get_error.restype = ctypes.c_char_p
    lib.nfs_get_error.argtypes = [ctypes.c_void_p]
    lib.nfs_destroy_context.argtypes = [ctypes.c_void_p]
    lib.nfs_set_timeout.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.nfs_set_version.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.nfs_mount.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
    for name in ("nfs_mkdir", "nfs_rmdir", "nfs_unlink"):
        getattr(lib, name).argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.nfs_rename.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
    lib.nfs_stat64.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(_Stat)]
    lib.nfs_statvfs64.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(_StatVfs)]
    lib.nfs_opendir.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
    lib.nfs_readdir.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    lib.nfs_readdir.restype = ctypes.c_void_p
    lib.nfs_closedir.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    lib.nfs_closedir.restype = None
    return lib


def unavailable_reason() -> str | None:
    try:
        library()
    except OSError as exc:
        return f"libnfs is not installed ({exc})"
    return None


@dataclass(frozen=True)
class Entry:
    name: str
    is_dir: bool
    is_file: bool
    size: int


class NfsClient:
    """Operations on one export; paths are absolute within the export (``/a/b``)."""

    def __init__(self, server: str, export: str, *, timeout_ms: int = DEFAULT_TIMEOUT_MS):
        self.server = server
        self.export = export
        self.timeout_ms = timeout_ms

    @contextmanager
    def _mounted(self) -> Iterator[_Session]:
        lib = library()
        handle = lib.nfs_init_context()
        if not handle:
            raise StorageUnreachable("libnfs could not make a context")
        try:
            session = _Session(lib, ctypes.c_void_p(handle), f"{self.server}:{self.export}")
            lib.nfs_set_timeout(session.handle, self.timeout_ms)
            session.check(lib.nfs_set_version(session.handle, NFS_VERSION), "set version")
            rc = lib.nfs_mount(session.handle, self.server.encode(), self.export.encode())
            if rc < 0:
                raise StorageUnreachable(
                    f"NFS export {self.server}:{self.export} cannot be reached: {session.error()}"
                )
            yield session
        finally:
            lib.nfs_destroy_context(ctypes.c_void_p(handle))

    def stat(self, path: str) -> os.stat_result | None:
        """The file's mode and size (other fields zero), or None if it does not exist."""
        with self._mounted() as nfs:
            return nfs.stat(path)

    def statvfs(self) -> tuple[int, int]:
        """(total bytes, bytes available to us) of the exported filesystem."""
        with self._mounted() as nfs:
            found = _StatVfs()
            nfs.check(nfs.lib.nfs_statvfs64(nfs.handle, b"/", ctypes.byref(found)), "statvfs")
            return found.blocks * found.frsize, found.bavail * found.frsize

    def unlink(self, path: str) -> bool:
        """True if the file existed."""
        with self._mounted() as nfs:
            if nfs.stat(path) is None:
                return False
            nfs.check(nfs.lib.nfs_unlink(nfs.handle, path.encode()), f"unlink {path}")
            return True

    def rename(self, src: str, dst: str) -> None:
        with self._mounted() as nfs:
            nfs.check(
                nfs.lib.nfs_rename(nfs.handle, src.encode(), dst.encode()),
                f"rename {src} to {dst}",
            )

    def mkdir(self, path: str) -> None:
        with self._mounted() as nfs:
            if nfs.stat(path) is None:
                nfs.check(nfs.lib.nfs_mkdir(nfs.handle, path.encode()), f"mkdir {path}")

    def rmdir(self, path: str) -> None:
        with self._mounted() as nfs:
            nfs.check(nfs.lib.nfs_rmdir(nfs.handle, path.encode()), f"rmdir {path}")

    def walk(self, top: str = "/") -> list[tuple[str, Entry]]:
        """Every entry under ``top``, as (path relative to ``top``, entry), depth first."""
        found: list[tuple[str, Entry]] = []
        with self._mounted() as nfs:
            pending = [""]
            while pending:
                relative = pending.pop()
                for entry in nfs.listdir(f"{top.rstrip('/')}/{relative}".rstrip("/") or "/"):
                    name = f"{relative}/{entry.name}".lstrip("/")
                    found.append((name, entry))
                    if entry.is_dir:
                        pending.append(name)
        return sorted(found, key=lambda item: item[0])


class _Session:
    def __init__(self, lib: ctypes.CDLL, handle: ctypes.c_void_p, where: str) -> None:
        self.lib = lib
        self.handle = handle
        self.where = where

    def error(self) -> str:
        message = self.lib.nfs_get_error(self.handle)
        return message.decode(errors="replace") if message else "unknown error"

    def check(self, rc: int, what: str) -> int:
        if rc < 0:
            raise DriverCommandFailed(f"NFS {what} on {self.where} failed: {self.error()}")
        return rc

    def stat(self, path: str) -> os.stat_result | None:
        found = _Stat()
        rc = self.lib.nfs_stat64(self.handle, path.encode(), ctypes.byref(found))
        if rc == -errno.ENOENT:  # libnfs answers -errno
            return None
        self.check(rc, f"stat {path}")
        return os.stat_result(
            (found.mode, found.ino, found.dev, found.nlink, found.uid, found.gid, found.size,
             found.atime, found.mtime, found.ctime)
        )  # fmt: skip

    def listdir(self, path: str) -> list[Entry]:
        handle = ctypes.c_void_p()
        self.check(
            self.lib.nfs_opendir(self.handle, path.encode(), ctypes.byref(handle)), f"list {path}"
        )
        entries = []
        try:
            while True:
                at = self.lib.nfs_readdir(self.handle, handle)
                if not at:
                    break
                dirent = _Dirent.from_address(at)
                name = (dirent.name or b"").decode(errors="surrogateescape")
                if name in ("", ".", ".."):
                    continue
                entries.append(
                    Entry(
                        name=name,
                        is_dir=dirent.type == _NF3DIR,
                        is_file=dirent.type == _NF3REG,
                        size=dirent.size,
                    )
                )
        finally:
            self.lib.nfs_closedir(self.handle, handle)
        return entries
