"""Copies written behind: the disk writes while the copy runs, not only at its end.

The kernel's own count of a file's dirty pages (``cachestat``, Linux 6.5+) shows
whether a write-behind pass really started the writeback.
"""

from __future__ import annotations

import ctypes
import os
import sys
import time
from pathlib import Path

import pytest

from drivers import qcow2
from drivers.durable import WRITE_BEHIND_SUPPORTED, writing_behind

pytestmark = pytest.mark.integration

MiB = 1 << 20
SIZE = 96 * MiB
_CACHESTAT = 451  # the same number on x86_64 and aarch64


class _Range(ctypes.Structure):
    _fields_ = [("off", ctypes.c_uint64), ("len", ctypes.c_uint64)]


class _Stat(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_uint64)
        for name in ("cache", "dirty", "writeback", "evicted", "recently_evicted")
    ]


def dirty_pages(path: Path) -> tuple[int, int]:
    """(dirty, cached) pages of ``path``, as the kernel counts them."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        stat = _Stat()
        if libc.syscall(_CACHESTAT, fd, ctypes.byref(_Range(0, 0)), ctypes.byref(stat), 0) != 0:
            raise OSError(ctypes.get_errno(), "cachestat failed")
    finally:
        os.close(fd)
    return stat.dirty, stat.cache


def _fill(path: Path) -> None:
    block = os.urandom(4 * MiB)
    with path.open("wb") as out:
        for _ in range(SIZE // len(block)):
            out.write(block)
            out.flush()


def test_write_behind_is_supported_here() -> None:
    # Not silently off: on Linux the copies of this product are written behind.
    assert sys.platform != "linux" or WRITE_BEHIND_SUPPORTED


def test_written_behind_file_is_not_left_dirty(tmp_path: Path) -> None:
    control, behind_file = tmp_path / "control", tmp_path / "behind"
    _fill(control)
    dirty, cached = dirty_pages(control)
    assert dirty > cached // 2, "without write-behind the kernel keeps the data dirty"

    with writing_behind(behind_file, interval=0.002) as behind:
        _fill(behind_file)
        seen = behind.passes
        while behind.passes < seen + 2:  # a pass that started after the last write
            time.sleep(0.002)
    dirty, cached = dirty_pages(behind_file)
    assert cached > 0 and dirty < cached // 10


def test_writer_may_create_the_file_after_write_behind_starts(tmp_path: Path) -> None:
    later = tmp_path / "later"
    with writing_behind(later, interval=0.001) as behind:
        time.sleep(0.01)
        assert behind.passes == 0
        later.write_bytes(b"x" * MiB)
        while behind.passes == 0:
            time.sleep(0.001)


def test_convert_leaves_a_flushed_copy(tmp_path: Path) -> None:
    src, dst = tmp_path / "src.qcow2", tmp_path / "dst.qcow2"
    qcow2.create(src, size=64 * MiB)
    qcow2.run(qcow2.write_pattern_argv(src, offset=0, length=32 * MiB, pattern=0x5A))
    qcow2.convert(src, dst)
    assert dirty_pages(dst)[0] == 0
    assert not qcow2.part_path(dst).exists()
    qcow2.run(qcow2.compare_argv(src, dst))
