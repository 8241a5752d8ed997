"""The qcow2 driver's pure parts: argument building and output parsing."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from drivers import qcow2
from volplane.errors import DriverCommandFailed, InvalidParameter, InvalidStoragePath


def test_create_argv_with_size() -> None:
    argv = qcow2.create_argv(Path("/p/v.qcow2"), size=1024)
    assert argv == ["qemu-img", "create", "-q", "-f", "qcow2", "/p/v.qcow2", "1024"]


def test_create_argv_with_backing_names_its_format() -> None:
    argv = qcow2.create_argv(Path("/p/o.qcow2"), backing=Path("/p/b.img"), backing_format="raw")
    assert argv == [
        "qemu-img", "create", "-q", "-f", "qcow2", "-b", "/p/b.img", "-F", "raw", "/p/o.qcow2"
    ]  # fmt: skip


def test_create_argv_needs_size_or_backing() -> None:
    with pytest.raises(InvalidParameter):
        qcow2.create_argv(Path("/p/v.qcow2"))


def test_info_argv_reads_images_in_use() -> None:
    argv = qcow2.info_argv(Path("/p/v.qcow2"), backing_chain=True)
    assert "-U" in argv and "--backing-chain" in argv and argv[-1] == "/p/v.qcow2"
    assert "-f" not in qcow2.info_argv(Path("/p/t.img"), fmt=None)


def test_rebase_argv_safe_unsafe_and_flatten() -> None:
    safe = qcow2.rebase_argv(Path("/p/o"), Path("/p/b"))
    assert "-u" not in safe and safe[-5:] == ["-b", "/p/b", "-F", "qcow2", "/p/o"]
    assert "-u" in qcow2.rebase_argv(Path("/p/o"), Path("/p/b"), unsafe=True)
    flatten = qcow2.rebase_argv(Path("/p/o"), None)
    assert flatten[-3:] == ["-b", "", "/p/o"] and "-F" not in flatten


def test_convert_argv_options() -> None:
    argv = qcow2.convert_argv(Path("/a"), Path("/b"), compress=True, rate_limit=1000)
    assert argv[:3] == ["qemu-img", "convert", "-p"]
    assert "-c" in argv and argv[argv.index("-r") + 1] == "1000" and argv[-2:] == ["/a", "/b"]
    plain = qcow2.convert_argv(Path("/a"), Path("/b"))
    assert "-c" not in plain and "-r" not in plain


def test_part_path_sits_beside_destination() -> None:
    assert qcow2.part_path(Path("/p/v.qcow2")) == Path("/p/v.qcow2.part")


def test_progress_parser_reports_changes_across_chunks() -> None:
    parser = qcow2.ProgressParser()
    assert parser.feed(b"    (0.00/100%)\r    (12.") == 0
    assert parser.feed(b"50/100%)\r") == 12
    assert parser.feed(b"    (12.90/100%)\r") is None  # same whole percent
    assert parser.feed(b"    (100.00/100%)\r\n") == 100
    assert parser.percent == 100


def test_progress_parser_ignores_noise() -> None:
    parser = qcow2.ProgressParser()
    assert parser.feed(b"something else\n") is None
    assert parser.percent is None


def test_parse_info_prefers_full_backing_name() -> None:
    info = qcow2.parse_info(
        {
            "filename": "/p/o.qcow2",
            "format": "qcow2",
            "virtual-size": 1 << 30,
            "actual-size": 196608,
            "cluster-size": 65536,
            "backing-filename": "b.qcow2",
            "full-backing-filename": "/p/b.qcow2",
            "backing-filename-format": "qcow2",
            "dirty-flag": False,
        }
    )
    assert info.backing_file == "/p/b.qcow2" and info.virtual_size == 1 << 30
    assert info.wire()["virtualSize"] == 1 << 30


def test_parse_map() -> None:
    extents = qcow2.parse_map(
        [
            {"start": 0, "length": 4096, "depth": 0, "present": True, "zero": False, "data": True},
            {
                "start": 4096,
                "length": 8192,
                "depth": 1,
                "present": False,
                "zero": True,
                "data": False,
            },
        ]
    )
    assert [(e.start, e.length, e.data, e.depth) for e in extents] == [
        (0, 4096, True, 0),
        (4096, 8192, False, 1),
    ]


def test_command_failure_carries_exit_code_and_stderr() -> None:
    error = qcow2.command_failure(["/usr/bin/qemu-img", "info", "x"], 1, "Could not open 'x'\n")
    assert isinstance(error, DriverCommandFailed)
    assert error.details == "qemu-img info exited 1: Could not open 'x'"
    assert error.context["exit_code"] == 1 and error.context["stderr"] == "Could not open 'x'\n"


def _header(version: int, *, backing: int = 0, incompatible: int = 0) -> bytes:
    fixed = struct.pack(">4sIQIIQ", b"QFI\xfb", version, backing, 0, 16, 5 << 30)
    return fixed + bytes(72 - len(fixed)) + struct.pack(">Q", incompatible)


def test_parse_header_fields_and_dirty_bit() -> None:
    clean = qcow2.parse_header(_header(3))
    assert (clean.virtual_size, clean.cluster_size, clean.has_backing, clean.dirty) == (
        5 << 30,
        1 << 16,
        False,
        False,
    )
    assert qcow2.parse_header(_header(3, incompatible=1)).dirty
    assert qcow2.parse_header(_header(3, backing=512)).has_backing
    # Version 2 has no feature bits: bytes there are not read as "dirty".
    assert not qcow2.parse_header(_header(2, incompatible=1)).dirty


def test_parse_header_refuses_other_formats() -> None:
    with pytest.raises(InvalidStoragePath):
        qcow2.parse_header(b"\0" * 80)
    with pytest.raises(InvalidStoragePath):
        qcow2.parse_header(b"QFI\xfb")
