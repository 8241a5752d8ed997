"""The ``volplane`` command (click): ``up``, ``gateway``, ``worker``, ``beat``, ``agent``,
``migrate``, and the API client commands of ``client/cli.py``."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from client.cli import add_client_commands
from volplane.logs import configure_logging
from volplane.settings import Settings


def _settings(data_dir: str | None) -> Settings:
    overrides: dict[str, Any] = {}
    if data_dir:
        overrides["data_dir"] = Path(data_dir)
    return Settings(**overrides)


@click.group(
    "volplane",
    help="volplane: run the control plane (up, gateway, worker, beat, agent, migrate) "
    "or talk to it (login, zone, cluster, host, primary-storage, backup-storage, disk-offering, "
    "volume, snapshot, backup, jobs, call). `volplane COMMAND --help` for each.",
)
def cli() -> None:
    pass


DATA_DIR = click.option("--data-dir", help="state directory (default: $VOLPLANE_DATA_DIR)")


@cli.command(help="Run everything on this machine: SQLite, a worker, a local agent.")
@click.option("--port", type=int, default=8080, show_default=True)
@click.option("--data-dir", default="./var", show_default=True)
@click.option(
    "--agent-port",
    type=int,
    help="the local agent's port (default: its last one, else 7070, else a free one)",
)
@click.option("--demo", is_flag=True, help="also make whatever demo zone, host, pool is missing")
def up(port: int, data_dir: str, agent_port: int | None, demo: bool) -> None:
    from volplane.embedded import run_embedded

    sys.exit(run_embedded(port=port, data_dir=Path(data_dir), demo=demo, agent_port=agent_port))


@cli.command(help="Run the HTTP gateway.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8080, show_default=True)
@click.option("--workers", type=int, default=1, show_default=True)
@DATA_DIR
@click.option("--migrate", is_flag=True, help="migrate the database first")
def gateway(host: str, port: int, workers: int, data_dir: str | None, migrate: bool) -> None:
    import uvicorn

    settings = _settings(data_dir)
    configure_logging(json_lines=settings.log_json)
    if migrate:
        from volplane.bootstrap import prepare_database

        prepare_database(settings)
    if data_dir:
        os.environ["VOLPLANE_DATA_DIR"] = str(settings.data_dir)
    uvicorn.run(
        "api.asgi:make_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
        proxy_headers=True,
    )


@cli.command(help="Run a Celery worker.")
@click.option("--concurrency", type=int)
@click.option("--beat", is_flag=True, help="also run the periodic sweeper")
@DATA_DIR
@click.option("--quiet", is_flag=True, help="no banner, no warning about running as root")
def worker(concurrency: int | None, beat: bool, data_dir: str | None, quiet: bool) -> None:
    from workers.celery_app import make_celery

    settings = _settings(data_dir)
    configure_logging(json_lines=settings.log_json)
    if quiet:
        import warnings

        from celery.exceptions import SecurityWarning

        warnings.filterwarnings("ignore", category=SecurityWarning)
    app = make_celery(settings)
    argv = [
        *(["--quiet"] if quiet else []),
        "worker",
        "--loglevel=WARNING",
        f"--concurrency={concurrency or settings.worker_concurrency}",
        "--queues=volplane",
        "--without-gossip",
        "--without-mingle",
        f"--hostname=volplane-{os.getpid()}@%h",
    ]
    if beat:
        argv += ["--beat", f"--schedule={settings.data_dir / 'celerybeat-schedule'}"]
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app.worker_main(argv)


@cli.command(help="Run the periodic scheduler (the sweeper, heartbeats).")
@DATA_DIR
def beat(data_dir: str | None) -> None:
    from workers.celery_app import make_celery

    settings = _settings(data_dir)
    configure_logging(json_lines=settings.log_json)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = make_celery(settings)
    app.start(
        ["beat", "--loglevel=WARNING", f"--schedule={settings.data_dir / 'celerybeat-schedule'}"]
    )


@cli.command(help="Run a host agent.")
@click.option("--listen", default="127.0.0.1:7070", show_default=True)
@click.option("--data-dir", required=True)
@click.option("--token", envvar="VOLPLANE_AGENT_TOKEN", help="default: $VOLPLANE_AGENT_TOKEN")
@click.option("--quiet", is_flag=True, help="warnings only, no access log")
def agent(listen: str, data_dir: str, token: str | None, quiet: bool) -> None:
    from drivers.agent.config import AgentConfig
    from drivers.agent.server import serve

    if not token:
        raise click.UsageError("--token or VOLPLANE_AGENT_TOKEN is required")
    host, _, port = listen.rpartition(":")
    config = AgentConfig(
        host=host or "127.0.0.1", port=int(port), data_dir=Path(data_dir), token=token
    )
    serve(config, quiet=quiet)


@cli.command(help="Migrate the database and create the admin account.")
@DATA_DIR
def migrate(data_dir: str | None) -> None:
    from volplane.bootstrap import prepare_database

    prepare_database(_settings(data_dir))


add_client_commands(cli)


def main(argv: list[str] | None = None) -> int:
    try:
        cli.main(args=argv, prog_name="volplane", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        return 130
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
