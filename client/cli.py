"""The ``volplane`` client commands, on the SDK: ``login``, ``zone``, ``volume``,
``snapshot``, ``jobs``, ``call``.

Where to talk to and as whom: ``--url``, else ``$VOLPLANE_URL``, else what ``volplane
login`` saved in ``~/.config/volplane/config.json`` (``$VOLPLANE_CONFIG_DIR`` or
``$XDG_CONFIG_HOME/volplane`` if set); the session likewise from ``$VOLPLANE_SESSION`` or
the saved login. Every command takes ``--json`` for scripts; otherwise lists are tables
and long jobs show a progress bar. Exit status: 0 done, 1 the call or its job failed,
2 usage or not logged in.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from client._core import FINAL_STATES, JobStatus
from client.errors import ApiError, ClientError
from client.sync import Client, Job, Resource

DEFAULT_URL = "http://127.0.0.1:8080"
Handler = Callable[[argparse.Namespace, Client], Any]


class UsageError(Exception):
    """A command cannot run as asked (exit status 2)."""


# --- configuration ----------------------------------------------------------------


def config_path() -> Path:
    if os.environ.get("VOLPLANE_CONFIG_DIR"):
        base = Path(os.environ["VOLPLANE_CONFIG_DIR"])
    elif os.environ.get("XDG_CONFIG_HOME"):
        base = Path(os.environ["XDG_CONFIG_HOME"]) / "volplane"
    else:
        base = Path.home() / ".config" / "volplane"
    return base / "config.json"


def load_config() -> dict[str, Any]:
    path = config_path()
    if not path.exists():
        return {}
    try:
        loaded = json.loads(path.read_text())
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def save_config(values: dict[str, Any]) -> None:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    # The session is a credential: readable by its owner only.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(values, handle, indent=2)


def client_for(args: argparse.Namespace, *, need_session: bool = True) -> Client:
    saved = load_config()
    url = args.url or os.environ.get("VOLPLANE_URL") or saved.get("url") or DEFAULT_URL
    session = os.environ.get("VOLPLANE_SESSION") or saved.get("session")
    if need_session and not session:
        raise UsageError("not logged in: run 'volplane login' or set VOLPLANE_SESSION")
    return Client(url, session=session)


# --- output -----------------------------------------------------------------------

_COLUMNS = (
    "uuid", "name", "apiName", "state", "status", "progress", "type", "size",
    "primaryStorageUuid", "volumeUuid", "description", "createDate", "finishDate",
)  # fmt: skip


def emit(args: argparse.Namespace, value: Any) -> None:
    if args.json:
        print(json.dumps(value, indent=2, sort_keys=True, default=str))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if isinstance(value, list):
        columns = [c for c in _COLUMNS if any(c in row for row in value)] or ["value"]
        table = Table(*columns)
        for row in value:
            table.add_row(*(_cell(row.get(c)) for c in columns))
        console.print(table)
        console.print(f"{len(value)} item(s)")
    elif isinstance(value, dict) and value:
        table = Table("field", "value", show_header=False)
        for key, item in value.items():
            table.add_row(key, _cell(item))
        console.print(table)
    elif isinstance(value, dict):
        console.print("done")
    else:
        console.print(value)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return str(value)


@contextmanager
def progress_bar(args: argparse.Namespace, title: str) -> Iterator[Callable[[JobStatus], None]]:
    """A progress callback that draws a bar (nothing in ``--json`` mode)."""
    if args.json:
        yield lambda status: None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("{task.fields[state]}"),
        TimeElapsedColumn(),
        transient=not sys.stderr.isatty(),
        console=_stderr_console(),
    ) as bar:
        task = bar.add_task(title, total=100, state="Pending")

        def update(status: JobStatus) -> None:
            done = status.state in FINAL_STATES
            completed = 100 if status.state == "Succeeded" else (status.progress or 0)
            bar.update(task, completed=completed, state=status.state, refresh=done)

        yield update


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def finish(args: argparse.Namespace, answer: Any) -> Any:
    """What an async command prints: the job when not waited for, else its inventory."""
    if isinstance(answer, Job):
        return {"jobUuid": answer.uuid, "location": answer.location}
    if isinstance(answer, dict) and set(answer) == {"inventory"}:
        return answer["inventory"]
    return answer


def run_async(
    args: argparse.Namespace, title: str, call: Callable[[Callable[[JobStatus], None]], Any]
) -> Any:
    if getattr(args, "no_wait", False):
        return finish(args, call(lambda status: None))
    with progress_bar(args, title) as on_progress:
        return finish(args, call(on_progress))


# --- commands -----------------------------------------------------------------------


def cmd_login(args: argparse.Namespace, client: Client) -> Any:
    password = args.password or os.environ.get("VOLPLANE_PASSWORD")
    if password is None:
        password = getpass.getpass(f"password for {args.account}: ")
    inventory = client.login(args.account, password)
    save_config({"url": client.url, "session": client.session, "account": args.account})
    if args.json:
        return {**inventory, "url": client.url}
    return f"logged in to {client.url} as {args.account} (session saved in {config_path()})"


def cmd_logout(args: argparse.Namespace, client: Client) -> Any:
    client.logout()
    saved = load_config()
    saved.pop("session", None)
    save_config(saved)
    return {} if args.json else "logged out"


def _query(args: argparse.Namespace) -> list[str]:
    return list(args.q or [])


def resource_commands(
    sub: Any,
    common: argparse.ArgumentParser,
    noun: str,
    collection: str,
    *,
    update_action: str | None,
    create: Callable[[argparse.ArgumentParser], Handler] | None,
) -> None:
    """``<noun> list|show|delete`` (+ ``update`` and ``create`` where they exist)."""
    parser = sub.add_parser(noun, help=f"{noun}s ({collection})")
    verbs = parser.add_subparsers(dest="verb", required=True)

    def resource(client: Client) -> Resource:
        return client.resource(collection, update_action=update_action)

    ls = verbs.add_parser("list", aliases=["ls"], parents=[common], help=f"list {noun}s")
    ls.add_argument("-q", action="append", help="condition, e.g. name=foo (repeatable)")
    ls.add_argument("--limit", type=int, default=100)
    ls.add_argument("--sort", default=None, help="+field or -field")
    ls.set_defaults(handler=lambda a, c: resource(c).query(_query(a), limit=a.limit, sort=a.sort))

    show = verbs.add_parser("show", parents=[common], help=f"show one {noun}")
    show.add_argument("uuid")
    show.set_defaults(handler=lambda a, c: resource(c).get(a.uuid))

    delete = verbs.add_parser("delete", aliases=["rm"], parents=[common], help=f"delete a {noun}")
    delete.add_argument("uuid")
    delete.add_argument("--no-wait", action="store_true", help="print the job and return")
    delete.set_defaults(
        handler=lambda a, c: run_async(
            a,
            f"delete {noun}",
            lambda cb: c.call(
                "DELETE", f"{collection}/{a.uuid}", wait=not a.no_wait, on_progress=cb
            ),
        )
    )

    if update_action is not None:
        update = verbs.add_parser("update", parents=[common], help=f"update a {noun}")
        update.add_argument("uuid")
        update.add_argument("--name")
        update.add_argument("--description")
        update.add_argument("--no-wait", action="store_true")

        def do_update(a: argparse.Namespace, c: Client) -> Any:
            fields = {k: v for k, v in (("name", a.name), ("description", a.description)) if v}
            return run_async(
                a,
                f"update {noun}",
                lambda cb: c.call(
                    "PUT",
                    f"{collection}/{a.uuid}/actions",
                    {update_action: fields},
                    wait=not a.no_wait,
                    on_progress=cb,
                ),
            )

        update.set_defaults(handler=do_update)

    if create is not None:
        made = verbs.add_parser("create", parents=[common], help=f"create a {noun}")
        made.add_argument("--no-wait", action="store_true", help="print the job and return")
        made.set_defaults(handler=create(made))


def zone_create(parser: argparse.ArgumentParser) -> Handler:
    parser.add_argument("name")
    parser.add_argument("--description")

    def handler(a: argparse.Namespace, c: Client) -> Any:
        params = {"name": a.name}
        if a.description:
            params["description"] = a.description
        return run_async(
            a,
            "create zone",
            lambda cb: c.call(
                "POST", "/v1/zones", {"params": params}, wait=not a.no_wait, on_progress=cb
            ),
        )

    return handler


def volume_create(parser: argparse.ArgumentParser) -> Handler:
    parser.add_argument("name")
    parser.add_argument("--size", required=True, help="bytes, or with a suffix: 10G, 512M")
    parser.add_argument("--pool", required=True, help="primary storage uuid")
    parser.add_argument("--description")

    def handler(a: argparse.Namespace, c: Client) -> Any:
        params: dict[str, Any] = {
            "name": a.name,
            "diskSize": parse_size(a.size),
            "primaryStorageUuid": a.pool,
        }
        if a.description:
            params["description"] = a.description
        return run_async(
            a,
            "create volume",
            lambda cb: c.call(
                "POST", "/v1/volumes/data", {"params": params}, wait=not a.no_wait, on_progress=cb
            ),
        )

    return handler


def parse_size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    text = text.strip().upper().removesuffix("B").removesuffix("I")
    try:
        if text and text[-1] in units:
            return int(float(text[:-1]) * units[text[-1]])
        return int(text)
    except ValueError:
        raise UsageError(f"not a size: {text!r}") from None


def add_volume_extras(sub: Any, common: argparse.ArgumentParser) -> None:
    volume = sub.choices["volume"]
    verbs = next(a for a in volume._actions if isinstance(a, argparse._SubParsersAction))
    snap = verbs.add_parser("snapshot", parents=[common], help="snapshot a volume")
    snap.add_argument("volume_uuid")
    snap.add_argument("--name", required=True)
    snap.add_argument("--description")
    snap.add_argument("--no-wait", action="store_true")

    def do_snapshot(a: argparse.Namespace, c: Client) -> Any:
        params = {"name": a.name}
        if a.description:
            params["description"] = a.description
        return run_async(
            a,
            "snapshot volume",
            lambda cb: c.call(
                "POST",
                f"/v1/volumes/{a.volume_uuid}/volume-snapshots",
                {"params": params},
                wait=not a.no_wait,
                on_progress=cb,
            ),
        )

    snap.set_defaults(handler=do_snapshot)

    resize = verbs.add_parser("resize", parents=[common], help="grow a volume")
    resize.add_argument("uuid")
    resize.add_argument("--size", required=True)
    resize.add_argument("--no-wait", action="store_true")
    resize.set_defaults(
        handler=lambda a, c: run_async(
            a,
            "resize volume",
            lambda cb: c.call(
                "PUT",
                f"/v1/volumes/{a.uuid}/actions",
                {"resizeDataVolume": {"size": parse_size(a.size)}},
                wait=not a.no_wait,
                on_progress=cb,
            ),
        )
    )

    snapshot = sub.choices["snapshot"]
    snap_verbs = next(a for a in snapshot._actions if isinstance(a, argparse._SubParsersAction))
    revert = snap_verbs.add_parser("revert", parents=[common], help="revert its volume to it")
    revert.add_argument("uuid")
    revert.add_argument("--no-wait", action="store_true")
    revert.set_defaults(
        handler=lambda a, c: run_async(
            a,
            "revert volume",
            lambda cb: c.call(
                "PUT",
                f"/v1/volume-snapshots/{a.uuid}/actions",
                {"revertVolumeFromSnapshot": {}},
                wait=not a.no_wait,
                on_progress=cb,
            ),
        )
    )


def cmd_jobs_ls(args: argparse.Namespace, client: Client) -> Any:
    conditions = _query(args)
    if args.state:
        conditions.append(f"state={args.state}")
    return client.jobs.list(conditions, limit=args.limit)


def cmd_jobs_wait(args: argparse.Namespace, client: Client) -> Any:
    job = client.jobs.job(args.uuid)
    with progress_bar(args, f"job {args.uuid[:8]}") as on_progress:
        return finish(args, job.wait(timeout=args.timeout, on_progress=on_progress))


def cmd_jobs_watch(args: argparse.Namespace, client: Client) -> Any:
    if args.uuid:
        return _watch_one(args, client)
    for count, event in enumerate(client.jobs.events(), start=1):
        data = event.data
        if args.json:
            print(json.dumps({"id": event.id, "event": event.event, **data}), flush=True)
        else:
            progress = "" if data.get("progress") is None else f" {data['progress']}%"
            error = data.get("error") or {}
            detail = f" {error.get('code')}: {error.get('details')}" if error else ""
            print(f"{data['uuid']} {data['apiName']} {data['state']}{progress}{detail}", flush=True)
        if args.max_events and count >= args.max_events:
            return None
    return None


def _watch_one(args: argparse.Namespace, client: Client) -> Any:
    last: dict[str, Any] = {}
    with progress_bar(args, f"job {args.uuid[:8]}") as on_progress:
        for event in client.jobs.events(args.uuid):
            last = event.data
            on_progress(event.status)
            if args.json:
                print(json.dumps({"id": event.id, "event": event.event, **last}), flush=True)
    if last.get("state") not in (None, "Succeeded"):
        error = last.get("error") or {}
        raise ApiError(503, {"error": error}, job_uuid=args.uuid)
    return None if args.json else f"{args.uuid} {last.get('state')}"


def cmd_call(args: argparse.Namespace, client: Client) -> Any:
    body = json.loads(args.body) if args.body else None
    params = [tuple(p.split("=", 1)) for p in args.param or []]
    return run_async(
        args,
        f"{args.method} {args.path}",
        lambda cb: client.call(
            args.method.upper(),
            args.path,
            body,
            params=params or None,
            wait=not args.no_wait,
            on_progress=cb,
        ),
    )


# --- wiring -------------------------------------------------------------------------


def add_commands(sub: Any) -> None:
    """Adds the client commands to the ``volplane`` parser's subcommands."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", help=f"API URL (default: $VOLPLANE_URL, saved, {DEFAULT_URL})")
    common.add_argument("--json", action="store_true", help="print JSON for scripts")

    login = sub.add_parser("login", parents=[common], help="log in and save the session")
    login.add_argument("--account", "-a", default="admin")
    login.add_argument("--password", "-p", help="default: $VOLPLANE_PASSWORD or a prompt")
    login.set_defaults(func=run_command, handler=cmd_login, anonymous=True)

    logout = sub.add_parser("logout", parents=[common], help="end the saved session")
    logout.set_defaults(func=run_command, handler=cmd_logout)

    resource_commands(
        sub, common, "zone", "/v1/zones", update_action="updateZone", create=zone_create
    )
    resource_commands(
        sub, common, "volume", "/v1/volumes", update_action="updateVolume", create=volume_create
    )
    resource_commands(
        sub,
        common,
        "snapshot",
        "/v1/volume-snapshots",
        update_action="updateVolumeSnapshot",
        create=None,
    )
    add_volume_extras(sub, common)

    jobs = sub.add_parser("jobs", help="watch and steer jobs")
    verbs = jobs.add_subparsers(dest="verb", required=True)
    ls = verbs.add_parser("ls", aliases=["list"], parents=[common], help="list recent jobs")
    ls.add_argument("--state", choices=["Pending", "Running", "Succeeded", "Failed", "Cancelled"])
    ls.add_argument("-q", action="append", help="condition, e.g. apiName=CreateZone")
    ls.add_argument("--limit", type=int, default=50)
    ls.set_defaults(handler=cmd_jobs_ls)
    show = verbs.add_parser("show", parents=[common], help="a job's record")
    show.add_argument("uuid")
    show.set_defaults(handler=lambda a, c: c.jobs.get(a.uuid))
    wait = verbs.add_parser("wait", parents=[common], help="wait for a job; print its result")
    wait.add_argument("uuid")
    wait.add_argument("--timeout", type=float, default=None)
    wait.set_defaults(handler=cmd_jobs_wait)
    cancel = verbs.add_parser("cancel", parents=[common], help="cancel a job")
    cancel.add_argument("uuid")
    cancel.set_defaults(handler=lambda a, c: c.jobs.cancel(a.uuid))
    redeliver = verbs.add_parser("redeliver", parents=[common], help="send its webhook again")
    redeliver.add_argument("uuid")
    redeliver.set_defaults(handler=lambda a, c: c.jobs.redeliver(a.uuid))
    watch = verbs.add_parser("watch", parents=[common], help="follow one job, or all, live")
    watch.add_argument("uuid", nargs="?")
    watch.add_argument("--max-events", type=int, default=0, help="stop after N events")
    watch.set_defaults(handler=cmd_jobs_watch)

    call = sub.add_parser("call", parents=[common], help="any API call, e.g. call GET /v1/zones")
    call.add_argument("method")
    call.add_argument("path")
    call.add_argument("body", nargs="?", help="JSON body")
    call.add_argument("--param", "-P", action="append", help="query parameter key=value")
    call.add_argument("--no-wait", action="store_true", help="print the job and return")
    call.set_defaults(handler=cmd_call)

    for parser in _leaf_parsers(sub):
        parser.set_defaults(func=run_command)


def _leaf_parsers(sub: Any) -> Iterator[argparse.ArgumentParser]:
    for parser in set(sub.choices.values()):
        children = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if children:
            yield from _leaf_parsers(children[0])
        elif parser.get_default("handler") is not None:
            yield parser


def run_command(args: argparse.Namespace) -> int:
    """Runs one client command; errors become a message and an exit status."""
    try:
        client = client_for(args, need_session=not getattr(args, "anonymous", False))
        with client:
            value = args.handler(args, client)
    except UsageError as exc:
        print(f"volplane: {exc}", file=sys.stderr)
        return 2
    except ApiError as exc:
        if args.json:
            print(json.dumps(exc.body if "error" in exc.body else {"error": exc.body}, indent=2))
        else:
            where = f" (job {exc.job_uuid})" if exc.job_uuid else ""
            print(f"volplane: {exc.code}: {exc.details}{where}", file=sys.stderr)
        return 1
    except ClientError as exc:
        print(f"volplane: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    if value is not None:
        if isinstance(value, str) and not args.json:
            print(value)
        else:
            emit(args, value)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="volplane", description=__doc__)
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
