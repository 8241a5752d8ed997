"""Deploying the volplane agent on a host over SSH (ZStack's AddKVMHost).

On the host, everything lives under the agent home (``host_agent_home``):

    <home>/releases/<release id>/   the management node's code (drivers/release.py)
    <home>/agent.env                token and release (mode 0600)
    <home>/supervise.sh             restarts the agent whenever it exits
    <home>/supervisor.pid           the supervisor (its own session: kill -- -PID)
    <home>/data/                    the agent's data dir (operation journal, pools)
    <home>/agent.log

The host must have qemu-img and a Python 3.11+ with the agent's libraries
(``host_python``); ``check_host`` reports what is missing before anything is
written. The agent runs the release's code from the release directory
(``PYTHONPATH``), whatever else that Python has installed.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from drivers.release import Release
from drivers.ssh import SshSession
from volplane.errors import HostCheckFailed

# Third-party modules the agent imports (python -m drivers.agent).
AGENT_MODULES = ("uvicorn", "starlette", "httpx", "pydantic", "zstandard", "anyio")
MIN_PYTHON = (3, 11)
KEY_COMMENT = "volplane-management"


@dataclass(frozen=True)
class HostReport:
    """What ``check_host`` found on the host."""

    hostname: str = ""
    os: str = ""
    qemu_img: str | None = None
    python: str | None = None
    python_missing: tuple[str, ...] = ()
    cpu_count: int = 0
    cpu_model: str = ""
    memory_total: int = 0
    memory_available: int = 0
    disk_available: int = 0

    def facts(self) -> dict[str, object]:
        return {
            "hostname": self.hostname,
            "os": self.os,
            "cpuNum": self.cpu_count,
            "cpuModelName": self.cpu_model,
            "totalMemoryCapacity": self.memory_total,
            "availableMemoryCapacity": self.memory_available,
        }


def check_script(python: str, home: str) -> str:
    """A POSIX shell script printing ``key=value`` lines about the host."""
    py = shlex.quote(python)
    modules = ",".join(repr(m) for m in AGENT_MODULES)
    probe = (
        "import importlib.util as u, sys; "
        "print('python=%d.%d' % sys.version_info[:2]); "
        f"print('python_missing=' + ','.join(m for m in ({modules},) if u.find_spec(m) is None))"
    )
    return "\n".join(
        [
            "echo hostname=$(hostname)",
            "(. /etc/os-release 2>/dev/null && echo os=$PRETTY_NAME)",
            "echo qemu_img=$(qemu-img --version 2>/dev/null | head -1)",
            f"{py} -c {shlex.quote(probe)} 2>/dev/null",
            "echo cpus=$(nproc)",
            "echo cpu_model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)",
            'awk \'/^MemTotal:/{print "mem_total=" $2*1024} '
            '/^MemAvailable:/{print "mem_available=" $2*1024}\' /proc/meminfo',
            f'd={shlex.quote(home)}; while [ ! -d "$d" ]; do d=$(dirname "$d"); done',
            'echo disk_available=$(df -B1 --output=avail "$d" | tail -1)',
            "",
        ]
    )


def parse_report(text: str) -> HostReport:
    """The report of ``check_script``'s output (pure)."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            found[key.strip()] = value.strip()

    def number(key: str) -> int:
        try:
            return int(float(found.get(key, "0") or 0))
        except ValueError:
            return 0

    missing = tuple(m for m in found.get("python_missing", "").split(",") if m)
    return HostReport(
        hostname=found.get("hostname", ""),
        os=found.get("os", ""),
        qemu_img=found.get("qemu_img") or None,
        python=found.get("python") or None,
        python_missing=missing,
        cpu_count=number("cpus"),
        cpu_model=found.get("cpu_model", ""),
        memory_total=number("mem_total"),
        memory_available=number("mem_available"),
        disk_available=number("disk_available"),
    )


def problems(report: HostReport, *, python: str, min_free_bytes: int) -> list[str]:
    """Why the agent cannot run on this host (empty: it can)."""
    found = []
    if report.qemu_img is None:
        found.append("qemu-img is not installed (Debian: apt-get install qemu-utils)")
    if report.python is None:
        found.append(f"{python} is not a working Python")
    else:
        major, _, minor = report.python.partition(".")
        if (int(major), int(minor or 0)) < MIN_PYTHON:
            found.append(f"{python} is Python {report.python}; the agent needs 3.11 or newer")
        elif report.python_missing:
            found.append(
                f"{python} lacks the agent's libraries: {', '.join(report.python_missing)}"
            )
    if report.disk_available < min_free_bytes:
        found.append(
            f"only {report.disk_available} bytes free for the agent (needs {min_free_bytes})"
        )
    return found


def check_host(ssh: SshSession, *, python: str, home: str, min_free_bytes: int) -> HostReport:
    report = parse_report(ssh.run(check_script(python, home), check=False).stdout)
    found = problems(report, python=python, min_free_bytes=min_free_bytes)
    if found:
        raise HostCheckFailed(f"{ssh.where}: " + "; ".join(found))
    return report


@dataclass(frozen=True)
class AgentPlan:
    """What to run on the host: which code, where, listening where, with which token."""

    home: str
    python: str
    listen: str  # HOST:PORT
    token: str = field(repr=False)
    release: Release = field(repr=False)

    @property
    def release_dir(self) -> str:
        return f"{self.home}/releases/{self.release.id}"


def _supervisor(plan: AgentPlan) -> str:
    # Restarts the agent whenever it exits; a `stop` file ends the loop.
    home = shlex.quote(plan.home)
    return "\n".join(
        [
            "#!/bin/sh",
            f"cd {home} || exit 1",
            "while [ ! -e stop ]; do",
            "  set -a; . ./agent.env; set +a",
            '  PYTHONPATH="$VOLPLANE_AGENT_CODE" "$VOLPLANE_AGENT_PYTHON" -m drivers.agent \\',
            '    --listen "$VOLPLANE_AGENT_LISTEN" --data-dir data >>agent.log 2>&1',
            "  sleep 1",
            "done",
            "",
        ]
    )


def _env(plan: AgentPlan) -> str:
    values = {
        "VOLPLANE_AGENT_TOKEN": plan.token,
        "VOLPLANE_AGENT_RELEASE": plan.release.id,
        "VOLPLANE_AGENT_CODE": plan.release_dir,
        "VOLPLANE_AGENT_PYTHON": plan.python,
        "VOLPLANE_AGENT_LISTEN": plan.listen,
    }
    return "".join(f"{key}={shlex.quote(value)}\n" for key, value in values.items())


def install(ssh: SshSession, plan: AgentPlan, public_key: str) -> tuple[bool, bool]:
    """Stops an agent already there, puts the release (unless there), the config and
    the supervisor in place, authorizes ``public_key`` and starts the supervisor.

    Three round trips (each SSH command costs a fork of the host's shell). Returns
    (whether the home was created, whether the key was added), for an undo.
    """
    q = shlex.quote
    home, release_dir = q(plan.home), q(plan.release_dir)
    prepared = ssh.run(
        f"if [ -d {home} ]; then echo home-existed; fi; {_stop_script(plan.home)}; "
        f"mkdir -p {home}/releases {home}/data && chmod 700 {home} && "
        f"if [ -e {release_dir}/.complete ]; then echo release-present; fi",
        timeout=60,
    ).stdout.split()
    created_home = "home-existed" not in prepared
    files = [
        (_env(plan).encode(), f"{plan.home}/agent.env", 0o600),
        (_supervisor(plan).encode(), f"{plan.home}/supervise.sh", 0o700),
    ]
    if "release-present" not in prepared:
        files.append((plan.release.archive, f"{plan.release_dir}.zip", 0o600))
    ssh.put(*files)
    line = q(f"{public_key} {KEY_COMMENT}")
    key = q(public_key)
    extract = (
        f"if [ -e {release_dir}.zip ]; then rm -rf {release_dir} && "
        f"{q(plan.python)} -m zipfile -e {release_dir}.zip {release_dir} && "
        f"touch {release_dir}/.complete && rm -f {release_dir}.zip; fi"
    )
    authorize = (
        "mkdir -p ~/.ssh && chmod 700 ~/.ssh && touch ~/.ssh/authorized_keys && "
        f"if ! grep -qF {key} ~/.ssh/authorized_keys; then echo {line} >> ~/.ssh/authorized_keys "
        "&& chmod 600 ~/.ssh/authorized_keys && echo key-added; fi"
    )
    launch = (
        f"cd {home} && rm -f stop && {{ setsid ./supervise.sh </dev/null >/dev/null 2>&1 & "
        "echo $! > supervisor.pid; }"
    )
    done = ssh.run(f"{extract} && {authorize} && {launch}", timeout=60).stdout.split()
    return created_home, "key-added" in done


def _stop_script(home: str) -> str:
    q = shlex.quote(home)
    return (
        f"if [ -f {q}/supervisor.pid ]; then touch {q}/stop; "
        f'pid=$(cat {q}/supervisor.pid); kill -TERM -- "-$pid" 2>/dev/null; '
        f'for i in $(seq 1 100); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.1; done; '
        f'kill -KILL -- "-$pid" 2>/dev/null; rm -f {q}/supervisor.pid; fi; true'
    )


def stop(ssh: SshSession, home: str) -> None:
    """Stops the supervisor and the agent it runs (both in the supervisor's session)."""
    ssh.run(_stop_script(home), timeout=60)


def remove(ssh: SshSession, home: str, public_key: str | None = None) -> None:
    """Stops the agent, removes its home and (if given) un-authorizes the key."""
    q = shlex.quote
    revoke = ""
    if public_key is not None:
        revoke = (
            f"; f=~/.ssh/authorized_keys; if [ -f $f ]; then grep -vF {q(public_key)} $f > $f.vp; "
            "cat $f.vp > $f; rm -f $f.vp; fi"
        )
    ssh.run(f"{_stop_script(home)}; rm -rf {q(home)}{revoke}", timeout=60)


def revoke_key(ssh: SshSession, public_key: str) -> None:
    key = shlex.quote(public_key)
    ssh.run(
        f"f=~/.ssh/authorized_keys; if [ -f $f ]; then grep -vF {key} $f > $f.vp; "
        "cat $f.vp > $f; rm -f $f.vp; fi"
    )
