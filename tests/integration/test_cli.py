"""The ``volplane`` client commands in a subprocess against a live stack, as a user or a
script (``--json``) runs them."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.agents import AgentProcess
from tests.stack import ROOT, Stack, new_name


class Cli:
    def __init__(self, stack: Stack, config_dir: Path) -> None:
        self.env = {
            key: value for key, value in os.environ.items() if not key.startswith("VOLPLANE_")
        }
        self.env.update(
            {"VOLPLANE_URL": stack.url, "VOLPLANE_CONFIG_DIR": str(config_dir), "COLUMNS": "200"}
        )
        self.config_dir = config_dir

    def run(self, *args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "volplane.cli", *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == expect, (args, done.returncode, done.stdout, done.stderr)
        return done

    def json(self, *args: str, expect: int = 0) -> Any:
        return json.loads(self.run(*args, "--json", expect=expect).stdout)


@pytest.fixture
def cli(production_stack: Stack, tmp_path: Path) -> Cli:
    return Cli(production_stack, tmp_path / "config")


def test_not_logged_in_is_a_usage_error(cli: Cli) -> None:
    done = cli.run("zone", "list", expect=2)
    assert "volplane login" in done.stderr


def test_login_then_zone_lifecycle(cli: Cli) -> None:
    # Given a login saved in the config directory, readable by its owner only
    session = cli.json("login", "--account", "admin", "--password", "password")
    config = cli.config_dir / "config.json"
    assert json.loads(config.read_text())["session"] == session["uuid"]
    assert stat.S_IMODE(config.stat().st_mode) == 0o600

    # When a zone is created, listed, shown, updated and deleted
    name = new_name("cli")
    zone = cli.json("zone", "create", name, "--description", "from the CLI")
    assert zone["name"] == name and zone["description"] == "from the CLI"
    listed = cli.json("zone", "list", "-q", f"name={name}")
    assert [z["uuid"] for z in listed] == [zone["uuid"]]
    table = cli.run("zone", "list", "-q", f"name={name}").stdout
    assert name in table and zone["uuid"] in table and "1 item(s)" in table
    assert cli.json("zone", "show", zone["uuid"])["uuid"] == zone["uuid"]
    assert cli.json("zone", "update", zone["uuid"], "--description", "x")["description"] == "x"
    assert cli.json("zone", "delete", zone["uuid"]) == {}

    # Then the zone is gone, and the error says so with its code
    missing = cli.run("zone", "show", zone["uuid"], expect=1)
    assert "VOLPLANE.RESOURCE.1001" in missing.stderr
    error = cli.json("zone", "show", zone["uuid"], expect=1)
    assert error["error"]["code"] == "VOLPLANE.RESOURCE.1001"

    # And logging out ends the session
    cli.run("logout")
    assert cli.run("zone", "list", expect=2).returncode == 2


def test_jobs_commands(cli: Cli) -> None:
    cli.run("login", "--password", "password")

    # A job started without waiting, then watched, waited for and shown
    started = cli.json("call", "POST", "/v1/debug/sleep", '{"params": {"seconds": 1}}', "--no-wait")
    job_uuid = started["jobUuid"]
    watched = cli.run("jobs", "watch", job_uuid, "--json").stdout.splitlines()
    events = [json.loads(line) for line in watched]
    assert [e["state"] for e in events if e["event"] == "state"][-1] == "Succeeded"
    assert all(e["uuid"] == job_uuid for e in events)
    assert cli.json("jobs", "wait", job_uuid) == {}
    assert cli.json("jobs", "show", job_uuid)["state"] == "Succeeded"
    assert job_uuid in [j["uuid"] for j in cli.json("jobs", "ls", "--state", "Succeeded")]
    assert job_uuid in cli.run("jobs", "ls", "--limit", "200").stdout

    # The same with a progress bar for people (it goes to stderr, results to stdout)
    shown = cli.run("call", "POST", "/v1/debug/sleep", '{"params": {"seconds": 0.5}}')
    assert shown.stdout.strip() == "done"

    # A long job cancelled: waiting for it fails with the cancel code
    slow = cli.json("call", "POST", "/v1/debug/sleep", '{"params": {"seconds": 60}}', "--no-wait")
    assert cli.json("jobs", "cancel", slow["jobUuid"])["cancelRequested"] is True
    failed = cli.json("jobs", "wait", slow["jobUuid"], expect=1)
    assert failed["error"]["code"] == "VOLPLANE.JOB.1003"
    assert "VOLPLANE.JOB.1003" in cli.run("jobs", "watch", slow["jobUuid"], expect=1).stderr


def test_watch_all_jobs_stops_after_max_events(cli: Cli) -> None:
    cli.run("login", "--password", "password")
    slow = cli.json("call", "POST", "/v1/debug/sleep", '{"params": {"seconds": 30}}', "--no-wait")
    try:
        lines = cli.run("jobs", "watch", "--max-events", "1", "--json").stdout.splitlines()
        assert len(lines) == 1
        assert json.loads(lines[0])["state"] in ("Pending", "Running")
        plain = cli.run("jobs", "watch", "--max-events", "1").stdout
        assert len(plain.splitlines()) == 1
    finally:
        cli.run("jobs", "cancel", slow["jobUuid"])


def value(cli: Cli, *args: str) -> str:
    return cli.run(*args, "-f", "value").stdout.strip()


def test_every_resource_by_name_through_the_cli(
    cli: Cli, agent: AgentProcess, tmp_path: Path
) -> None:
    """Zone to restore with the CLI alone, naming every resource instead of its uuid."""
    cli.run("login", "--password", "password")
    zone, cluster, host, pool, store = (new_name(p) for p in ("z", "c", "h", "p", "bs"))
    cli.json("zone", "create", zone)
    cli.json("cluster", "create", cluster, "--zone", zone)
    added = cli.json(
        "host", "add", host, "--cluster", cluster, "--ip", agent.host,
        "--agent-port", str(agent.port), "--agent-token", agent.token,
    )  # fmt: skip
    assert added["status"] == "Connected"
    (tmp_path / "pool").mkdir()
    cli.json("primary-storage", "add", pool, "--host", host, "--path", str(tmp_path / "pool"),
             "--cluster", cluster)  # fmt: skip
    (tmp_path / "bs").mkdir()
    cli.json("backup-storage", "add", store, "--host", host, "--path", str(tmp_path / "bs"))
    cli.json("backup-storage", "attach", store, "--zone", zone)

    offering = new_name("do")
    cli.json("disk-offering", "create", offering, "--size", "64M")
    volume = new_name("v")
    made = cli.json("volume", "create", volume, "--offering", offering, "--pool", pool)
    # Tables: whole uuids and sizes for people; -f value -c for scripts.
    table = cli.run("volume", "show", volume).stdout
    assert made["uuid"] in table and "64.0 MiB" in table
    assert (
        cli.run("volume", "show", volume, "-f", "value", "-c", "uuid").stdout.strip()
        == (made["uuid"])
    )
    assert value(cli, "volume", "list", "-q", f"name={volume}", "-c", "size") == str(64 << 20)

    snap = new_name("s")
    cli.json("volume", "snapshot", volume, "--name", snap)
    clone = cli.json("snapshot", "clone", snap, new_name("clone"), "--pool", pool)
    assert clone["status"] == "Ready"
    tree = cli.json("snapshot", "tree", volume)
    assert tree["volumeUuid"] == made["uuid"]
    backup = new_name("b")
    assert (
        cli.json("volume", "backup", volume, "--name", backup, "--storage", store)["name"] == backup
    )
    restored = cli.json("backup", "restore", backup, new_name("r"), "--pool", pool)
    assert restored["status"] == "Ready" and restored["size"] == 64 << 20
    named = {"cluster": cluster, "host": host, "primary-storage": pool, "disk-offering": offering}
    named.update({"backup-storage": store, "backup": backup, "snapshot": snap})
    for noun, name in named.items():
        assert value(cli, noun, "list", "-q", f"name={name}", "-c", "name") == name

    # A volume with snapshots is deleted only with --force.
    refused = cli.run("volume", "delete", volume, expect=1)
    assert "VOLPLANE.RESOURCE.1101" in refused.stderr
    assert cli.json("volume", "delete", volume, "--force") == {}
    assert "no volume named" in cli.run("volume", "show", volume, expect=2).stderr

    # --no-wait prints the job as JSON, whatever the format.
    started = json.loads(cli.run("zone", "create", new_name("z"), "--no-wait").stdout)
    assert set(started) == {"jobUuid", "location"}


def test_usage_errors_are_messages_with_status_2(cli: Cli) -> None:
    no_terminal = subprocess.run(
        [sys.executable, "-m", "volplane.cli", "login"],
        env=cli.env, cwd=ROOT, capture_output=True, text=True, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert no_terminal.returncode == 2, no_terminal.stderr
    assert "VOLPLANE_PASSWORD" in no_terminal.stderr and "Traceback" not in no_terminal.stderr
    cli.run("login", "--password", "password")
    bad = cli.run("call", "POST", "/v1/volumes/data", "{bad json", expect=2)
    assert "BODY is not JSON" in bad.stderr and "Traceback" not in bad.stderr
    assert "no zone named" in cli.run("zone", "show", "no-such-zone", expect=2).stderr
    assert "every job" in cli.run("jobs", "watch", "--help").stdout
    # An empty list: headers only in a table, nothing at all for -f value.
    empty = cli.run("zone", "list", "-q", "name=no-such-zone").stdout
    assert "uuid" in empty and "0 item(s)" in empty
    assert cli.run("zone", "list", "-q", "name=no-such-zone", "-f", "value").stdout == ""


def test_the_client_package_imports_nothing_of_the_server() -> None:
    probe = (
        "import sys, client.cli, client.cli_resources\n"
        "server = {'volplane', 'api', 'workers', 'drivers', 'schemas', 'migrations'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & server))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT)
    assert done.stdout.strip() == "[]", done.stderr
