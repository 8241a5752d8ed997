"""What a caller's backingFile may name: the pure rule of ``volplane.backing``."""

from __future__ import annotations

import pytest

from volplane.backing import BackingChoice, ImageOwner, ImageRole, choose_backing, name_in_pool
from volplane.errors import InvalidParameter, ResourceNotFound
from volplane.tenancy import ADMIN, Tenant

A, B = "a" * 32, "b" * 32
VOL_A, VOL_B, SNAP_A = "1" * 32, "2" * 32, "3" * 32
POOL = "/pools/p1"
HEAD_A = f"volume-{VOL_A}.qcow2"
SNAP_IMAGE_A = f"volume-{VOL_A}.snap-{SNAP_A}.qcow2"
OWNERS = {
    f"{POOL}/{HEAD_A}": ImageOwner(VOL_A, A, ImageRole.HEAD),
    f"{POOL}/{SNAP_IMAGE_A}": ImageOwner(VOL_A, A, ImageRole.SNAPSHOT, SNAP_A),
    f"{POOL}/template.qcow2": ImageOwner(VOL_B, B, ImageRole.BASE),
    f"{POOL}/adopted.raw": ImageOwner(VOL_B, B, ImageRole.DATA),
}


def judge(requested: str, chain: list[str | None], actor: Tenant) -> BackingChoice:
    return choose_backing(
        requested=requested,
        pool_uuid="p" * 32,
        mount_path=POOL,
        chain=chain,
        owners=OWNERS,
        actor=actor,
    )


@pytest.mark.parametrize(
    "path",
    [
        "template.qcow2",
        "/pools/p1",
        "/pools/p1/",
        "/pools/p10/x.qcow2",
        "/pools/p1/../p2/x.qcow2",
        "/pools/p1/./x.qcow2",
        "/pools/p1//x.qcow2",
        "/etc/passwd",
    ],
)
def test_a_path_that_leaves_the_pool_as_written_has_no_name_in_it(path: str) -> None:
    assert name_in_pool(POOL, path) is None


def test_names_inside_the_pool() -> None:
    assert name_in_pool(POOL + "/", "/pools/p1/t/x.qcow2") == "t/x.qcow2"


@pytest.mark.parametrize("image", [HEAD_A, SNAP_IMAGE_A, "adopted.raw"])
def test_another_tenants_images_do_not_exist_for_b(image: str) -> None:
    with pytest.raises(ResourceNotFound):
        judge(f"{POOL}/{image}", [image], Tenant(B if image != "adopted.raw" else A))


def test_a_symlink_to_another_tenants_snapshot_is_judged_by_where_it_leads() -> None:
    with pytest.raises(ResourceNotFound):
        judge(f"{POOL}/innocent.qcow2", [SNAP_IMAGE_A], Tenant(B))


def test_the_owner_may_build_on_its_own_snapshot_and_depends_on_it() -> None:
    chosen = judge(f"{POOL}/{SNAP_IMAGE_A}", [SNAP_IMAGE_A], Tenant(A))
    assert chosen == BackingChoice(f"{POOL}/{SNAP_IMAGE_A}", parent_snapshot_uuid=SNAP_A)
    assert judge(f"{POOL}/{SNAP_IMAGE_A}", [SNAP_IMAGE_A], ADMIN).parent_snapshot_uuid == SNAP_A


def test_a_writable_head_is_refused_even_to_its_owner() -> None:
    with pytest.raises(InvalidParameter, match="take a snapshot"):
        judge(f"{POOL}/{HEAD_A}", [HEAD_A], Tenant(A))


def test_templates_are_shared_whoever_uses_them() -> None:
    assert judge(f"{POOL}/template.qcow2", ["template.qcow2"], Tenant(A)) == BackingChoice(
        f"{POOL}/template.qcow2"
    )
    assert judge(f"{POOL}/fresh.qcow2", ["fresh.qcow2", "template.qcow2"], Tenant(A)).path == (
        f"{POOL}/fresh.qcow2"
    )


@pytest.mark.parametrize(
    "chain",
    [
        [],  # no such file
        [None],  # the path leads out of the pool (a symbolic link)
        ["t.qcow2", None],  # its backing file is outside the pool
        ["t.qcow2", SNAP_IMAGE_A],  # built on a volume's snapshot image
        ["t.qcow2", HEAD_A],  # built on a volume's head
        [f"volume-{'4' * 32}.qcow2"],  # named as a volplane image that no volume owns
        [f"volume-{VOL_A}.export.qcow2"],  # a clone in transit
    ],
)
def test_unusable_files_do_not_exist(chain: list[str | None]) -> None:
    with pytest.raises(ResourceNotFound):
        judge(f"{POOL}/t.qcow2", chain, ADMIN)
