"""Snapshot-tree plans: create, revert, delete-merge, flatten, destroy, as data."""

from __future__ import annotations

import pytest

from volplane import layout
from volplane.errors import ResourceNotFound, SnapshotHasChildren, SnapshotInUse
from volplane.snapshot_tree import (
    HEAD,
    Delete,
    Overlay,
    Rebase,
    Rename,
    SnapshotNode,
    VolumeTree,
    apply,
    plan_create,
    plan_delete,
    plan_destroy,
    plan_flatten,
    plan_revert,
    step_name,
    tree_view,
)

POOL = "/pool"
VOL = "a" * 32


def snap_path(name: str) -> str:
    return layout.snapshot_path(POOL, VOL, name * 32)


def empty(base: str | None = None) -> VolumeTree:
    return VolumeTree(head_path=layout.head_path(POOL, VOL), base_path=base)


def with_snapshots(tree: VolumeTree, *names: str) -> VolumeTree:
    for name in names:
        tree = apply(tree, plan_create(tree, name * 32, snap_path(name)))
    return tree


def test_create_freezes_the_head_and_continues_on_a_new_overlay() -> None:
    tree = empty()

    plan = plan_create(tree, "1" * 32, snap_path("1"))

    assert plan.steps == (
        Rename(tree.head_path, snap_path("1")),
        Overlay(tree.head_path, snap_path("1")),
    )
    after = apply(tree, plan)
    assert after.current == "1" * 32
    assert after.chain() == [tree.head_path, snap_path("1")]
    assert after.children("1" * 32) == [HEAD]


def test_chain_of_three_snapshots_goes_down_to_the_base() -> None:
    tree = with_snapshots(empty(base="/pool/template.qcow2"), "1", "2", "3")
    assert tree.chain() == [
        tree.head_path,
        snap_path("3"),
        snap_path("2"),
        snap_path("1"),
        "/pool/template.qcow2",
    ]
    assert tree.post_order() == ["3" * 32, "2" * 32, "1" * 32]


def test_revert_keeps_later_snapshots_as_a_branch() -> None:
    tree = with_snapshots(empty(), "1", "2")

    plan = plan_revert(tree, "1" * 32)

    assert plan.steps == (Delete(tree.head_path), Overlay(tree.head_path, snap_path("1")))
    after = apply(tree, plan)
    assert after.children("1" * 32) == ["2" * 32, HEAD]
    assert after.children("2" * 32) == []
    assert set(after.snapshots) == {"1" * 32, "2" * 32}


def test_revert_to_an_unknown_snapshot_is_not_found() -> None:
    with pytest.raises(ResourceNotFound):
        plan_revert(empty(), "9" * 32)


def test_delete_middle_snapshot_merges_it_into_its_child() -> None:
    tree = with_snapshots(empty(), "1", "2", "3")

    plan = plan_delete(tree, "2" * 32)

    assert plan.steps == (Rebase(snap_path("3"), snap_path("1")), Delete(snap_path("2")))
    after = apply(tree, plan)
    assert after.node("3" * 32).parent_uuid == "1" * 32
    assert after.chain() == [tree.head_path, snap_path("3"), snap_path("1")]
    assert plan.grown == ("3" * 32,)


def test_delete_current_snapshot_merges_it_into_the_head() -> None:
    tree = with_snapshots(empty(), "1", "2")

    plan = plan_delete(tree, "2" * 32)

    assert plan.steps == (Rebase(tree.head_path, snap_path("1")), Delete(snap_path("2")))
    assert apply(tree, plan).current == "1" * 32


def test_delete_root_rebases_the_child_onto_the_base() -> None:
    tree = with_snapshots(empty(base="/pool/t.qcow2"), "1", "2")
    plan = plan_delete(tree, "1" * 32)
    assert plan.steps[0] == Rebase(snap_path("2"), "/pool/t.qcow2")
    assert apply(tree, plan).node("2" * 32).parent_uuid is None


def test_delete_only_snapshot_leaves_the_head_without_backing() -> None:
    tree = with_snapshots(empty(), "1")
    plan = plan_delete(tree, "1" * 32)
    assert plan.steps[0] == Rebase(tree.head_path, None)
    after = apply(tree, plan)
    assert after.current is None and not after.snapshots


def test_delete_leaf_branch_just_deletes_the_file() -> None:
    tree = apply(
        with_snapshots(empty(), "1", "2"), plan_revert(with_snapshots(empty(), "1", "2"), "1" * 32)
    )
    assert plan_delete(tree, "2" * 32).steps == (Delete(snap_path("2")),)


def test_delete_is_refused_with_two_children_or_linked_clones() -> None:
    tree = with_snapshots(empty(), "1", "2")
    tree = apply(tree, plan_revert(tree, "1" * 32))
    with pytest.raises(SnapshotHasChildren):
        plan_delete(tree, "1" * 32)
    with pytest.raises(SnapshotInUse):
        plan_delete(tree, "2" * 32, linked_clones=1)


def test_flatten_rebases_the_lowest_image_off_the_base() -> None:
    assert plan_flatten(empty()).steps == ()
    bare = empty(base="/pool/src.qcow2")
    assert plan_flatten(bare).steps == (Rebase(bare.head_path, None),)
    tree = with_snapshots(bare, "1", "2")
    plan = plan_flatten(tree)
    assert plan.steps == (Rebase(snap_path("1"), None),)
    assert apply(tree, plan).chain()[-1] == snap_path("1")


def test_destroy_deletes_head_then_children_before_parents() -> None:
    tree = with_snapshots(empty(), "1", "2")
    tree = apply(tree, plan_revert(tree, "1" * 32))
    tree = with_snapshots(tree, "3")
    plan = plan_destroy(tree)
    deleted = [s.path for s in plan.steps if isinstance(s, Delete)]
    assert deleted[0] == tree.head_path
    assert deleted.index(snap_path("1")) > deleted.index(snap_path("2"))
    assert deleted.index(snap_path("1")) > deleted.index(snap_path("3"))


def test_tree_view_nests_children_and_shows_the_head() -> None:
    tree = with_snapshots(empty(), "1", "2")
    tree = apply(tree, plan_revert(tree, "1" * 32))
    view = tree_view(tree, {"1" * 32: {"name": "one"}, "2" * 32: {"name": "two"}})
    assert len(view) == 1 and view[0]["inventory"] == {"name": "one"}
    assert [c["uuid"] for c in view[0]["children"]] == ["2" * 32, HEAD]


def test_step_names_are_stable_and_valid_op_id_parts() -> None:
    assert step_name(0, Rename("/a", "/b")) == "0-rename"
    assert step_name(3, Rebase("/a", None)) == "3-rebase"


def test_layout_recognizes_its_own_files() -> None:
    role = layout.recognize(snap_path("1").rsplit("/", 1)[1])
    assert role is not None and role.role == "snapshot" and role.snapshot_uuid == "1" * 32
    head = layout.recognize(f"volume-{VOL}.qcow2.part")
    assert head is not None and head.role == "head" and head.partial
    assert layout.recognize("random.img") is None
    export = layout.recognize(layout.export_path(POOL, VOL))
    assert export is not None and export.role == "export"


def test_snapshot_node_is_plain_data() -> None:
    assert SnapshotNode("x", None, "/p") == SnapshotNode("x", None, "/p")
