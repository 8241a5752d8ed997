"""The agent's operation table stays bounded: read-only commands are not journaled,
finished records are forgotten (in memory and in the journal) once their retention passed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from drivers.agent.commands import Command, Context
from drivers.agent.operations import READ_ONLY_RETENTION_SECONDS, OperationTable
from drivers.agent.pools import ConnectedPools
from schemas.agent import PathArgs, StartOperation
from volplane.errors import ResourceNotFound

RETENTION = 3600.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def echo(ctx: Context, args: PathArgs) -> PathArgs:
    return args


COMMANDS = {
    "test.write": Command("test.write", PathArgs, echo),
    "test.read": Command("test.read", PathArgs, echo, read_only=True),
}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def table(tmp_path: Path, clock: Clock) -> OperationTable:
    return OperationTable(
        journal_dir=tmp_path / "operations",
        pools=ConnectedPools(tmp_path / "pools.json"),
        commands=COMMANDS,
        retention_seconds=RETENTION,
        clock=clock,
    )


async def run(table: OperationTable, op_id: str, command: str) -> None:
    op = table.start(op_id, StartOperation(command=command, args={"path": "/x"}))
    while not op.finished:
        await table.wait(op, 5)


async def test_read_only_commands_are_not_journaled(table: OperationTable, tmp_path: Path) -> None:
    await run(table, "w1", "test.write")
    await run(table, "r1", "test.read")
    journaled = sorted(p.name for p in (tmp_path / "operations").iterdir())
    assert journaled == ["w1.json"]


async def test_finished_operations_are_forgotten_after_their_retention(
    table: OperationTable, clock: Clock, tmp_path: Path
) -> None:
    await run(table, "w1", "test.write")
    await run(table, "r1", "test.read")

    clock.now += READ_ONLY_RETENTION_SECONDS + 1
    table.prune()
    with pytest.raises(ResourceNotFound):
        table.get("r1")
    assert table.get("w1").finished  # still within its retention

    clock.now += RETENTION
    table.prune()
    journal = tmp_path / "operations" / "w1.json"
    os.utime(journal, (clock.now - RETENTION - 1, clock.now - RETENTION - 1))
    assert table.prune_journal() == 1
    with pytest.raises(ResourceNotFound):
        table.get("w1")


async def test_a_record_within_its_retention_is_found_in_the_journal(
    table: OperationTable, tmp_path: Path, clock: Clock
) -> None:
    await run(table, "w1", "test.write")
    again = OperationTable(
        journal_dir=tmp_path / "operations",
        pools=ConnectedPools(tmp_path / "pools.json"),
        commands=COMMANDS,
        retention_seconds=RETENTION,
        clock=clock,
    )
    assert again.prune_journal() == 0
    assert again.get("w1").finished
