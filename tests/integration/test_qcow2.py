"""The qcow2 driver against real qemu-img and real image files."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers import qcow2
from volplane.errors import DriverCommandFailed, InvalidParameter, InvalidStoragePath, JobCancelled

pytestmark = pytest.mark.integration

MiB = 1 << 20
GiB = 1 << 30


def image_with_data(path: Path, size: int, offsets: list[int], length: int = 4 * MiB) -> Path:
    qcow2.create(path, size=size)
    for offset in offsets:
        qcow2.write_pattern(path, offset=offset, length=length, pattern=0xAB)
    return path


def test_create_reports_size_and_refuses_to_overwrite(tmp_path: Path) -> None:
    info = qcow2.create(tmp_path / "v.qcow2", size=64 * MiB)
    assert (info.format, info.virtual_size, info.backing_file) == ("qcow2", 64 * MiB, None)
    with pytest.raises(InvalidStoragePath, match="already exists"):
        qcow2.create(tmp_path / "v.qcow2", size=64 * MiB)


def test_create_from_backing_file_adopts_its_size_and_data(tmp_path: Path) -> None:
    base = image_with_data(tmp_path / "base.qcow2", 32 * MiB, [0])
    info = qcow2.create(tmp_path / "v.qcow2", backing=base)
    assert info.virtual_size == 32 * MiB and info.backing_file == str(base)
    assert qcow2.compare(base, tmp_path / "v.qcow2")


def test_create_adopts_a_raw_backing_file(tmp_path: Path) -> None:
    raw = tmp_path / "template.img"
    raw.write_bytes(b"\x01" * MiB)
    info = qcow2.create(tmp_path / "v.qcow2", backing=raw)
    assert info.virtual_size == MiB and info.backing_format == "raw"


def test_overlay_commit_and_chain(tmp_path: Path) -> None:
    base = qcow2.create(tmp_path / "base.qcow2", size=16 * MiB)
    overlay = qcow2.create_overlay(tmp_path / "snap1.qcow2", Path(base.path))
    assert overlay.backing_file == base.path
    qcow2.write_pattern(Path(overlay.path), offset=0, length=MiB, pattern=0x11)
    chain = qcow2.backing_chain(Path(overlay.path))
    assert [i.path for i in chain] == [overlay.path, base.path]

    qcow2.commit(Path(overlay.path))

    assert any(e.data for e in qcow2.map_extents(Path(base.path)))


def test_rebase_safe_unsafe_and_flatten(tmp_path: Path) -> None:
    base = image_with_data(tmp_path / "base.qcow2", 16 * MiB, [0])
    copy = tmp_path / "copy.qcow2"
    qcow2.convert(base, copy)
    overlay = tmp_path / "o.qcow2"
    qcow2.create_overlay(overlay, base)

    assert qcow2.rebase(overlay, copy, unsafe=True).backing_file == str(copy)
    assert qcow2.rebase(overlay, base).backing_file == str(base)
    flat = qcow2.rebase(overlay, None)

    assert flat.backing_file is None
    assert qcow2.compare(overlay, base)


def test_resize_grows_only(tmp_path: Path) -> None:
    path = tmp_path / "v.qcow2"
    qcow2.create(path, size=16 * MiB)
    assert qcow2.resize(path, 32 * MiB).virtual_size == 32 * MiB
    with pytest.raises(InvalidParameter, match="shrinking"):
        qcow2.resize(path, 16 * MiB)


def test_map_lists_allocated_extents(tmp_path: Path) -> None:
    path = image_with_data(tmp_path / "v.qcow2", 64 * MiB, [8 * MiB], length=MiB)
    data = [(e.start, e.length) for e in qcow2.map_extents(path) if e.data]
    assert data == [(8 * MiB, MiB)]


def test_convert_copies_data_with_progress(tmp_path: Path) -> None:
    src = image_with_data(tmp_path / "src.qcow2", 256 * MiB, [0, 100 * MiB, 200 * MiB])
    seen: list[int] = []

    info = qcow2.convert(src, tmp_path / "dst.qcow2", on_progress=seen.append)

    assert info.virtual_size == 256 * MiB and info.backing_file is None
    assert qcow2.compare(src, tmp_path / "dst.qcow2")
    assert seen == sorted(seen) and seen[-1] == 100
    assert not qcow2.part_path(tmp_path / "dst.qcow2").exists()


def test_convert_cancelled_leaves_nothing(tmp_path: Path) -> None:
    src = image_with_data(
        tmp_path / "src.qcow2", GiB, [0, 256 * MiB, 512 * MiB, 768 * MiB], 16 * MiB
    )
    dst = tmp_path / "dst.qcow2"
    seen: list[int] = []

    with pytest.raises(JobCancelled):
        # Rate-limited to several seconds, cancelled as soon as the copy is under way.
        qcow2.convert(
            src, dst, rate_limit=16 * MiB, on_progress=seen.append, should_cancel=lambda: bool(seen)
        )

    assert not dst.exists() and not qcow2.part_path(dst).exists()


def test_failing_qemu_img_raises_with_stderr(tmp_path: Path) -> None:
    garbage = tmp_path / "not-an-image.qcow2"
    garbage.write_bytes(b"definitely not qcow2")

    with pytest.raises(DriverCommandFailed) as caught:
        qcow2.info(garbage)

    assert caught.value.context["exit_code"] == 1
    assert "qcow2" in caught.value.context["stderr"] and "qemu-img info exited 1" in str(
        caught.value
    )


def test_failed_convert_removes_partial_output(tmp_path: Path) -> None:
    garbage = tmp_path / "bad.qcow2"
    garbage.write_bytes(b"definitely not qcow2")
    dst = tmp_path / "dst.qcow2"

    with pytest.raises(DriverCommandFailed):
        qcow2.convert(garbage, dst)

    assert not dst.exists() and not qcow2.part_path(dst).exists()


def test_standalone_info_reads_what_qemu_img_info_answers(tmp_path: Path) -> None:
    empty = tmp_path / "empty.qcow2"
    qcow2.create(empty, size=3 * GiB + 512)
    written = image_with_data(tmp_path / "data.qcow2", 256 * MiB, [0, 100 * MiB, 250 * MiB])
    big_clusters = tmp_path / "big.qcow2"
    qcow2.run([*qcow2.create_argv(big_clusters, size=GiB)[:-2], "-o", "cluster_size=2M",
               str(big_clusters), str(GiB)])  # fmt: skip
    copy = tmp_path / "copy.qcow2"
    qcow2.convert(written, copy)
    overlay = tmp_path / "overlay.qcow2"
    qcow2.create_overlay(overlay, written)  # has a backing file: asked of qemu-img
    for path in (empty, written, big_clusters, copy, overlay):
        assert qcow2.standalone_info(path) == qcow2.info(path), path
    assert qcow2.standalone_info(big_clusters).cluster_size == 2 * MiB


def test_standalone_info_refuses_what_is_not_qcow2(tmp_path: Path) -> None:
    raw = tmp_path / "raw.img"
    raw.write_bytes(b"\0" * 4096)
    with pytest.raises(InvalidStoragePath, match="not a qcow2"):
        qcow2.standalone_info(raw)
