"""Runs the benchmarks and writes docs/benchmarks.md.

``python -m bench`` runs every ``bench/bench_*.py``; ``python -m bench jobs query`` only
those, keeping the other modules' last results (kept in ``docs/benchmarks.json``).
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import pkgutil
import sys
import tempfile
from pathlib import Path

import bench
from bench.figures import draw, regressions
from bench.results import Result, render

DOCS = Path(__file__).resolve().parent.parent / "docs"


def main(argv: list[str]) -> int:
    names = sorted(
        m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_")
    )
    wanted = [f"bench_{n}" for n in argv] or names
    store = DOCS / "benchmarks.json"
    kept: dict[str, list[dict[str, object]]] = (
        json.loads(store.read_text()) if store.exists() else {}
    )
    committed = [Result(**row) for rows in kept.values() for row in rows]  # type: ignore[arg-type]
    for name in wanted:
        module = importlib.import_module(f"bench.{name}")
        print(f"bench: {name} ...", flush=True)
        with tempfile.TemporaryDirectory(prefix=f"{name}-") as workdir:
            results = module.run(Path(workdir))
        for result in results:
            ratio = f" (ratio {result.ratio:.2f})" if result.ratio is not None else ""
            print(f"  {result.name}: {result.value:,.1f} {result.unit}{ratio}", flush=True)
        kept[name] = [dataclasses.asdict(r) for r in results]
    store.write_text(json.dumps(kept, indent=1, ensure_ascii=False) + "\n")
    everything = [Result(**row) for name in sorted(kept) for row in kept[name]]  # type: ignore[arg-type]
    worse = regressions(committed, everything)
    figures = draw(everything, DOCS)
    (DOCS / "benchmarks.md").write_text(
        render(everything, command="make bench", regressions=worse, figures=figures)
    )
    print("bench: wrote docs/benchmarks.md and " + ", ".join(f"docs/{f.name}" for f in figures))
    for line in worse:
        print(f"bench: REGRESSION {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
