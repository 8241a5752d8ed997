"""Volume operations (issue 4): full clone throughput and snapshot/clone latency."""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.results import Result
from bench.stacks import production_stack
from drivers import qcow2
from tests.agents import running_agent
from tests.infra import infrastructure
from tests.stack import Client
from tests.storage import snapshot, volume

GiB = 1 << 30
MiB = 1 << 20
ROUNDS = 8
REPORTING_ORDER = Path("/sys/module/page_reporting/parameters/page_reporting_order")


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


@contextmanager
def _memory_kept() -> Iterator[bool]:
    """Stops a VM's free page reporting (virtio-balloon) while the copies are timed.

    With it, memory freed by one copy goes back to the host ~2 s later, and the next
    copy landing on those pages faults them in again at ~1 s per GiB: the same convert
    took 0.3 s or 2 s depending on timing. Raising the reporting order above the
    largest free block stops it; the old order is put back after. Yields whether that
    worked (it needs root, and only VMs with a free page reporting balloon have it).
    """
    try:
        old = REPORTING_ORDER.read_text()
        REPORTING_ORDER.write_text("11\n")
    except OSError:
        yield False
        return
    try:
        yield True
    finally:
        REPORTING_ORDER.write_text(old)


def _settle() -> None:
    """Puts the machine in the same state before each timed copy, whichever side runs.

    The previous copy is already deleted, so ``sync`` has little to write (with the
    previous copy kept and synced, the next copy took 1.3-2 s instead of 0.35 s).
    Touching 2 GiB brings back any memory the host took, so the copy finds it in place.
    """
    subprocess.run(["sync"], check=True)
    touched = b"\x01" * (2 * GiB)
    del touched


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
        chain = snap["primaryStorageInstallPath"]
        runs: dict[str, list[float]] = {"clone": [], "convert": [], "durable": [], "driver": []}

        def run_convert(attempt: int, *options: str, side: str = "convert") -> None:
            out = workdir / f"baseline-{attempt}.qcow2"
            started = time.perf_counter()
            subprocess.run(["qemu-img", "convert", *options, "-O", "qcow2", chain, str(out)])
            runs[side].append((time.perf_counter() - started) * 1000)
            out.unlink()

        def run_durable(attempt: int) -> None:
            # qemu-img's own durable copy: O_DIRECT writes and a flush at the end.
            run_convert(attempt, "-t", "none", side="durable")

        def run_driver(attempt: int) -> None:
            # The agent's own copy (written behind, flushed), without the control plane.
            out = workdir / f"driver-{attempt}.qcow2"
            started = time.perf_counter()
            qcow2.convert(Path(chain), out)
            runs["driver"].append((time.perf_counter() - started) * 1000)
            out.unlink()

        def run_clone(attempt: int) -> None:
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
            runs["clone"].append(ms)
            compare = subprocess.run(
                ["qemu-img", "compare", "-f", "qcow2", "-F", "qcow2", inventory_path(body), chain],
                capture_output=True,
            )
            assert compare.returncode == 0, compare.stdout
            deleted = admin.call("DELETE", f"/v1/volumes/{body['inventory']['uuid']}")
            assert deleted.status_code == 200

        sides = (run_convert, run_clone, run_durable, run_driver)
        with _memory_kept() as kept:
            for attempt in range(-1, ROUNDS):
                # Forward, then backward: no side always gets the same slot.
                for step in sides if attempt % 2 == 0 else sides[::-1]:
                    _settle()
                    step(attempt)
                if attempt < 0:  # a first round only warms up
                    for samples in runs.values():
                        samples.clear()
        for side, samples in runs.items():
            print(f"    {side} runs (ms): {[round(ms) for ms in samples]}", flush=True)
        clone_ms = statistics.median(runs["clone"])
        common = (
            f"medians of {ROUNDS} runs each, the four sides in forward then backward order, "
            "after a warm-up round; before each run the previous copy is deleted, sync runs "
            "and 2 GiB of memory is touched; the VM's free page reporting was "
            f"{'off' if kept else 'on (could not be stopped)'} during the runs; ratio = "
            "volplane time / qemu-img time (lower is better); each clone is verified "
            "identical to the snapshot with qemu-img compare. "
        )
        convert_ms = statistics.median(runs["convert"])
        results.append(
            Result(
                "full clone, 2 GiB volume with 1 GiB written (job, end to end)",
                clone_ms,
                "ms",
                convert_ms,
                "qemu-img convert of the same chain",
                clone_ms / convert_ms,
                "ratio ≤ 1.15",
                clone_ms / convert_ms <= 1.15,
                note=common
                + "volplane's clone is on disk before it is reported ready (written behind "
                "during the copy, then flushed); the bare qemu-img convert is not: it writes "
                "into the page cache and never flushes, so its copy could still be lost. "
                "This VM's disk takes ~0.3 s to write 1 GiB, about as long as the whole bare "
                "convert, so no durable copy can come within 1.15 of it here (the agent's "
                "copy alone, two rows down, is already past it); the next two rows compare "
                "like with like.",
            )
        )
        durable_ms = statistics.median(runs["durable"])
        results.append(
            Result(
                "full clone, same, against a durable qemu-img copy",
                clone_ms,
                "ms",
                durable_ms,
                "qemu-img convert -t none of the same chain",
                clone_ms / durable_ms,
                "ratio ≤ 1.15",
                clone_ms / durable_ms <= 1.15,
                note=common
                + "`-t none` is how qemu-img itself makes a copy durable (O_DIRECT writes, "
                "a flush at the end; Cinder copies this way): the same guarantee as volplane's.",
            )
        )

        driver_ms = statistics.median(runs["driver"])
        results.append(
            Result(
                "full clone, same, against the agent's copy without the control plane",
                clone_ms,
                "ms",
                driver_ms,
                "drivers.qcow2.convert of the same chain",
                clone_ms / driver_ms,
                note=common
                + "The agent's copy function called directly (qemu-img convert written behind, "
                "then flushed): what is left is the job's own cost (API, queue, database, "
                "agent HTTP, long-poll). Compared with the bare convert it shows what "
                "durability costs on this machine's disk.",
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
