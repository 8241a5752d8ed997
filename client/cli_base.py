"""What every ``volplane`` client command shares: where to talk to and as whom, the
output options, progress bars, names in place of uuids, exit statuses.

Where to talk to and as whom: ``--url``, else ``$VOLPLANE_URL``, else what ``volplane
login`` saved in ``~/.config/volplane/config.json`` (``$VOLPLANE_CONFIG_DIR`` or
``$XDG_CONFIG_HOME/volplane`` if set); the session likewise from ``$VOLPLANE_SESSION`` or
the saved login. Names are accepted wherever a uuid is. Output: ``-f table|json|value``,
``-c FIELD`` (repeatable), ``--json`` = ``-f json``. Exit status: 0 done, 1 the call or
its job failed, 2 usage error or not logged in.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from client._core import FINAL_STATES, JobStatus
from client.cli_output import FORMATS, render
from client.errors import ApiError, ClientError
from client.sync import Client, Job

DEFAULT_URL = "http://127.0.0.1:8080"
UUID = re.compile(r"^[0-9a-fA-F]{32}$")


class UsageError(click.UsageError):
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


# --- the options every client command takes ------------------------------------------


@dataclass
class Options:
    url: str | None = None
    fmt: str = "table"
    columns: tuple[str, ...] = ()
    no_wait: bool = False

    @property
    def json(self) -> bool:
        return self.fmt == "json"

    def client(self, *, need_session: bool = True) -> Client:
        saved = load_config()
        url = self.url or os.environ.get("VOLPLANE_URL") or saved.get("url") or DEFAULT_URL
        session = os.environ.get("VOLPLANE_SESSION") or saved.get("session")
        if need_session and not session:
            raise UsageError("not logged in: run 'volplane login' or set VOLPLANE_SESSION")
        return Client(url, session=session)


Handler = Callable[..., Any]


def client_command(
    group: click.Group,
    name: str,
    *,
    help: str,
    asynchronous: bool = False,
    anonymous: bool = False,
    columns: tuple[str, ...] = (),
    aliases: tuple[str, ...] = (),
) -> Callable[[Handler], click.Command]:
    """A client command: ``handler(opts, client, **arguments)`` returns what to print."""

    def decorate(handler: Handler) -> click.Command:
        params = list(getattr(handler, "__click_params__", []))
        params.reverse()

        def callback(
            api_url: str | None,
            fmt: str | None,
            as_json: bool,
            column: tuple[str, ...],
            **kwargs: Any,
        ) -> None:
            opts = Options(
                url=api_url,
                fmt="json" if as_json else (fmt or "table"),
                columns=column,
                no_wait=bool(kwargs.pop("no_wait", False)),
            )
            sys.exit(run(opts, handler, kwargs, anonymous=anonymous, columns=columns))

        common = [
            click.Option(
                ["--url", "api_url"], help=f"API URL (default: $VOLPLANE_URL, saved, {DEFAULT_URL})"
            ),
            click.Option(
                ["-f", "--format", "fmt"], type=click.Choice(FORMATS), help="output format"
            ),
            click.Option(["--json", "as_json"], is_flag=True, help="same as -f json"),
            click.Option(["-c", "--column"], multiple=True, help="print only this field"),
        ]
        if asynchronous:
            common.append(
                click.Option(
                    ["--no-wait"], is_flag=True, help="print the job as JSON and return at once"
                )
            )
        command = click.Command(name, callback=callback, params=params + common, help=help)
        group.add_command(command)
        for alias in aliases:
            group.add_command(command, alias)
        return command

    return decorate


def run(
    opts: Options,
    handler: Handler,
    kwargs: dict[str, Any],
    *,
    anonymous: bool,
    columns: tuple[str, ...],
) -> int:
    """Runs one client command; errors become a message and an exit status."""
    try:
        with opts.client(need_session=not anonymous) as client:
            value = handler(opts, client, **kwargs)
    except click.UsageError as exc:
        click.echo(f"volplane: {exc.message}", err=True)
        return 2
    except ApiError as exc:
        if opts.json:
            click.echo(
                json.dumps(exc.body if "error" in exc.body else {"error": exc.body}, indent=2)
            )
        else:
            where = f" (job {exc.job_uuid})" if exc.job_uuid else ""
            click.echo(f"volplane: {exc.code}: {exc.details}{where}", err=True)
        return 1
    except ClientError as exc:
        click.echo(f"volplane: {exc}", err=True)
        return 1
    except KeyboardInterrupt:
        return 130
    if isinstance(value, Job):  # --no-wait: the job, as JSON whatever the format
        click.echo(json.dumps({"jobUuid": value.uuid, "location": value.location}, indent=2))
        return 0
    if value is not None:
        text = render(value, opts.fmt, opts.columns, columns)
        if text:
            click.echo(text)
    return 0


# --- jobs with a progress bar ------------------------------------------------------


@contextmanager
def progress_bar(opts: Options, label: str) -> Iterator[Callable[[JobStatus], None]]:
    """A progress callback drawing a bar labelled with the operation on stderr (none for
    JSON or value output)."""
    if opts.fmt != "table":
        yield lambda status: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("{task.fields[state]}"),
        TimeElapsedColumn(),
        transient=not sys.stderr.isatty(),
        console=Console(stderr=True),
    ) as bar:
        task = bar.add_task(label, total=100, state="Pending")

        def update(status: JobStatus) -> None:
            done = status.state in FINAL_STATES
            completed = 100 if status.state == "Succeeded" else (status.progress or 0)
            bar.update(task, completed=completed, state=status.state, refresh=done)

        yield update


def unwrap(answer: Any) -> Any:
    if isinstance(answer, dict) and set(answer) == {"inventory"}:
        return answer["inventory"]
    return answer


def submit(
    opts: Options,
    client: Client,
    label: str,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    params: list[tuple[str, str]] | None = None,
) -> Any:
    """An asynchronous call: the job (``--no-wait``) or its result, with a progress bar."""
    if opts.no_wait:
        return client.call(method, path, body, params=params, wait=False)
    with progress_bar(opts, label) as on_progress:
        return unwrap(client.call(method, path, body, params=params, on_progress=on_progress))


# --- names in place of uuids --------------------------------------------------------


def resolve(client: Client, collection: str, noun: str, ref: str) -> str:
    """A uuid as given, else the uuid of the one ``noun`` with that name."""
    if UUID.match(ref):
        return ref.lower()
    found = client.request("GET", collection, params=[("q", f"name={ref}"), ("limit", "2")])
    rows = found.get("inventories", [])
    if not rows:
        raise UsageError(f"no {noun} named {ref!r}")
    if len(rows) > 1:
        raise UsageError(f"several {noun}s are named {ref!r}; give its uuid")
    return str(rows[0]["uuid"])


def parse_size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    clean = text.strip().upper().removesuffix("B").removesuffix("I")
    try:
        if clean and clean[-1] in units:
            return int(float(clean[:-1]) * units[clean[-1]])
        return int(clean)
    except ValueError:
        raise UsageError(f"not a size: {text!r} (bytes, or with a suffix: 10G, 512M)") from None


def drop_none(**params: Any) -> dict[str, Any]:
    return {key: value for key, value in params.items() if value is not None}
