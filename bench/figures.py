"""Figures of ``make bench`` (PNG, next to docs/benchmarks.md), and the comparison with
the committed results that flags regressions."""

from __future__ import annotations

from pathlib import Path

from bench.results import Result

HIGHER_IS_BETTER = {"MiB/s", "req/s", "jobs/s"}
REGRESSION = 0.10


def regressions(before: list[Result], after: list[Result]) -> list[str]:
    """Results more than 10 % worse than the committed ones of the same name."""
    old = {r.name: r for r in before}
    found = []
    for new in after:
        was = old.get(new.name)
        if was is None or was.unit != new.unit or not was.value or not new.value:
            continue
        if new.unit in HIGHER_IS_BETTER:
            worse = was.value / new.value - 1
        else:
            worse = new.value / was.value - 1
        if worse > REGRESSION:
            found.append(
                f"{new.name}: {new.value:,.1f} {new.unit}, was {was.value:,.1f} ({worse:.0%} worse)"
            )
    return found


def draw(results: list[Result], docs: Path) -> list[Path]:
    """``bench-ratios.png`` (each ratio against its baseline or peer, goal met or not)
    and ``bench-scale.png`` (cost against table size, relative to the smallest)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    rated = [r for r in results if r.ratio is not None and r.series is None]
    if rated:
        fig, ax = plt.subplots(figsize=(10, 0.42 * len(rated) + 1.2))
        colors = ["#2e7d32" if r.met else "#c62828" if r.met is False else "#607d8b" for r in rated]
        ax.barh([r.name for r in rated], [r.ratio or 0 for r in rated], color=colors)
        for index, r in enumerate(rated):
            ax.text(r.ratio or 0, index, f" {r.ratio:.2f}  ({r.goal})", va="center", fontsize=7)
        ax.invert_yaxis()
        ax.set_xscale("log")
        ax.set_xlabel("ratio against the baseline or peer of the same run (green: goal met)")
        ax.tick_params(axis="y", labelsize=7)
        fig.tight_layout()
        path = docs / "bench-ratios.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    scaled = [r for r in results if r.series]
    if scaled:
        fig, ax = plt.subplots(figsize=(8, 4.5))
        for r in scaled:
            assert r.series is not None
            sizes = [int(k) for k in r.series]
            first = r.series[str(min(sizes))]
            if r.unit in HIGHER_IS_BETTER:
                growth = [first / v for v in r.series.values()]
            else:
                growth = [v / first for v in r.series.values()]
            ax.plot(sizes, growth, marker="o", label=r.name)
        ax.axhline(1.2, color="#c62828", linestyle="--", linewidth=1, label="goal: ≤ 1.2")
        ax.set_xscale("log")
        ax.set_xlabel("rows in the table")
        ax.set_ylabel("cost relative to the smallest table")
        ax.legend(fontsize=7)
        fig.tight_layout()
        path = docs / "bench-scale.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written
