"""The judgement of manageable images, from probe results alone (drivers/discovery.py)."""

from __future__ import annotations

import os
from pathlib import Path

from drivers.discovery import (
    Probe,
    backing_chain,
    candidate_names,
    classify,
    fdinfo_flags,
    gib_rounded_up,
    opened_for_writing,
    writers_by_path,
)
from schemas.agent import ManageableImage, OwnedImage

ROOT = "/pool"
MiB = 1 << 20


def probe(name: str, **fields: object) -> Probe:
    base: dict[str, object] = {
        "name": name,
        "path": f"{ROOT}/{name}",
        "file_size": MiB,
        "format": "qcow2",
        "virtual_size": 64 * MiB,
    }
    return Probe(**{**base, **fields})  # type: ignore[arg-type]


def judged(
    probes: list[Probe], owned: dict[str, OwnedImage] | None = None
) -> dict[str, ManageableImage]:
    return {image.name: image for image in classify(ROOT, probes, owned or {})}


def codes(image: ManageableImage) -> list[str]:
    return [reason.code for reason in image.reasons]


def test_a_plain_qcow2_or_raw_image_is_safe() -> None:
    found = judged([probe("a.qcow2"), probe("b.img", format="raw")])

    assert found["a.qcow2"].safe_to_manage and found["b.img"].safe_to_manage
    assert found["a.qcow2"].reasons == [] and found["a.qcow2"].volume_uuid is None


def test_an_owned_image_names_its_volume() -> None:
    owner = OwnedImage(path=f"{ROOT}/a.qcow2", volume_uuid="v" * 32, role="head")

    found = judged([probe("a.qcow2")], {owner.path: owner})["a.qcow2"]

    assert not found.safe_to_manage and codes(found) == ["already-managed"]
    assert found.volume_uuid == "v" * 32


def test_a_volplane_image_name_nobody_owns_is_reserved() -> None:
    name = f"volume-{'1' * 32}.snap-{'2' * 32}.qcow2"

    assert codes(judged([probe(name)])[name]) == ["reserved-name"]


def test_formats_other_than_qcow2_and_raw_and_encrypted_images_are_refused() -> None:
    found = judged([probe("a.vmdk", format="vmdk"), probe("e.qcow2", encrypted=True)])

    assert codes(found["a.vmdk"]) == ["unsupported-format"]
    assert codes(found["e.qcow2"]) == ["unsupported-format"]


def test_unreadable_and_corrupt_images() -> None:
    found = judged(
        [
            probe("locked.qcow2", readable=False, format=None),
            probe("bad.qcow2", info_error="Unsupported cluster size", format=None),
            probe("broken.qcow2", check_error="2 corruption(s)"),
        ]
    )

    assert codes(found["locked.qcow2"]) == ["unreadable"]
    assert codes(found["bad.qcow2"]) == ["corrupt"]
    assert codes(found["broken.qcow2"]) == ["corrupt"]


def test_a_chain_inside_the_pool_leaves_the_top_safe_and_the_base_not() -> None:
    found = judged([probe("base.qcow2"), probe("top.qcow2", backing_file=f"{ROOT}/base.qcow2")])

    assert found["top.qcow2"].safe_to_manage
    assert codes(found["base.qcow2"]) == ["backing-of-image"]
    assert "top.qcow2" in found["base.qcow2"].reasons[0].message


def test_backing_files_outside_the_pool_missing_or_looping() -> None:
    found = judged(
        [
            probe("out.qcow2", backing_file="/elsewhere/base.qcow2"),
            probe("gone.qcow2", backing_file=f"{ROOT}/gone-base.qcow2"),
            probe("x.qcow2", backing_file=f"{ROOT}/y.qcow2"),
            probe("y.qcow2", backing_file=f"{ROOT}/x.qcow2"),
        ]
    )

    assert codes(found["out.qcow2"]) == ["backing-outside-pool"]
    assert codes(found["gone.qcow2"]) == ["backing-missing"]
    assert "backing-loop" in codes(found["x.qcow2"])


def test_a_chain_onto_a_volume_head_is_refused_but_onto_a_snapshot_is_not() -> None:
    head = OwnedImage(path=f"{ROOT}/head.qcow2", volume_uuid="h" * 32, role="head")
    snap = OwnedImage(path=f"{ROOT}/snap.qcow2", volume_uuid="s" * 32, role="snapshot")
    found = judged(
        [
            probe("head.qcow2"),
            probe("snap.qcow2"),
            probe("on-head.qcow2", backing_file=head.path),
            probe("on-snap.qcow2", backing_file=snap.path),
        ],
        {head.path: head, snap.path: snap},
    )

    assert codes(found["on-head.qcow2"]) == ["backing-is-volume"]
    assert found["on-snap.qcow2"].safe_to_manage


def test_a_chain_reaching_a_snapshot_through_an_unowned_file_is_refused() -> None:
    snap = OwnedImage(path=f"{ROOT}/snap.qcow2", volume_uuid="s" * 32, role="snapshot")
    found = judged(
        [
            probe("snap.qcow2"),
            probe("middle.qcow2", backing_file=snap.path),
            probe("top.qcow2", backing_file=f"{ROOT}/middle.qcow2"),
        ],
        {snap.path: snap},
    )

    assert "backing-through-file" in codes(found["top.qcow2"])


def test_an_image_open_for_writing_is_in_use() -> None:
    found = judged([probe("busy.qcow2", writers=("pid 7 (qemu)",))])["busy.qcow2"]

    assert codes(found) == ["in-use"] and "pid 7" in found.reasons[0].message


def test_backing_chain_follows_probed_files() -> None:
    probes = [
        probe("c.qcow2"),
        probe("b.qcow2", backing_file=f"{ROOT}/c.qcow2"),
        probe("a.qcow2", backing_file=f"{ROOT}/b.qcow2"),
    ]
    by_path = {p.path: p for p in probes}

    assert backing_chain(probes[2], by_path) == ([f"{ROOT}/b.qcow2", f"{ROOT}/c.qcow2"], None)


def test_hidden_files_and_partial_copies_are_not_candidates() -> None:
    names = ["a.qcow2", ".hidden", "sub/.x/y.qcow2", "volume-1.qcow2.part", "sub/b.img"]

    assert candidate_names(names) == ["a.qcow2", "sub/b.img"]


def test_sizes_round_up_to_whole_gib() -> None:
    assert [gib_rounded_up(n) for n in (0, 1, 1 << 30, (1 << 30) + 1)] == [0, 1, 1, 2]


def test_fdinfo_access_mode() -> None:
    assert fdinfo_flags("pos:\t0\nflags:\t0100002\nmnt_id:\t30\n") == 0o100002
    assert opened_for_writing(0o100002) and opened_for_writing(0o1)
    assert not opened_for_writing(0o100000)
    assert fdinfo_flags("pos:\t0\n") is None


def test_writers_are_read_from_a_proc_tree(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    for pid, fd, target, flags in [
        ("10", "3", "/pool/a.qcow2", "0100002"),
        ("11", "4", "/pool/a.qcow2", "0100000"),
        ("12", "5", "/pool/b.qcow2", "0100001"),
    ]:
        (proc / pid / "fd").mkdir(parents=True, exist_ok=True)
        (proc / pid / "fdinfo").mkdir(exist_ok=True)
        os.symlink(target, proc / pid / "fd" / fd)
        (proc / pid / "fdinfo" / fd).write_text(f"pos:\t0\nflags:\t{flags}\n")
        (proc / pid / "comm").write_text(f"proc{pid}\n")

    found = writers_by_path({"/pool/a.qcow2"}, proc)

    assert found == {"/pool/a.qcow2": ["pid 10 (proc10)"]}
