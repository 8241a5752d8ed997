"""The ``volplane`` client commands, on the SDK and click: one command group per
resource (zone, cluster, host, primary-storage, backup-storage, disk-offering, volume, snapshot,
backup; ``client/cli_resources.py``), ``jobs``, ``login``/``logout`` and ``call``.
What they share (configuration, output, exit statuses) is in ``client/cli_base.py``."""

from __future__ import annotations

import getpass
import json
import os
import sys
from typing import Any

import click

from client.cli_base import (
    Options,
    UsageError,
    client_command,
    config_path,
    load_config,
    progress_bar,
    save_config,
    unwrap,
)
from client.cli_resources import add_resource_commands
from client.errors import ApiError
from client.sync import Client, Job

JOB_STATES = ("Pending", "Running", "Succeeded", "Failed", "Cancelled")


def add_client_commands(root: click.Group) -> None:
    """Adds every client command to the ``volplane`` group."""
    _login(root)
    add_resource_commands(root)
    _jobs(root)
    _call(root)


def _login(root: click.Group) -> None:
    @client_command(root, "login", help="log in and save the session", anonymous=True)
    @click.option("--account", "-a", default="admin", show_default=True)
    @click.option("--password", "-p", help="default: $VOLPLANE_PASSWORD, else a prompt")
    def _in(opts: Options, client: Client, account: str, password: str | None) -> Any:
        password = password or os.environ.get("VOLPLANE_PASSWORD")
        if password is None:
            if not sys.stdin.isatty():
                raise UsageError(
                    "no password: pass --password or set VOLPLANE_PASSWORD "
                    "(there is no terminal to ask on)"
                )
            password = getpass.getpass(f"password for {account}: ")
        inventory = client.login(account, password)
        save_config({"url": client.url, "session": client.session, "account": account})
        if opts.fmt != "table":
            return {**inventory, "url": client.url}
        return f"logged in to {client.url} as {account} (session saved in {config_path()})"

    @client_command(root, "logout", help="end the saved session")
    def _out(opts: Options, client: Client) -> Any:
        client.logout()
        saved = load_config()
        saved.pop("session", None)
        save_config(saved)
        return {} if opts.fmt != "table" else "logged out"


def _jobs(root: click.Group) -> None:
    group = click.Group("jobs", help="watch and steer jobs")
    root.add_command(group)
    columns = ("uuid", "apiName", "state", "progress", "createDate")

    @client_command(group, "ls", help="list recent jobs", aliases=("list",), columns=columns)
    @click.option("--state", type=click.Choice(JOB_STATES))
    @click.option("-q", "conditions", multiple=True, help="condition, e.g. apiName=CreateZone")
    @click.option("--limit", type=int, default=50, show_default=True)
    def _ls(
        opts: Options, client: Client, state: str | None, conditions: tuple[str, ...], limit: int
    ) -> Any:
        wanted = [*conditions, *([f"state={state}"] if state else [])]
        return client.jobs.list(wanted, limit=limit)

    @client_command(group, "show", help="a job's record (state, request, error, webhook)")
    @click.argument("uuid")
    def _show(opts: Options, client: Client, uuid: str) -> Any:
        return client.jobs.get(uuid)

    @client_command(group, "wait", help="wait for a job; print its result")
    @click.argument("uuid")
    @click.option("--timeout", type=float)
    def _wait(opts: Options, client: Client, uuid: str, timeout: float | None) -> Any:
        label = client.jobs.get(uuid)["apiName"]
        with progress_bar(opts, label) as on_progress:
            return unwrap(client.jobs.wait(uuid, timeout=timeout, on_progress=on_progress))

    @client_command(group, "cancel", help="cancel a job")
    @click.argument("uuid")
    def _cancel(opts: Options, client: Client, uuid: str) -> Any:
        return client.jobs.cancel(uuid)

    @client_command(group, "redeliver", help="send a job's webhook again")
    @click.argument("uuid")
    def _redeliver(opts: Options, client: Client, uuid: str) -> Any:
        return client.jobs.redeliver(uuid)

    @client_command(
        group,
        "watch",
        help="Follow one job until it ends. Without UUID, follow every job you can see, "
        "one line per event, until Ctrl-C or --max-events.",
    )
    @click.argument("uuid", required=False)
    @click.option("--max-events", type=int, default=0, help="stop after N events (0: never)")
    def _watch(opts: Options, client: Client, uuid: str | None, max_events: int) -> Any:
        if uuid:
            return _watch_one(opts, client, uuid)
        for count, event in enumerate(client.jobs.events(), start=1):
            data = event.data
            if opts.json:
                print(json.dumps({"id": event.id, "event": event.event, **data}), flush=True)
            else:
                progress = "" if data.get("progress") is None else f" {data['progress']}%"
                error = data.get("error") or {}
                detail = f" {error.get('code')}: {error.get('details')}" if error else ""
                line = f"{data['uuid']} {data['apiName']} {data['state']}{progress}{detail}"
                print(line, flush=True)
            if max_events and count >= max_events:
                return None
        return None


def _watch_one(opts: Options, client: Client, uuid: str) -> Any:
    last: dict[str, Any] = {}
    label = client.jobs.get(uuid)["apiName"]
    with progress_bar(opts, label) as on_progress:
        for event in client.jobs.events(uuid):
            last = event.data
            on_progress(event.status)
            if opts.json:
                print(json.dumps({"id": event.id, "event": event.event, **last}), flush=True)
    if last.get("state") not in (None, "Succeeded"):
        raise ApiError(503, {"error": last.get("error") or {}}, job_uuid=uuid)
    return None if opts.json else f"{uuid} {last.get('state')}"


def _call(root: click.Group) -> None:
    @client_command(
        root,
        "call",
        help="Any API call, e.g. `volplane call GET /v1/zones`. BODY is JSON.",
        asynchronous=True,
    )
    @click.argument("method")
    @click.argument("path")
    @click.argument("body", required=False)
    @click.option("--param", "-P", multiple=True, help="query parameter key=value")
    def _any(
        opts: Options,
        client: Client,
        method: str,
        path: str,
        body: str | None,
        param: tuple[str, ...],
    ) -> Any:
        try:
            parsed = json.loads(body) if body else None
        except ValueError as exc:
            raise UsageError(f"BODY is not JSON: {exc}") from None
        if parsed is not None and not isinstance(parsed, dict):
            raise UsageError("BODY must be a JSON object")
        pairs = [tuple(p.split("=", 1)) for p in param]
        if any(len(p) != 2 for p in pairs):
            raise UsageError("--param takes key=value")
        params = [(str(p[0]), str(p[1])) for p in pairs] or None
        answer = client.call(method.upper(), path, parsed, params=params, wait=False)
        if not isinstance(answer, Job) or opts.no_wait:
            return answer
        label = client.jobs.get(answer.uuid)["apiName"]  # the operation, not the path
        with progress_bar(opts, label) as on_progress:
            return unwrap(answer.wait(on_progress=on_progress))


def main(argv: list[str] | None = None) -> int:
    """``python -m client.cli``: the client commands alone (the SDK ships without the server)."""
    root = click.Group("volplane", help=__doc__)
    add_client_commands(root)
    try:
        root.main(args=argv, prog_name="volplane", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
