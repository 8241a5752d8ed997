"""A volume's snapshot tree and the plans that edit it, as plain data.

The volume writes to its *head* image, which sits on the *current* snapshot (or on
the volume's *base*, the image under the tree: a template it was created from or the
snapshot a linked clone came from). Each snapshot is a frozen qcow2 image backing
its children; the head counts as a child of the current snapshot.

A plan lists the image steps an agent carries out, in order, and the tree edits to
record once they are done. Workers execute plans; nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from volplane.errors import ResourceNotFound, SnapshotHasChildren, SnapshotInUse

HEAD = "head"

# --- image steps -----------------------------------------------------------


@dataclass(frozen=True)
class Rename:
    src: str
    dst: str


@dataclass(frozen=True)
class Overlay:
    """A new empty image at ``path`` on top of ``backing``."""

    path: str
    backing: str


@dataclass(frozen=True)
class Rebase:
    """``path`` keeps what it shows the guest and moves onto ``backing`` (None: no backing)."""

    path: str
    backing: str | None


@dataclass(frozen=True)
class Delete:
    path: str


Step = Rename | Overlay | Rebase | Delete


def step_name(index: int, step: Step) -> str:
    """A stable name for the step, used in agent operation ids."""
    return f"{index}-{type(step).__name__.lower()}"


# --- the tree --------------------------------------------------------------


@dataclass(frozen=True)
class SnapshotNode:
    uuid: str
    parent_uuid: str | None
    path: str


@dataclass(frozen=True)
class VolumeTree:
    head_path: str
    current: str | None = None
    base_path: str | None = None
    snapshots: Mapping[str, SnapshotNode] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        *,
        head_path: str,
        current: str | None,
        base_path: str | None,
        snapshots: Iterable[SnapshotNode],
    ) -> VolumeTree:
        """``snapshots`` in creation order (children are listed in that order)."""
        return cls(head_path, current, base_path, {s.uuid: s for s in snapshots})

    def node(self, uuid: str) -> SnapshotNode:
        try:
            return self.snapshots[uuid]
        except KeyError:
            raise ResourceNotFound(f"snapshot {uuid} is not in this volume's tree") from None

    def children(self, uuid: str | None) -> list[str]:
        """Child snapshots of ``uuid`` (None: the roots), then HEAD if the head sits on it."""
        kids = [s.uuid for s in self.snapshots.values() if s.parent_uuid == uuid]
        if self.current == uuid:
            kids.append(HEAD)
        return kids

    def backing_of(self, uuid: str) -> str | None:
        """The image under snapshot ``uuid``."""
        parent = self.node(uuid).parent_uuid
        return self.base_path if parent is None else self.node(parent).path

    def path_of(self, child: str) -> str:
        return self.head_path if child == HEAD else self.node(child).path

    def chain(self) -> list[str]:
        """The head's backing chain as paths, head first, down to the base."""
        paths = [self.head_path]
        at = self.current
        while at is not None:
            node = self.node(at)
            paths.append(node.path)
            at = node.parent_uuid
        if self.base_path is not None:
            paths.append(self.base_path)
        return paths

    def post_order(self) -> list[str]:
        """Every snapshot, children before their parent (a safe deletion order)."""
        order: list[str] = []

        def visit(uuid: str | None) -> None:
            for kid in self.children(uuid):
                if kid != HEAD:
                    visit(kid)
                    order.append(kid)

        visit(None)
        return order


# --- plans -----------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]
    current: str | None
    added: SnapshotNode | None = None
    removed: tuple[str, ...] = ()
    reparented: Mapping[str, str | None] = field(default_factory=dict)
    # Images whose size changed (merged into): measure them again afterwards.
    grown: tuple[str, ...] = ()
    base_path: str | None = None


def plan_create(tree: VolumeTree, snapshot_uuid: str, snapshot_path: str) -> Plan:
    """Freeze the head as the new snapshot; a fresh head continues on top of it."""
    node = SnapshotNode(snapshot_uuid, tree.current, snapshot_path)
    return Plan(
        steps=(Rename(tree.head_path, snapshot_path), Overlay(tree.head_path, snapshot_path)),
        current=snapshot_uuid,
        added=node,
        base_path=tree.base_path,
    )


def plan_revert(tree: VolumeTree, snapshot_uuid: str) -> Plan:
    """The head is thrown away and restarts on the snapshot; later snapshots stay."""
    node = tree.node(snapshot_uuid)
    return Plan(
        steps=(Delete(tree.head_path), Overlay(tree.head_path, node.path)),
        current=snapshot_uuid,
        base_path=tree.base_path,
    )


def plan_delete(tree: VolumeTree, snapshot_uuid: str, *, linked_clones: int = 0) -> Plan:
    """Removes a snapshot, merging its data into its single child (if any).

    Refused while linked clones use it or when more than one child needs it.
    """
    node = tree.node(snapshot_uuid)
    if linked_clones:
        raise SnapshotInUse(f"snapshot {snapshot_uuid} has {linked_clones} linked clone(s)")
    kids = tree.children(snapshot_uuid)
    if len(kids) > 1:
        raise SnapshotHasChildren(
            f"snapshot {snapshot_uuid} has {len(kids)} children "
            f"({', '.join(kids)}); delete all but one first"
        )
    if not kids:
        return Plan(
            steps=(Delete(node.path),),
            current=tree.current,
            removed=(snapshot_uuid,),
            base_path=tree.base_path,
        )
    child = kids[0]
    child_path = tree.path_of(child)
    steps = (Rebase(child_path, tree.backing_of(snapshot_uuid)), Delete(node.path))
    if child == HEAD:
        return Plan(
            steps=steps,
            current=node.parent_uuid,
            removed=(snapshot_uuid,),
            base_path=tree.base_path,
        )
    return Plan(
        steps=steps,
        current=tree.current,
        removed=(snapshot_uuid,),
        reparented={child: node.parent_uuid},
        grown=(child,),
        base_path=tree.base_path,
    )


def plan_flatten(tree: VolumeTree) -> Plan:
    """Copies the base's data into the lowest images so the volume needs no base."""
    if tree.base_path is None:
        return Plan(steps=(), current=tree.current)
    lowest = tree.children(None)
    steps = tuple(Rebase(tree.path_of(kid), None) for kid in lowest)
    grown = tuple(kid for kid in lowest if kid != HEAD)
    return Plan(steps=steps, current=tree.current, grown=grown, base_path=None)


def plan_destroy(tree: VolumeTree) -> Plan:
    """Deletes the head, then every snapshot, children before parents."""
    order = tree.post_order()
    steps = (Delete(tree.head_path), *(Delete(tree.node(s).path) for s in order))
    return Plan(steps=steps, current=None, removed=tuple(order))


def apply(tree: VolumeTree, plan: Plan) -> VolumeTree:
    """The tree after ``plan`` (what the database records)."""
    nodes = {u: n for u, n in tree.snapshots.items() if u not in plan.removed}
    for uuid, parent in plan.reparented.items():
        nodes[uuid] = SnapshotNode(uuid, parent, nodes[uuid].path)
    if plan.added is not None:
        nodes[plan.added.uuid] = plan.added
    return VolumeTree(tree.head_path, plan.current, plan.base_path, nodes)


def tree_view(tree: VolumeTree, inventories: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The tree as nested leaves ``{inventory, parentUuid, children: [...]}``; the head
    appears as a leaf with ``inventory: null`` and ``uuid: "head"``."""

    def leaf(uuid: str, parent: str | None) -> dict[str, Any]:
        if uuid == HEAD:
            return {"uuid": HEAD, "inventory": None, "parentUuid": parent, "children": []}
        return {
            "uuid": uuid,
            "inventory": inventories.get(uuid),
            "parentUuid": parent,
            "children": [leaf(kid, uuid) for kid in tree.children(uuid)],
        }

    return [leaf(root, None) for root in tree.children(None) if root != HEAD]
