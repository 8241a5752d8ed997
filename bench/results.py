"""Benchmark results and their Markdown table."""

from __future__ import annotations

import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass(frozen=True)
class Result:
    """One measurement, and how it compares with its baseline from the same run."""

    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    ratio: float | None = None  # value / baseline, or baseline / value for times
    goal: str = ""
    met: bool | None = None
    note: str = ""
    # Values behind the result, for its figure: e.g. {"10000": 3.1, "100000": 3.2}.
    series: dict[str, float] | None = None


def render(
    results: list[Result],
    *,
    command: str,
    regressions: list[str] = (),  # type: ignore[assignment]
    figures: list[Path] = (),  # type: ignore[assignment]
) -> str:
    cpu = platform.processor() or platform.machine()
    lines = [
        "# Benchmarks",
        "",
        f"Measured by `{command}` on {datetime.now(UTC):%Y-%m-%d} — {cpu}, "
        f"Python {platform.python_version()}. Each ratio compares volplane with a baseline",
        "measured in the same run on the same machine; absolute numbers vary between machines.",
        "",
        "| benchmark | volplane | baseline | ratio | goal | met |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        baseline = f"{r.baseline:,.1f} {r.unit} ({r.baseline_name})" if r.baseline else "—"
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else "—"
        met = {True: "yes", False: "**no**", None: "—"}[r.met]
        lines.append(
            f"| {r.name} | {r.value:,.1f} {r.unit} | {baseline} | {ratio} | {r.goal} | {met} |"
        )
    lines += ["", *(f"![{f.stem}]({f.name})" for f in figures)] if figures else []
    lines += ["", "## Against the committed results", ""]
    lines += [f"- **regression** {line}" for line in regressions] or [
        "No result is more than 10 % worse than the results committed before this run."
    ]
    notes = [f"- **{r.name}**: {r.note}" for r in results if r.note]
    if notes:
        lines += ["", "## Notes", "", *notes]
    return "\n".join(lines) + "\n"
