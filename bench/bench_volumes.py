"""Volume operations (issue 4): full clone throughput and snapshot/clone latency."""

from __future__ import annotations

import statistics
import subprocess
import time
from pathlib import Path

from bench.results import Result
from bench.stacks import production_stack
from tests.agents import running_agent
from tests.infra import infrastructure
from tests.stack import Client
from tests.storage import snapshot, volume

GiB = 1 << 30
MiB = 1 << 20


def _timed(client: Client, method: str, path: str, **kwargs: object) -> tuple[float, dict]:
    started = time.perf_counter()
    done = client.call(method, path, **kwargs)
    elapsed = (time.perf_counter() - started) * 1000
    assert done.status_code == 200, done.text
    return elapsed, done.json()


def _write(path: str, total: int) -> None:
    """Writes ``total`` bytes of non-zero data spread over the image, 64 MiB at a time."""
    commands = []
    for offset in range(0, total, 64 * MiB):
        commands += ["-c", f"write -P 0x{(offset // (64 * MiB)) % 250 + 1:02x} {offset * 2} 64M"]
    subprocess.run(["qemu-io", "-f", "qcow2", *commands, path], check=True, capture_output=True)


def run(workdir: Path) -> list[Result]:
    results = []
    with (
        production_stack(workdir / "stack", workers=1) as stack,
        running_agent(workdir / "agent") as agent,
    ):
        admin = stack.login()
        infra = infrastructure(admin, agent, workdir)
        pool = infra.pool["uuid"]

        # Full clone: 2 GiB volume with 1 GiB written, against qemu-img convert of the chain.
        source = volume(admin, pool, size=2 * GiB)
        _write(source["installPath"], 1 * GiB)
        snap = snapshot(admin, source["uuid"])
        clone_runs, convert_runs = [], []

        def run_convert(attempt: int) -> Path:
            out = workdir / f"baseline-{attempt}.qcow2"
            started = time.perf_counter()
            subprocess.run(
                ["qemu-img", "convert", "-O", "qcow2", snap["primaryStorageInstallPath"], str(out)],
                check=True,
            )
            convert_runs.append((time.perf_counter() - started) * 1000)
            return out

        def run_clone(attempt: int) -> dict:
            ms, body = _timed(
                admin,
                "POST",
                f"/v1/volumes/data/from/volume-snapshots/{snap['uuid']}",
                json={
                    "params": {
                        "name": f"bench-full-{attempt}",
                        "linked": False,
                        "primaryStorageUuid": pool,
                    }
                },
            )
            clone_runs.append(ms)
            return body

        for attempt in range(4):
            # ABBA order, each run after sync: on this VM's disk whichever copy runs
            # first after a flush is faster, so neither side always gets that slot.
            subprocess.run(["sync"], check=True)
            if attempt % 2 == 0:
                out = run_convert(attempt)
                subprocess.run(["sync"], check=True)
                body = run_clone(attempt)
            else:
                body = run_clone(attempt)
                subprocess.run(["sync"], check=True)
                out = run_convert(attempt)
            compare = subprocess.run(
                [
                    "qemu-img",
                    "compare",
                    "-f",
                    "qcow2",
                    "-F",
                    "qcow2",
                    inventory_path(body),
                    str(out),
                ],
                capture_output=True,
            )
            assert compare.returncode == 0, compare.stdout
            out.unlink()
            deleted = admin.call("DELETE", f"/v1/volumes/{body['inventory']['uuid']}")
            assert deleted.status_code == 200
        clone_ms, convert_ms = statistics.median(clone_runs), statistics.median(convert_runs)
        ratio = clone_ms / convert_ms
        results.append(
            Result(
                "full clone, 2 GiB volume with 1 GiB written (job, end to end)",
                clone_ms,
                "ms",
                convert_ms,
                "qemu-img convert of the same chain",
                ratio,
                "ratio ≤ 1.15",
                ratio <= 1.15,
                note="medians of 4 runs each in ABBA order, each after sync; ratio = volplane "
                "time / qemu-img time (lower is better); each clone is verified identical with "
                "qemu-img compare.",
            )
        )

        # Latency of small jobs on a volume, end to end with long-poll.
        small = volume(admin, pool, size=64 * MiB)
        snaps, reverts, linked = [], [], []
        for _ in range(20):
            ms, created = _timed(
                admin,
                "POST",
                f"/v1/volumes/{small['uuid']}/volume-snapshots",
                json={"params": {"name": "s"}},
            )
            snaps.append(ms)
            snap_uuid = created["inventory"]["uuid"]
            ms, _ = _timed(
                admin,
                "PUT",
                f"/v1/volume-snapshots/{snap_uuid}/actions",
                json={"revertVolumeFromSnapshot": {}},
            )
            reverts.append(ms)
        for index in range(10):
            ms, _ = _timed(
                admin,
                "POST",
                f"/v1/volumes/data/from/volume-snapshots/{snap_uuid}",
                json={"params": {"name": f"l{index}", "linked": True}},
            )
            linked.append(ms)
        for name, samples in (
            ("snapshot create", snaps),
            ("revert", reverts),
            ("linked clone", linked),
        ):
            median = statistics.median(samples)
            results.append(
                Result(
                    f"{name} job latency, median (end to end)",
                    median,
                    "ms",
                    goal="< 150 ms",
                    met=median < 150,
                    note=f"{len(samples)} jobs on a 64 MiB volume, production mode.",
                )
            )
    return results


def inventory_path(body: dict) -> str:
    return str(body["inventory"]["installPath"])
