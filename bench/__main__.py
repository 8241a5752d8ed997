"""Runs the benchmarks and writes docs/benchmarks.md.

``python -m bench`` runs every ``bench/bench_*.py``; ``python -m bench jobs`` one of them.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import tempfile
from pathlib import Path

import bench
from bench.results import Result, render

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def main(argv: list[str]) -> int:
    names = sorted(
        m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_")
    )
    wanted = [f"bench_{n}" for n in argv] or names
    results: list[Result] = []
    for name in wanted:
        module = importlib.import_module(f"bench.{name}")
        print(f"bench: {name} ...", flush=True)
        with tempfile.TemporaryDirectory(prefix=f"{name}-") as workdir:
            for result in module.run(Path(workdir)):
                print(
                    f"  {result.name}: {result.value:,.1f} {result.unit}"
                    + (f" (ratio {result.ratio:.2f})" if result.ratio else ""),
                    flush=True,
                )
                results.append(result)
    DOCS.write_text(render(results, command="make bench"))
    print(f"bench: wrote {DOCS}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
