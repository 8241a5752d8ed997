"""Real network-storage servers for tests, started once per session as children we wait on.

Each server runs in a network namespace of its own, joined to this one by a veth pair
on a private /30: its daemons (rpcbind on 111, ganesha on 2049...) never meet another
test run's, and the agents reach it at ``server.address`` as they would a storage host.
Names carry the pid and a random suffix so parallel runs never collide; everything is
removed at the end.
"""

from __future__ import annotations

import ipaddress
import os
import random
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def _ip(*argv: str) -> None:
    subprocess.run(["ip", *argv], check=True, capture_output=True)


def _used_networks() -> set[ipaddress.IPv4Network]:
    out = subprocess.run(["ip", "-o", "-4", "addr"], capture_output=True, text=True).stdout
    return {ipaddress.IPv4Interface(f.split()[3]).network for f in out.splitlines() if f.split()}


@dataclass(frozen=True)
class Namespace:
    name: str
    address: str  # the namespace's side
    gateway: str  # ours

    def argv(self, *command: str) -> list[str]:
        return ["ip", "netns", "exec", self.name, *command]


@contextmanager
def namespace(prefix: str) -> Iterator[Namespace]:
    """A network namespace reachable from here over a veth pair on a free private /30."""
    tag = f"{os.getpid() % 100000}{secrets.token_hex(2)}"
    name, outer, inner = f"vp-{prefix}-{tag}", f"vp{tag}a", f"vp{tag}b"
    used = _used_networks()
    while True:
        second, third, fourth = (
            random.randint(200, 254),
            random.randint(0, 255),
            random.randrange(0, 256, 4),
        )
        net = ipaddress.IPv4Network((f"10.{second}.{third}.{fourth}", 30))
        if not any(net.overlaps(u) for u in used):
            break
    gateway, address = (str(h) for h in net.hosts())
    _ip("netns", "add", name)
    try:
        _ip("link", "add", outer, "type", "veth", "peer", "name", inner, "netns", name)
        _ip("addr", "add", f"{gateway}/30", "dev", outer)
        _ip("link", "set", outer, "up")
        _ip("netns", "exec", name, "ip", "addr", "add", f"{address}/30", "dev", inner)
        _ip("netns", "exec", name, "ip", "link", "set", inner, "up")
        _ip("netns", "exec", name, "ip", "link", "set", "lo", "up")
        yield Namespace(name, address, gateway)
    finally:
        subprocess.run(["ip", "link", "del", outer], capture_output=True)
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


def _stop(proc: subprocess.Popen[bytes], timeout: float = 10) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_until(check: object, what: str, timeout: float = 20) -> None:
    assert callable(check)
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start in {timeout:.0f}s")
        time.sleep(0.05)


# --- NFS: nfs-ganesha (VFS) with its own rpcbind -----------------------------------------

GANESHA_CONF = """\
NFS_CORE_PARAM {{
    Bind_Addr = {address};
    Protocols = 3;
    Enable_NLM = false;
    Enable_RQUOTA = false;
    Mount_Path_Pseudo = true;
}}
NFSV4 {{ Graceless = true; RecoveryRoot = {base}/recovery; }}
EXPORT {{
    Export_Id = 1;
    Path = {base}/export;
    Pseudo = /export;
    Protocols = 3;
    Transports = TCP;
    Access_Type = RW;
    Squash = No_Root_Squash;
    SecType = sys;
    FSAL {{ Name = VFS; }}
}}
LOG {{ Default_Log_Level = WARN; }}
"""

# rpcbind needs its own /run (its socket and lock live there): a private mount namespace.
# The shell starts both daemons, waits on them, and on SIGTERM stops and reaps them.
NFS_SUPERVISOR = """\
mount -t tmpfs tmpfs /run && mkdir -p /run/rpcbind || exit 1
rpcbind -f -w & R=$!
sleep 0.2
ganesha.nfsd -F -f "$1/ganesha.conf" -L "$1/ganesha.log" -p "$1/ganesha.pid" -N NIV_WARN & G=$!
trap 'kill $R $G; wait' TERM
wait
"""


@dataclass
class NfsServer:
    """An NFS export: ``url`` is ZStack's ``server:/export``; ``directory`` is what the
    server serves, for tests to look at the storage directly."""

    address: str
    export: str
    directory: Path
    base: Path
    ns: Namespace
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"{self.address}:{self.export}"

    @property
    def root(self) -> str:
        return f"nfs://{self.address}{self.export}"

    def files(self) -> list[str]:
        """Names on the export (the server's view)."""
        return sorted(
            str(p.relative_to(self.directory)) for p in self.directory.rglob("*") if p.is_file()
        )

    def answers(self) -> bool:
        done = subprocess.run(["nfs-ls", f"{self.root}/"], capture_output=True, timeout=10)
        return done.returncode == 0

    def start(self) -> None:
        log = (self.base / "supervisor.log").open("ab")
        argv = self.ns.argv(
            "unshare", "-m", "--propagation", "private", "sh", "-c", NFS_SUPERVISOR, "sh",
            str(self.base),
        )  # fmt: skip
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()
        _wait_until(self.answers, "nfs-ganesha")

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc)
            self.proc = None


@contextmanager
def nfs_server(base: Path) -> Iterator[NfsServer]:
    for tool in ("ganesha.nfsd", "rpcbind", "nfs-ls", "unshare"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is missing: run .ci/services.sh (make test does)")
    (base / "export").mkdir(parents=True)
    (base / "recovery").mkdir()
    with namespace("nfs") as ns:
        (base / "ganesha.conf").write_text(GANESHA_CONF.format(address=ns.address, base=base))
        server = NfsServer(ns.address, "/export", base / "export", base, ns)
        server.start()
        try:
            yield server
        finally:
            server.stop()
