"""Putting a finished file in place so that it survives a crash of the host.

qemu-img writes its output through the page cache and never flushes it: an image
renamed into place and reported ready could lose its data to a power failure. The
data is flushed before the rename, and the rename itself by a flush of the folder.

Flushing a whole copy at its end doubles its time (the disk only starts once the copy
is done), so copies are written behind: while the copy runs, the kernel is asked every
few milliseconds to start writing what is dirty, and the final flush finds little left.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

WRITE_BEHIND_INTERVAL = 0.005
_SYNC_FILE_RANGE_WRITE = 2  # start writeback of dirty pages, do not wait for it


def fsync_path(path: Path) -> None:
    """Flushes a file's (or a folder's) data and metadata to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def durable_replace(part: Path, dst: Path) -> None:
    """Renames a completely written ``part`` to ``dst``, both flushed to disk."""
    fsync_path(part)
    os.replace(part, dst)
    fsync_path(dst.parent)


def _start_writeback_call() -> Callable[[int], int] | None:
    """``sync_file_range(fd, 0, 0, WRITE)`` from the C library, where Linux has it."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    libc = ctypes.CDLL(name, use_errno=True)
    call = getattr(libc, "sync_file_range", None)
    if call is None:
        return None
    call.argtypes = [ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong, ctypes.c_uint]
    call.restype = ctypes.c_int
    return lambda fd: int(call(fd, 0, 0, _SYNC_FILE_RANGE_WRITE))


_start_writeback = _start_writeback_call()
WRITE_BEHIND_SUPPORTED = _start_writeback is not None


class WriteBehind:
    """A thread that keeps the disk writing ``path`` while another process fills it.

    ``path`` may not exist yet (qemu-img creates it after it starts); it is opened as
    soon as it does. ``passes`` counts the requests the kernel accepted. Without
    ``sync_file_range`` (not Linux) it does nothing: the final flush still makes the
    file durable, only later.
    """

    def __init__(self, path: Path, interval: float = WRITE_BEHIND_INTERVAL) -> None:
        self.path = path
        self.interval = interval
        self.passes = 0
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="write-behind", daemon=True)

    def start(self) -> None:
        if _start_writeback is not None:
            self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        assert _start_writeback is not None
        fd: int | None = None
        try:
            while not self._stopped.wait(self.interval):
                if fd is None:
                    try:
                        fd = os.open(self.path, os.O_RDONLY)
                    except FileNotFoundError:
                        continue
                if _start_writeback(fd) == 0:
                    self.passes += 1
        finally:
            if fd is not None:
                os.close(fd)


@contextmanager
def writing_behind(path: Path, interval: float = WRITE_BEHIND_INTERVAL) -> Iterator[WriteBehind]:
    """Writes ``path`` behind for the duration of the block."""
    behind = WriteBehind(path, interval)
    behind.start()
    try:
        yield behind
    finally:
        behind.stop()
