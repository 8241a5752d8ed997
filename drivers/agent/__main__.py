"""``python -m drivers.agent --listen HOST:PORT --data-dir DIR --token TOKEN``."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

from drivers.agent.config import AgentConfig, parse_listen
from drivers.agent.server import serve


def config_from_argv(argv: Sequence[str] | None = None) -> AgentConfig:
    parser = argparse.ArgumentParser(prog="python -m drivers.agent", description=__doc__)
    parser.add_argument("--listen", default="127.0.0.1:7070", help="HOST:PORT")
    parser.add_argument("--data-dir", required=True, type=Path)
    parser.add_argument(
        "--token",
        default=os.environ.get("VOLPLANE_AGENT_TOKEN"),
        help="bearer token workers must send (default: $VOLPLANE_AGENT_TOKEN)",
    )
    parser.add_argument(
        "--allow-root",
        action="append",
        type=Path,
        default=[],
        help="directory under which pools may live (repeatable; default: anywhere)",
    )
    parser.add_argument(
        "--sweep-seconds",
        type=float,
        default=60.0,
        help="how often leftovers of dead operations are removed (also at start)",
    )
    parser.add_argument(
        "--export-grace-seconds",
        type=float,
        default=600.0,
        help="a clone's export nobody wrote or fetched for this long is removed",
    )
    options = parser.parse_args(argv)
    if not options.token:
        parser.error("--token (or VOLPLANE_AGENT_TOKEN) is required")
    try:
        host, port = parse_listen(options.listen)
    except ValueError as exc:
        parser.error(str(exc))
    return AgentConfig(
        host=host,
        port=port,
        data_dir=options.data_dir.resolve(),
        token=options.token,
        allowed_roots=tuple(options.allow_root),
        release=os.environ.get("VOLPLANE_AGENT_RELEASE") or None,
        sweep_seconds=options.sweep_seconds,
        export_grace_seconds=options.export_grace_seconds,
    )


def main(argv: Sequence[str] | None = None) -> None:
    serve(config_from_argv(argv))


if __name__ == "__main__":
    main()
