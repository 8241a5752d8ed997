"""What an agent killed (SIGKILL) in the middle of its work leaves is removed when it is
back, and a dead backup's pin no longer holds garbage collection back.

Real agents over HTTP; the commands are the ones the clone and backup jobs send.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from drivers.chunkstore import LocalChunkStore
from drivers.client import AgentClient
from schemas.agent import CLOCK_SKEW_SECONDS, BackupCreateArgs, ChunkStoreRef, ConvertArgs, PullArgs
from tests.agents import AgentProcess
from volplane import layout
from volplane.chunking import PIN_LEASE_SECONDS
from volplane.errors import AgentTimeout, IntegrityError

pytestmark = pytest.mark.integration

MiB = 1 << 20


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


def random_image(path: Path, size: int) -> None:
    """A qcow2 image full of random (incompressible, never deduplicated) data."""
    raw = path.with_suffix(".raw")
    with raw.open("wb") as f:
        for _ in range(size // MiB):
            f.write(os.urandom(MiB))
    subprocess.run(
        ["qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(raw), str(path)], check=True
    )
    raw.unlink()


@pytest.fixture()
def agent(tmp_path: Path) -> Iterator[AgentProcess]:
    process = AgentProcess(tmp_path / "host-a")
    process.start()
    yield process
    process.resume_if_paused()
    process.kill()


def pool_of(agent: AgentProcess, root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    with agent.client() as client:
        return Path(client.connect_pool(str(root)).root)


def start(client: AgentClient, command: str, args: dict[str, object]) -> str:
    op_id = uuid.uuid4().hex
    client.start(op_id, command, args)
    return op_id


def test_a_full_clone_killed_midway_leaves_a_part_the_restarted_agent_removes(
    agent: AgentProcess, tmp_path: Path
) -> None:
    # Given a full clone copying slowly into the pool (as CreateDataVolumeFromVolumeSnapshot)
    pool = pool_of(agent, tmp_path / "pool")
    src = pool / f"volume-{uuid.uuid4().hex}.qcow2"
    random_image(src, 32 * MiB)
    dst = Path(layout.head_path(str(pool), uuid.uuid4().hex))
    part = dst.with_name(dst.name + layout.PART_SUFFIX)
    with agent.client() as client:
        args = ConvertArgs(src=str(src), dst=str(dst), rate_limit=4 * MiB).wire()
        start(client, "image.convert", args)
        wait_for(lambda: part.exists() and part.stat().st_blocks > 0, "the copy to begin")
        # While it runs, the pool's capacity counts the copy being written
        assert client.pool_capacity(str(pool)).scratch_bytes > 0
    # When the agent is killed mid-copy
    agent.kill()
    assert part.exists()
    assert part.stat().st_blocks > 0
    # Then the restarted agent removes the part, and the pool counts no scratch any more
    agent.start()
    wait_for(lambda: not part.exists(), "the sweep at start")
    assert not dst.exists()
    with agent.client() as client:
        assert client.pool_capacity(str(pool)).scratch_bytes == 0


def test_deleting_an_image_still_being_copied_stops_the_copy_first(
    agent: AgentProcess, tmp_path: Path
) -> None:
    # Given a slow copy whose job gave up on it (its agent hung) and deletes its image
    pool = pool_of(agent, tmp_path / "pool")
    src = pool / f"volume-{uuid.uuid4().hex}.qcow2"
    random_image(src, 16 * MiB)
    dst = Path(layout.head_path(str(pool), uuid.uuid4().hex))
    part = dst.with_name(dst.name + layout.PART_SUFFIX)
    with agent.client() as client:
        args = ConvertArgs(src=str(src), dst=str(dst), rate_limit=2 * MiB).wire()
        copy = start(client, "image.convert", args)
        wait_for(part.exists, "the copy to begin")
        # When the image is deleted while the copy writes it
        deleted = client.delete_volume(uuid.uuid4().hex, str(dst))
        # Then the copy was stopped first: it ended cancelled and never lands afterwards
        assert not deleted.existed
        assert client.operation(copy).state.value == "cancelled"
    assert not part.exists()
    time.sleep(1.0)
    assert not dst.exists()


def test_a_start_that_reaches_a_hung_agent_after_its_sender_gave_up_is_refused(
    agent: AgentProcess, tmp_path: Path
) -> None:
    # Given a hung agent (SIGSTOP) and a worker that gives up on a start after 1 s
    pool = pool_of(agent, tmp_path / "pool")
    dst = Path(layout.head_path(str(pool), uuid.uuid4().hex))
    agent.pause()
    try:
        impatient = AgentClient(agent.url, agent.token, read_timeout=1.0)
        with impatient, pytest.raises(AgentTimeout):
            impatient.create_volume(uuid.uuid4().hex, str(dst), size=MiB)
        # When the agent goes on long after (past the sender's timeout and the clock skew)
        time.sleep(1.0 + 1.0 + CLOCK_SKEW_SECONDS + 1.0)
    finally:
        agent.resume()
    # Then the start waiting in its socket is refused: no image for a job that gave up
    with agent.client() as client:
        client.health()
    time.sleep(0.5)
    assert not dst.exists()


def test_a_cross_host_clone_killed_on_either_side_leaves_nothing_after_restart(
    agent: AgentProcess, tmp_path: Path
) -> None:
    # Given the source side writing a clone's export, and then a destination pulling it
    source_pool = pool_of(agent, tmp_path / "pool-a")
    volume = uuid.uuid4().hex
    src = source_pool / f"volume-{uuid.uuid4().hex}.qcow2"
    random_image(src, 128 * MiB)
    export = Path(layout.export_path(str(source_pool), volume))
    export_part = export.with_name(export.name + layout.PART_SUFFIX)
    with agent.client() as client:
        args = ConvertArgs(src=str(src), dst=str(export), rate_limit=16 * MiB).wire()
        start(client, "image.convert", args)
        wait_for(lambda: export_part.exists(), "the export to begin")
    # When the source agent is killed while it writes the export
    agent.kill()
    assert export_part.exists()
    # Then the restarted source agent removes the .export.qcow2.part
    agent.start()
    wait_for(lambda: not export_part.exists(), "the sweep at start")

    # Given a complete export, and a destination agent pulling it
    with agent.client() as client:
        client.convert_image(uuid.uuid4().hex, str(src), str(export))
        url = client.export_url(str(export), expires=int(time.time()) + 600)
    dest = AgentProcess(tmp_path / "host-b")
    dest.start()
    try:
        dest_pool = pool_of(dest, tmp_path / "pool-b")
        dst = Path(layout.head_path(str(dest_pool), volume))
        part = dst.with_name(dst.name + layout.PART_SUFFIX)
        with dest.client() as client:
            start(client, "image.pull", PullArgs(url=url, dst=str(dst)).wire())
            wait_for(lambda: part.exists(), "the pull to begin")
        agent.pause()  # the export stops flowing: the part is there, not renamed yet
        assert not dst.exists()
        # When the destination agent is killed mid-pull
        dest.kill()
        agent.resume()
        assert part.exists()
        # Then the restarted destination removes the part
        dest.start()
        wait_for(lambda: not part.exists(), "the sweep at start")
        assert not dst.exists()
    finally:
        dest.resume_if_paused()
        dest.kill()


def test_an_export_left_alone_past_its_grace_is_removed(tmp_path: Path) -> None:
    # Given an agent whose exports have a 2 s grace, and a clone's complete export whose
    # job failed while the agent was away (nobody will delete or fetch it)
    agent = AgentProcess(
        tmp_path / "host", extra_args=("--sweep-seconds", "0.5", "--export-grace-seconds", "2")
    )
    agent.start()
    try:
        pool = pool_of(agent, tmp_path / "pool")
        src = pool / f"volume-{uuid.uuid4().hex}.qcow2"
        random_image(src, 4 * MiB)
        export = Path(layout.export_path(str(pool), uuid.uuid4().hex))
        with agent.client() as client:
            client.convert_image(uuid.uuid4().hex, str(src), str(export))
            url = client.export_url(str(export), expires=int(time.time()) + 600)
        # When another agent fetches it, its grace starts again
        time.sleep(1.5)
        assert httpx.get(url).status_code == 200
        time.sleep(1.0)
        assert export.exists()
        # Then once nobody fetched it for its grace, the sweep removes it (and only it)
        wait_for(lambda: not export.exists(), "the export to be removed", timeout=10)
        assert src.exists()
    finally:
        agent.kill()


def test_a_backup_killed_midway_leaves_no_pin_and_no_chunks_and_gc_works_at_once(
    agent: AgentProcess, tmp_path: Path
) -> None:
    # Given a backup storage with one finished backup, and a large volume backing up
    pool = pool_of(agent, tmp_path / "pool")
    store_root = pool_of(agent, tmp_path / "backup-storage")
    store = ChunkStoreRef(root=str(store_root))
    chunks = store_root / "chunks"
    pins = store_root / "pins"

    def stored() -> set[str]:
        return {p.name for p in chunks.rglob("*") if p.is_file()} if chunks.exists() else set()

    kept = pool / f"volume-{uuid.uuid4().hex}.qcow2"
    random_image(kept, 8 * MiB)
    with agent.client() as client:
        client.create_backup(uuid.uuid4().hex, str(kept), "kept", store)
    kept_chunks = stored()
    big = pool / f"volume-{uuid.uuid4().hex}.qcow2"
    random_image(big, 256 * MiB)
    with agent.client() as client:
        start(
            client,
            "backup.create",
            BackupCreateArgs(src=str(big), backup_uuid="killed", store=store).wire(),
        )
        # Held (SIGSTOP) at a known point: pinned, some chunks written, no manifest yet
        wait_for(
            lambda: (pins / "killed").exists() and len(stored() - kept_chunks) >= 2,
            "the backup to write chunks",
        )
    agent.pause()
    assert not (store_root / "manifests" / "killed.json").exists()
    orphans = stored() - kept_chunks
    # When the agent is killed there
    agent.kill()
    assert (pins / "killed").exists()
    # Then the restarted agent removes the dead pin and the chunks no manifest names
    agent.start()
    wait_for(lambda: not (pins / "killed").exists(), "the sweep at start")
    wait_for(lambda: stored() == kept_chunks, "the dead backup's chunks to be collected")
    assert not (stored() & orphans)
    assert list((store_root / "tmp").iterdir()) == []

    # And a backup made and deleted afterwards frees its chunks at once
    other = pool / f"volume-{uuid.uuid4().hex}.qcow2"
    random_image(other, 8 * MiB)
    with agent.client() as client:
        made = client.create_backup(uuid.uuid4().hex, str(other), "other", store)
        assert made.new_chunks > 0
        deleted = client.delete_backup(uuid.uuid4().hex, str(store_root), "other")
    assert deleted.removed_chunks == made.new_chunks
    assert deleted.kept_by_pins == 0
    assert stored() == kept_chunks


def test_a_pin_over_http_lives_by_heartbeat_and_a_lost_one_fails_its_backup(
    tmp_path: Path,
) -> None:
    # Given a pin written through the chunk-store routes (a backup on another host)
    store = LocalChunkStore(tmp_path / "store", owner="")
    store.pin("remote")
    (store.chunks / "ab").mkdir()
    young = store.chunks / "ab" / ("ab" + "0" * 62)
    young.write_bytes(b"x")
    now = time.time()
    # Then while it is renewed it keeps what was touched since it started
    assert store.gc(now=now + 1).removed_chunks == 0
    # And once it missed the lease it holds nothing back, and the sweep removes it
    assert store.gc(now=now + PIN_LEASE_SECONDS + 1).removed_chunks == 1
    os.utime(store.pins / "remote", (now - PIN_LEASE_SECONDS - 1,) * 2)
    store.sweep()
    assert not (store.pins / "remote").exists()
    # And the backup whose pin was removed fails at its next heartbeat
    with pytest.raises(IntegrityError, match="removed as dead"):
        store.renew_pin("remote")
