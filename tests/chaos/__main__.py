"""``python -m tests.chaos [--duration SECONDS] [--report docs/reliability.md]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tests.chaos.report import printed, write
from tests.chaos.run import run


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos", description=__doc__)
    parser.add_argument("--duration", type=float, default=180.0, help="seconds of faults")
    parser.add_argument("--actors", type=int, default=4)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--no-hangs",
        action="store_true",
        help="leave out the 45 s agent hang (longer than a worker waits for an agent)",
    )
    parser.add_argument("--report", type=Path, default=None, help="markdown file to write")
    options = parser.parse_args()
    figures = run(
        options.duration, actors=options.actors, seed=options.seed, hangs=not options.no_hangs
    )
    print(printed(figures))
    if options.report is not None:
        write(figures, options.report)
    return 0 if figures.clean else 1


if __name__ == "__main__":
    sys.exit(main())
