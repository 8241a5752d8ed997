"""Every command and code block in README.md and docs/ runs, against `volplane up --demo`
on this machine: shell blocks under ``bash -eu``, Python blocks as scripts. A block that
cannot run says so in the doc itself, just above it: ``<!-- not run: <reason> -->``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.stack import ROOT
from tests.up import Up

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUNNABLE = {"sh", "bash", "shell", "console", "python"}
BLOCK = re.compile(
    r"(?:<!--\s*not run:(?P<reason>[^>]*)-->\s*\n)?^```(?P<lang>[a-z]+)\n(?P<code>.*?)^```",
    re.S | re.M,
)
DOC_URL = "http://127.0.0.1:8080"


@dataclass(frozen=True)
class Block:
    doc: str
    line: int
    lang: str
    code: str
    reason: str | None

    def __str__(self) -> str:
        return f"{self.doc}:{self.line}"


def blocks() -> list[Block]:
    found = []
    for path in DOCS:
        text = path.read_text()
        for match in BLOCK.finditer(text):
            if match.group("lang") not in RUNNABLE:
                continue
            line = text.count("\n", 0, match.start("lang")) + 1
            reason = match.group("reason")
            found.append(
                Block(
                    str(path.relative_to(ROOT)),
                    line,
                    match.group("lang"),
                    match.group("code"),
                    reason.strip() if reason is not None else None,
                )
            )
    return found


BLOCKS = blocks()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    up = Up(tmp_path_factory.mktemp("docs") / "var", "--demo")
    try:
        up.wait_for("Press Ctrl-C")
        yield up
    finally:
        up.stop()


def test_blocks_not_run_say_why() -> None:
    for block in BLOCKS:
        if block.reason is not None:
            assert len(block.reason) > 10, f"{block}: say why it is not run"
        else:
            assert block.lang != "console", f"{block}: a console transcript cannot run; mark it"


def test_docs_cite_nothing_outside_the_repository() -> None:
    """The project's contract and source documents are not in the repository."""
    outside = re.compile(r"CONTRACT §|\bseeds? \d{3}\b")
    for path in DOCS:
        cited = outside.findall(path.read_text())
        assert not cited, f"{path.relative_to(ROOT)} cites {cited}: describe the thing instead"


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.reason is None], ids=str)
def test_doc_block_runs(block: Block, demo: Up, tmp_path: Path) -> None:
    code = block.code.replace(DOC_URL, demo.url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOLPLANE_")}
    env.update({"PYTHONPATH": str(ROOT), "VOLPLANE_CONFIG_DIR": str(tmp_path)})
    if block.lang == "python":
        argv = [sys.executable, "-c", code]
    else:
        env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
        argv = ["bash", "-euo", "pipefail", "-c", code]
    done = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{block}\n{done.stdout}\n{done.stderr}"
