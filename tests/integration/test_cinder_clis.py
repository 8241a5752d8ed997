"""The real ``cinder`` and ``openstack`` commands (python-cinderclient,
python-openstackclient on openstacksdk), run as a user runs them, against the Cinder
dialect: version discovery, listing, managing, showing and unmanaging, and Cinder's
404 at once for an unknown host."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.infra import Infra
from tests.stack import Client, Stack
from tests.storage import MiB

pytestmark = pytest.mark.integration


class Clis:
    """``cinder`` and ``openstack`` logged in with a volplane session as the token."""

    def __init__(self, stack: Stack, admin: Client, home: Path) -> None:
        self.project = next(
            a["uuid"]
            for a in admin.get("/v1/accounts").json()["inventories"]
            if a["name"] == "admin"
        )
        self.endpoint = f"{stack.url}/v3/{self.project}"
        self.token = admin.session
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "CINDER_"))}
        self.env = {**clean, "HOME": str(home)}

    def run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        exe = str(Path(sys.executable).parent / tool)
        return subprocess.run(
            [exe, *args], capture_output=True, text=True, env=self.env, timeout=180
        )

    def cinder(self, *args: str) -> subprocess.CompletedProcess[str]:
        # As docs/cinder.md shows: the session is the token (OS_TOKEN), no Keystone.
        self.env["OS_TOKEN"] = self.token
        common = ["--os-auth-type", "admin_token", "--os-endpoint", self.endpoint]
        return self.run(
            "cinder", *common, "--os-project-id", self.project,
            "--os-volume-api-version", "3.8", *args,
        )  # fmt: skip

    def openstack(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run(
            "openstack", "--os-auth-type", "admin_token", "--os-token", self.token,
            "--os-endpoint", self.endpoint, "--os-volume-api-version", "3.8", *args,
        )  # fmt: skip

    def openstack_json(self, *args: str) -> Any:
        done = self.openstack(*args, "-f", "json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


def new_image(infra: Infra, name: str) -> str:
    path = Path(infra.pool["mountPath"]) / name
    subprocess.run(
        ["qemu-img", "create", "-q", "-f", "qcow2", str(path), str(64 * MiB)], check=True
    )
    return name


def wait_status(clis: Clis, volume_id: str, wanted: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        shown = clis.openstack_json("volume", "show", volume_id)
        if shown["status"] == wanted or time.monotonic() > deadline:
            return dict(shown)
        time.sleep(0.5)


@pytest.fixture
def clis(production_stack: Stack, admin: Client, tmp_path: Path) -> Clis:
    return Clis(production_stack, admin, tmp_path)


def test_version_discovery_documents(production_stack: Stack) -> None:
    root = httpx.get(f"{production_stack.url}/")
    assert root.status_code == 300
    (v3,) = root.json()["versions"]
    assert v3["id"] == "v3.0" and v3["status"] == "CURRENT"
    assert (v3["min_version"], v3["version"]) == ("3.0", "3.71")
    assert {"rel": "self", "href": f"{production_stack.url}/v3/"} in v3["links"]
    for path in ("/v3", "/v3/"):
        answer = httpx.get(f"{production_stack.url}{path}")
        assert answer.status_code == 200 and answer.json() == {"versions": [v3]}
    browser = httpx.get(f"{production_stack.url}/", headers={"Accept": "text/html"})
    assert browser.status_code == 200
    assert 'href="/console"' in browser.text and 'href="/docs"' in browser.text


def test_cinder_command(clis: Clis, infra: Infra) -> None:
    host = f"{infra.host['name']}@{infra.pool['name']}"
    image = new_image(infra, "cinder-cli.qcow2")

    versions = clis.cinder("api-version")
    assert versions.returncode == 0, versions.stderr
    assert "3.71" in versions.stdout and "3.0" in versions.stdout

    listed = clis.cinder("manageable-list", host)
    assert listed.returncode == 0, listed.stderr
    assert image in listed.stdout

    managed = clis.cinder("manage", "--name", "from-cinder", host, image)
    assert managed.returncode == 0, managed.stderr
    volume_id = next(
        line.split("|")[2].strip() for line in managed.stdout.splitlines() if "| id " in line
    )
    assert wait_status(clis, volume_id, "available")["name"] == "from-cinder"
    shown = clis.cinder("show", volume_id)
    assert shown.returncode == 0 and "available" in shown.stdout, shown.stderr

    unmanaged = clis.cinder("unmanage", volume_id)
    assert unmanaged.returncode == 0, unmanaged.stderr

    unknown = clis.cinder("manageable-list", "nohost@nopool")
    assert unknown.returncode == 1
    assert "Service nohost@nopool could not be found. (HTTP 404)" in unknown.stderr


def test_openstack_command(clis: Clis, infra: Infra) -> None:
    host = f"{infra.host['name']}@{infra.pool['name']}"
    image = new_image(infra, "openstack-cli.qcow2")

    listed = clis.openstack_json("block", "storage", "volume", "manageable", "list", host)
    assert {"source-name": image} in [json_ref(entry["reference"]) for entry in listed]

    made = clis.openstack_json(
        "volume", "create", "--remote-source", f"source-name={image}", "--host", host, "os-vol"
    )
    assert made["status"] == "creating" and made["name"] == "os-vol"
    shown = wait_status(clis, made["id"], "available")
    assert shown["size"] == 1 and shown["os-vol-host-attr:host"].startswith(host)

    removed = clis.openstack("volume", "delete", "--remote", made["id"])
    assert removed.returncode == 0, removed.stderr
    gone = clis.openstack("volume", "show", made["id"])
    deadline = time.monotonic() + 60
    while gone.returncode == 0 and time.monotonic() < deadline:
        time.sleep(0.5)
        gone = clis.openstack("volume", "show", made["id"])
    assert gone.returncode == 1 and "404" in gone.stderr

    refused = clis.openstack(
        "volume", "create", "--remote-source", f"source-name={image}", "--host", "no@pool", "x"
    )
    assert refused.returncode == 1
    assert "404" in refused.stderr and "Service no@pool could not be found." in refused.stderr


def json_ref(reference: Any) -> Any:
    """OSC prints a reference as JSON or, in older releases, as a Python repr."""
    if isinstance(reference, dict):
        return reference
    return json.loads(str(reference).replace("'", '"'))
