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
import sys
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


# --- SMB: smbd, one per namespace on port 445 (smbnetfs dials no other port) ------------

# smbd forks a process per connection: the supervisor is a subreaper, so those are its
# children once smbd is gone; it stops and reaps every one of them before it ends.
SUBREAPER = """\
import ctypes, os, signal, subprocess, sys, time
ctypes.CDLL(None).prctl(36, 1)  # PR_SET_CHILD_SUBREAPER
main = subprocess.Popen(sys.argv[1:])
signal.signal(signal.SIGTERM, lambda *_: main.terminate())
main.wait()
def children():
    me = str(os.getpid())
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me:
            found.append(int(pid))
    return found
for sig in (signal.SIGTERM, signal.SIGKILL):
    for pid in children():
        os.kill(pid, sig)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            if os.waitpid(-1, os.WNOHANG) == (0, 0):
                time.sleep(0.05)
        except ChildProcessError:
            sys.exit(0)
"""

SMB_CONF = """\
[global]
  server role = standalone server
  interfaces = {address}
  bind interfaces only = yes
  smb ports = 445
  disable netbios = yes
  server min protocol = SMB2
  workgroup = WORKGROUP
  passdb backend = tdbsam:{base}/private/passdb.tdb
  private dir = {base}/private
  state directory = {base}/state
  lock directory = {base}/lock
  cache directory = {base}/cache
  pid directory = {base}/pid
  ncalrpc dir = {base}/state/ncalrpc
  log file = {base}/log/%m.log
  log level = 1
  load printers = no
  printing = bsd
  printcap name = /dev/null
  disable spoolss = yes
  map to guest = Never
[{share}]
  path = {base}/share
  read only = no
  guest ok = no
  valid users = {username}
  force user = root
  create mask = 0644
"""


@dataclass
class SmbServer:
    address: str
    share: str
    username: str
    password: str
    directory: Path
    base: Path
    ns: Namespace
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"//{self.address}/{self.share}"

    def files(self) -> list[str]:
        return sorted(
            str(p.relative_to(self.directory)) for p in self.directory.rglob("*") if p.is_file()
        )

    def answers(self) -> bool:
        argv = ["smbclient", self.url, "-U", self.username, "-c", "ls"]
        env = {**os.environ, "PASSWD": self.password}
        return subprocess.run(argv, env=env, capture_output=True, timeout=10).returncode == 0

    def start(self) -> None:
        log = (self.base / "log" / "supervisor.log").open("ab")
        conf = str(self.base / "smb.conf")
        argv = self.ns.argv(
            sys.executable, "-c", SUBREAPER,
            "smbd", "--foreground", "--no-process-group", "-s", conf,
        )  # fmt: skip
        # A session of its own: smbd signals its whole process group when it stops.
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
        )
        log.close()
        _wait_until(self.answers, "smbd")

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc, timeout=20)
            self.proc = None


@contextmanager
def smb_server(base: Path) -> Iterator[SmbServer]:
    for tool in ("smbd", "smbpasswd", "smbclient"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is missing: run .ci/services.sh (make test does)")
    for folder in ("share", "private", "state", "lock", "cache", "pid", "log"):
        (base / folder).mkdir(parents=True)
    username, password = "root", secrets.token_hex(8)
    with namespace("smb") as ns:
        conf = base / "smb.conf"
        conf.write_text(
            SMB_CONF.format(address=ns.address, base=base, share="volumes", username=username)
        )
        subprocess.run(
            ["smbpasswd", "-c", str(conf), "-s", "-a", username],
            input=f"{password}\n{password}\n".encode(),
            check=True,
            capture_output=True,
        )
        server = SmbServer(ns.address, "volumes", username, password, base / "share", base, ns)
        server.start()
        try:
            yield server
        finally:
            server.stop()
