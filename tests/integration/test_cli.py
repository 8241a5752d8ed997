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
