"""The ``volplane`` command: ``up``, ``gateway``, ``worker``, ``beat``, ``agent``, ``migrate``,
and the API client commands of :mod:`client.cli`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from volplane.logs import configure_logging
from volplane.settings import Settings


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    if getattr(args, "data_dir", None):
        overrides["data_dir"] = Path(args.data_dir)
    return Settings(**overrides)


def cmd_gateway(args: argparse.Namespace) -> int:
    import uvicorn

    settings = _settings(args)
    configure_logging(json_lines=settings.log_json)
    if args.migrate:
        from volplane.bootstrap import prepare_database

        prepare_database(settings)
    if args.data_dir:
        os.environ["VOLPLANE_DATA_DIR"] = str(settings.data_dir)
    uvicorn.run(
        "api.asgi:make_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="warning",
        access_log=False,
        proxy_headers=True,
    )
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from workers.celery_app import make_celery

    settings = _settings(args)
    configure_logging(json_lines=settings.log_json)
    if args.quiet:
        import warnings

        from celery.exceptions import SecurityWarning

        warnings.filterwarnings("ignore", category=SecurityWarning)
    app = make_celery(settings)
    argv = [
        *(["--quiet"] if args.quiet else []),
        "worker",
        "--loglevel=WARNING",
        f"--concurrency={args.concurrency or settings.worker_concurrency}",
        "--queues=volplane",
        "--without-gossip",
        "--without-mingle",
        f"--hostname=volplane-{os.getpid()}@%h",
    ]
    if args.beat:
        argv += ["--beat", f"--schedule={settings.data_dir / 'celerybeat-schedule'}"]
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app.worker_main(argv)
    return 0


def cmd_beat(args: argparse.Namespace) -> int:
    from workers.celery_app import make_celery

    settings = _settings(args)
    configure_logging(json_lines=settings.log_json)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = make_celery(settings)
    app.start(
        ["beat", "--loglevel=WARNING", f"--schedule={settings.data_dir / 'celerybeat-schedule'}"]
    )
    return 0


def cmd_agent(args: argparse.Namespace) -> int:
    from drivers.agent.config import AgentConfig
    from drivers.agent.server import serve

    host, _, port = args.listen.rpartition(":")
    token = args.token or os.environ.get("VOLPLANE_AGENT_TOKEN")
    if not token:
        print("volplane agent: --token or VOLPLANE_AGENT_TOKEN is required", file=sys.stderr)
        return 2
    serve(
        AgentConfig(
            host=host or "127.0.0.1", port=int(port), data_dir=Path(args.data_dir), token=token
        ),
        quiet=args.quiet,
    )
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from volplane.bootstrap import prepare_database

    prepare_database(_settings(args))
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    from volplane.embedded import run_embedded

    return run_embedded(
        port=args.port, data_dir=Path(args.data_dir), demo=args.demo, agent_port=args.agent_port
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="volplane", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="run everything on this machine (SQLite, local agent)")
    up.add_argument("--port", type=int, default=8080)
    up.add_argument("--data-dir", default="./var")
    up.add_argument(
        "--agent-port",
        type=int,
        help="the local agent's port (default: its last one, else 7070, else a free one)",
    )
    up.add_argument(
        "--demo", action="store_true", help="also make whatever demo zone, host, pool is missing"
    )
    up.set_defaults(func=cmd_up)

    gateway = sub.add_parser("gateway", help="run the HTTP gateway")
    gateway.add_argument("--host", default="127.0.0.1")
    gateway.add_argument("--port", type=int, default=8080)
    gateway.add_argument("--workers", type=int, default=1)
    gateway.add_argument("--data-dir")
    gateway.add_argument("--migrate", action="store_true", help="migrate the database first")
    gateway.set_defaults(func=cmd_gateway)

    worker = sub.add_parser("worker", help="run a Celery worker")
    worker.add_argument("--concurrency", type=int)
    worker.add_argument("--beat", action="store_true", help="also run the periodic sweeper")
    worker.add_argument("--data-dir")
    worker.add_argument(
        "--quiet", action="store_true", help="no banner, no warning about running as root"
    )
    worker.set_defaults(func=cmd_worker)

    beat = sub.add_parser("beat", help="run the periodic scheduler (the sweeper)")
    beat.add_argument("--data-dir")
    beat.set_defaults(func=cmd_beat)

    agent = sub.add_parser("agent", help="run a host agent")
    agent.add_argument("--listen", default="127.0.0.1:7070")
    agent.add_argument("--data-dir", required=True)
    agent.add_argument("--token", help="defaults to $VOLPLANE_AGENT_TOKEN")
    agent.add_argument("--quiet", action="store_true", help="warnings only, no access log")
    agent.set_defaults(func=cmd_agent)

    migrate = sub.add_parser("migrate", help="migrate the database and create the admin")
    migrate.add_argument("--data-dir")
    migrate.set_defaults(func=cmd_migrate)

    # The API client commands: login, zone, volume, snapshot, jobs, call.
    from client.cli import add_commands

    add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
