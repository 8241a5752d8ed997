"""Real agents over HTTP, real qcow2 files: auth, idempotent operations, progress, cancel."""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from drivers import qcow2
from drivers.client import AgentClient
from schemas.agent import OperationState
from tests.agents import AgentProcess, free_port
from volplane.errors import (
    AgentAuthFailed,
    AgentUnreachable,
    Conflict,
    DriverCommandFailed,
    InvalidParameter,
    InvalidStoragePath,
    JobCancelled,
    UnknownAction,
)

pytestmark = pytest.mark.integration

MiB = 1 << 20
GiB = 1 << 30


@pytest.fixture
def client(agent: AgentProcess) -> Iterator[AgentClient]:
    with agent.client(poll_seconds=2.0) as c:
        yield c


@pytest.fixture
def pool(client: AgentClient, tmp_path: Path) -> Path:
    root = tmp_path / "pool"
    client.connect_pool(str(root), create=True)
    return root


def test_health_and_facts(client: AgentClient, agent: AgentProcess) -> None:
    assert client.health().status == "ok"

    facts = client.facts()

    assert facts.hostname and facts.data_dir == str(agent.data_dir)
    assert 0 < facts.data_dir_available_bytes <= facts.data_dir_total_bytes
    assert facts.qemu_img is not None and facts.qemu_img[0].isdigit()
    assert all(d.path.startswith("/dev/") and d.size_bytes >= 0 for d in facts.block_devices)


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", "Basic abc"])
def test_requests_without_the_token_are_refused(agent: AgentProcess, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    for method, path in [("GET", "/v1/health"), ("PUT", "/v1/operations/x"), ("GET", "/nope")]:
        response = httpx.request(method, agent.url + path, headers=headers, json={})
        assert response.status_code == 401
        assert response.json()["error"]["code"] == AgentAuthFailed.code
        assert agent.token not in response.text


def test_client_with_wrong_token_raises_auth_failed(agent: AgentProcess) -> None:
    with agent.client(token="wrong-token") as c, pytest.raises(AgentAuthFailed):
        c.facts()


def test_agent_that_is_down_is_unreachable() -> None:
    with AgentClient(f"http://127.0.0.1:{free_port()}", "t") as c, pytest.raises(AgentUnreachable):
        c.health()


def test_relative_and_file_pool_roots_are_refused(client: AgentClient, tmp_path: Path) -> None:
    with pytest.raises(InvalidStoragePath, match="not an absolute path"):
        client.connect_pool("relative/pool", create=True)
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidStoragePath, match="not a directory"):
        client.connect_pool(str(tmp_path / "file"))
    with pytest.raises(InvalidStoragePath, match="does not exist"):
        client.connect_pool(str(tmp_path / "missing"))


def test_pool_capacity_and_files(client: AgentClient, pool: Path) -> None:
    client.create_volume("files-1", str(pool / "a.qcow2"), size=MiB)

    capacity = client.pool_capacity(str(pool))
    files = client.pool_files(str(pool))

    assert 0 < capacity.available_bytes <= capacity.total_bytes
    assert [f.name for f in files.files] == ["a.qcow2"]


def test_paths_outside_connected_pools_are_refused(
    client: AgentClient, pool: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (pool / "escape").symlink_to(outside)

    for i, path in enumerate(
        [str(pool / ".." / "x.qcow2"), str(pool / "escape" / "x.qcow2"), str(outside / "x.qcow2")]
    ):
        with pytest.raises(InvalidStoragePath, match="not inside a connected pool"):
            client.create_volume(f"escape-{i}", path, size=MiB)
    assert list(outside.iterdir()) == []


def test_repeated_operation_does_the_work_once(client: AgentClient, pool: Path) -> None:
    path = pool / "v.qcow2"
    first = client.create_volume("create-once", str(path), size=64 * MiB)
    stat = path.stat()

    again = client.create_volume("create-once", str(path), size=64 * MiB)

    assert again == first
    assert (path.stat().st_ino, path.stat().st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)


def test_same_op_id_with_other_arguments_conflicts(client: AgentClient, pool: Path) -> None:
    client.create_volume("conflict-1", str(pool / "a.qcow2"), size=MiB)

    with pytest.raises(Conflict):
        client.create_volume("conflict-1", str(pool / "b.qcow2"), size=MiB)
    with pytest.raises(Conflict):
        client.volume_info(str(pool / "a.qcow2"), op_id="conflict-1")
    assert not (pool / "b.qcow2").exists()


def test_bad_requests(client: AgentClient, pool: Path) -> None:
    with pytest.raises(UnknownAction):
        client.run("bad-1", "volume.explode", {})
    with pytest.raises(InvalidParameter):
        client.run("bad-2", "volume.create", {"path": str(pool / "v"), "size": -1})
    with pytest.raises(InvalidParameter):
        client.run("../bad", "volume.info", {"path": str(pool / "v")})


def test_agent_refuses_op_ids_that_are_not_file_names(agent: AgentProcess) -> None:
    headers = {"Authorization": f"Bearer {agent.token}"}
    body = {"command": "pool.capacity", "args": {"root": "/"}}

    response = httpx.put(f"{agent.url}/v1/operations/bad!id", headers=headers, json=body)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == InvalidParameter.code


def test_volume_lifecycle(client: AgentClient, pool: Path) -> None:
    path = str(pool / "v.qcow2")
    client.create_volume("life-create", path, size=16 * MiB)

    assert client.resize_volume("life-resize", path, 32 * MiB).virtual_size == 32 * MiB
    assert client.volume_info(path).virtual_size == 32 * MiB
    assert client.delete_volume("life-delete", path).existed
    assert not client.delete_volume("life-delete-again", path).existed


def test_snapshot_style_overlay_commit_and_flatten(client: AgentClient, pool: Path) -> None:
    base, top = str(pool / "base.qcow2"), str(pool / "top.qcow2")
    client.create_volume("snap-base", base, size=16 * MiB)
    qcow2.write_pattern(Path(base), offset=0, length=MiB, pattern=0x22)

    assert client.create_overlay("snap-overlay", top, base).backing_file == base
    assert [i.path for i in client.image_chain(top).images] == [top, base]
    client.commit_image("snap-commit", top)
    flat = client.rebase_image("snap-flatten", top, "")

    assert flat.backing_file is None
    assert qcow2.compare(Path(top), Path(base))


def test_failing_command_reports_driver_error_with_stderr(client: AgentClient, pool: Path) -> None:
    (pool / "garbage.qcow2").write_bytes(b"not an image")

    with pytest.raises(DriverCommandFailed, match=r"qemu-img info exited 1: .*qcow2"):
        client.volume_info(str(pool / "garbage.qcow2"))


def test_convert_reports_progress_and_copies_exactly(client: AgentClient, pool: Path) -> None:
    src, dst = pool / "src.qcow2", pool / "dst.qcow2"
    client.create_volume("convert-src", str(src), size=GiB)
    for offset in (0, 300 * MiB, 700 * MiB):
        qcow2.write_pattern(src, offset=offset, length=4 * MiB, pattern=0xAB)
    seen: list[int] = []

    info = client.convert_image(
        "convert-1", str(src), str(dst), rate_limit=64 * MiB, on_progress=seen.append
    )

    assert info.virtual_size == GiB and info.backing_file is None
    assert len(seen) >= 2 and seen == sorted(seen) and seen[-1] == 100
    assert qcow2.compare(src, dst)
    data = [(e.start, e.length) for e in client.map_image(str(dst)).extents if e.data]
    assert sum(length for _, length in data) == 12 * MiB


def slow_source(client: AgentClient, pool: Path, name: str) -> Path:
    """24 MiB of data: a copy throttled to 16 MiB/s takes about a second and a half."""
    src = pool / f"{name}.qcow2"
    client.create_volume(f"{name}-src", str(src), size=GiB)
    for offset in (0, 300 * MiB, 700 * MiB):
        qcow2.write_pattern(src, offset=offset, length=8 * MiB, pattern=0xAB)
    return src


def test_progress_is_relayed_a_few_times_a_second(client: AgentClient, pool: Path) -> None:
    src = slow_source(client, pool, "paced")
    seen: list[tuple[float, int]] = []

    client.convert_image(
        "paced-1",
        str(src),
        str(pool / "paced-dst.qcow2"),
        rate_limit=16 * MiB,
        on_progress=lambda percent: seen.append((time.monotonic(), percent)),
    )

    percents = [percent for _, percent in seen]
    assert percents == sorted(percents) and percents[-1] == 100
    assert [p for p in percents if 0 < p < 100], "progress moves while the copy runs"
    # At most one progress answer every 250 ms; only the end may come sooner.
    gaps = [later - earlier for (earlier, _), (later, _) in itertools.pairwise(seen[:-1])]
    assert len(percents) < 15 and all(gap > 0.2 for gap in gaps), seen


def test_long_poll_answers_the_end_at_once(client: AgentClient, pool: Path) -> None:
    src = slow_source(client, pool, "ends")
    args = {"src": str(src), "dst": str(pool / "ends-dst.qcow2"), "rateLimit": 16 * MiB}
    started = time.monotonic()
    client.start("ends-1", "image.convert", args)

    # Progress changes along the way do not answer a poll that asks for them only every 30 s
    record = client.operation("ends-1", wait=30, progress_every=30)

    assert record.state is OperationState.SUCCEEDED and record.progress == 100
    assert time.monotonic() - started < 10
    assert record.result is not None and record.result["virtualSize"] == GiB


def test_cancelled_convert_leaves_no_partial_file(client: AgentClient, pool: Path) -> None:
    src, dst = pool / "src.qcow2", pool / "dst.qcow2"
    client.create_volume("cancel-src", str(src), size=2 * GiB)
    for offset in (0, 512 * MiB, GiB, 1536 * MiB):
        qcow2.write_pattern(src, offset=offset, length=16 * MiB, pattern=0xAB)
    seen: list[int] = []

    with pytest.raises(JobCancelled):
        # Throttled to several seconds; cancelled once the agent reports progress.
        client.convert_image(
            "cancel-1",
            str(src),
            str(dst),
            rate_limit=16 * MiB,
            on_progress=seen.append,
            should_cancel=lambda: bool(seen),
        )

    assert client.operation("cancel-1").state is OperationState.CANCELLED
    assert not dst.exists() and not qcow2.part_path(dst).exists()
    assert [f.name for f in client.pool_files(str(pool)).files] == ["src.qcow2"]


def test_finished_operations_survive_an_agent_crash(tmp_path: Path) -> None:
    # Given an agent that created a volume and was then killed
    agent = AgentProcess(tmp_path / "host")
    agent.start()
    try:
        root, path = tmp_path / "pool", tmp_path / "pool" / "v.qcow2"
        with agent.client() as c:
            c.connect_pool(str(root), create=True)
            first = c.create_volume("crash-create", str(path), size=8 * MiB)
        stat = path.stat()
        agent.kill()
        with agent.client() as c, pytest.raises(AgentUnreachable):
            c.health()

        # When it restarts on the same port and data dir and the command is repeated
        agent.start()
        with agent.client() as c:
            again = c.create_volume("crash-create", str(path), size=8 * MiB)
            # Then the old result answers, the work is not redone, and the pool is still served
            assert again == first
            assert c.volume_info(str(path)).virtual_size == 8 * MiB
        assert (path.stat().st_ino, path.stat().st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)
        assert os.path.exists(agent.data_dir / "operations" / "crash-create.json")
    finally:
        agent.stop()


@pytest.mark.parametrize("how", ["kill", "stop"])
def test_copy_interrupted_by_the_agent_ending_completes_when_repeated(
    tmp_path: Path, how: str
) -> None:
    # Given an agent killed (or stopped) while copying
    agent = AgentProcess(tmp_path / "host")
    agent.start()
    try:
        pool = tmp_path / "pool"
        src, dst = pool / "src.qcow2", pool / "dst.qcow2"
        args = {"src": str(src), "dst": str(dst), "rateLimit": 16 * MiB}
        with agent.client() as c:
            c.connect_pool(str(pool), create=True)
            c.create_volume("crash-src", str(src), size=GiB)
            for offset in (0, 512 * MiB):
                qcow2.write_pattern(src, offset=offset, length=16 * MiB, pattern=0xCD)
            record = c.start("crash-copy", "image.convert", args)
            while not record.progress:
                record = c.operation("crash-copy", wait=2)
        if how == "kill":
            agent.kill()
            assert qcow2.part_path(dst).exists()  # a crash leaves its partial output
        else:
            agent.stop()
            assert not qcow2.part_path(dst).exists()  # a clean stop removes it

        # When the agent is back and the worker repeats the command
        agent.start()
        with agent.client() as c:
            c.run("crash-copy", "image.convert", args, timeout=60)

        # Then the copy is complete and nothing partial is left
        assert qcow2.compare(src, dst)
        assert not qcow2.part_path(dst).exists()
    finally:
        agent.stop()
