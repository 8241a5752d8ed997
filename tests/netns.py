"""Test hosts on a real network: Linux network namespaces on a bridge.

    with network_hosts(3, tmp_path) as net:
        host = net.hosts[0]
        host.address            # its own private address, e.g. 10.173.42.11
        host.password           # root's password for ssh on that host
        host.run("qemu-img", "--version")   # runs inside the host
        host.link_down(); host.link_up()    # cut and restore its cable
        host.kill(); host.start()           # the whole host dies / boots again

Each host is a network namespace with a veth into one bridge, its own mount, UTS
(hostname) and PID namespaces, and Debian's ``sshd`` as its main process (a child of
the test, through ``tests/netns_init.py`` which reaps what the host orphans). The
host's root password and ``/root/.ssh`` are private to it (a private ``/etc/shadow``
and ``/root/.ssh`` are bind-mounted), so nothing of this machine's accounts changes.
``private_dirs`` are paths that exist on every host but hold each host's own files
(``net.private_root`` always is one): what one host writes there the others do not
see, as on separate machines. The root namespace reaches every host through the
bridge's address.

Names (namespaces, bridge, veths) carry a random suffix, and the subnet is a random
free ``10.x.y.0/24``, so parallel runs never collide; everything is removed on exit.
"""

from __future__ import annotations

import ipaddress
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

INIT = Path(__file__).resolve().parent / "netns_init.py"
SSHD = "/usr/sbin/sshd"
SFTP_SERVER = "/usr/lib/openssh/sftp-server"


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], check=check, capture_output=True, text=True)


def _free_subnet() -> ipaddress.IPv4Network:
    """A random 10.x.y.0/24 no route of this machine overlaps."""
    routes = _ip("-4", "route", "show", "table", "all").stdout
    used = []
    for line in routes.splitlines():
        word = line.split()[0] if line.split() else ""
        if word in ("local", "broadcast"):
            word = line.split()[1]
        try:
            used.append(ipaddress.ip_network(word, strict=False))
        except ValueError:
            continue
    for _ in range(100):
        net = ipaddress.ip_network(f"10.{random.randint(100, 250)}.{random.randint(0, 255)}.0/24")
        if not any(net.overlaps(other) for other in used if other.prefixlen > 0):
            return net
    raise RuntimeError("no free 10.x.y.0/24 subnet found")


def _password_hash(password: str) -> str:
    done = subprocess.run(
        ["openssl", "passwd", "-6", "-stdin"],
        input=password,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


@dataclass
class NetHost:
    """One namespaced host; ``start``/``kill`` may be repeated (its files stay)."""

    name: str
    netns: str
    veth: str
    address: str
    prefixlen: int
    workdir: Path
    password: str
    private_dirs: tuple[Path, ...]
    ssh_port: int = 22
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def private_path(self, path: Path | str) -> Path:
        """Where, seen from the root namespace, this host keeps ``path`` (a path under
        one of the private dirs)."""
        path = Path(path)
        for index, root in enumerate(self.private_dirs):
            if path == root or root in path.parents:
                return self.workdir / f"private-{index}" / path.relative_to(root)
        raise ValueError(f"{path} is not under a private dir of {self.name}")

    def _prepare(self) -> list[str]:
        """Writes the host's keys, sshd config, shadow and private dirs; the binds."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        key = self.workdir / "ssh_host_ed25519_key"
        if not key.exists():
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True
            )
        shadow = self.workdir / "shadow"
        hashed = _password_hash(self.password)
        lines = []
        for line in Path("/etc/shadow").read_text().splitlines():
            parts = line.split(":")
            if parts[0] == "root":
                parts[1] = hashed
            lines.append(":".join(parts))
        shadow.write_text("\n".join(lines) + "\n")
        shadow.chmod(0o640)
        root_ssh = self.workdir / "root-ssh"
        root_ssh.mkdir(mode=0o700, exist_ok=True)
        (self.workdir / "sshd_config").write_text(
            "\n".join(
                [
                    f"ListenAddress {self.address}:{self.ssh_port}",
                    f"HostKey {key}",
                    f"PidFile {self.workdir / 'sshd.pid'}",
                    "PermitRootLogin yes",
                    "PasswordAuthentication yes",
                    "KbdInteractiveAuthentication no",
                    "UsePAM no",
                    "StrictModes no",
                    "UseDNS no",
                    "MaxStartups 100",
                    "AuthorizedKeysFile .ssh/authorized_keys",
                    f"Subsystem sftp {SFTP_SERVER}",
                    "",
                ]
            )
        )
        binds = [f"{shadow}:/etc/shadow", f"{root_ssh}:/root/.ssh"]
        for index, target in enumerate(self.private_dirs):
            source = self.workdir / f"private-{index}"
            source.mkdir(exist_ok=True)
            binds.append(f"{source}:{target}")
        return binds

    def start(self, timeout: float = 20.0) -> None:
        """Boots the host: its PID namespace with sshd, answering on port 22."""
        if self.running:
            raise RuntimeError(f"{self.name} already running")
        binds = self._prepare()
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege-separation dir
        self._log = (self.workdir / "sshd.log").open("ab")
        command = ["ip", "netns", "exec", self.netns]
        command += ["unshare", "--pid", "--uts", "--fork", "--mount-proc", "--kill-child", "--"]
        command += [sys.executable, str(INIT), "--hostname", self.netns]
        for bind in binds:
            command += ["--bind", bind]
        command += ["--", SSHD, "-D", "-e", "-f", str(self.workdir / "sshd_config")]
        self._proc = subprocess.Popen(
            command, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"{self.name} did not boot:\n{self.log()}")
            try:
                with socket.create_connection((self.address, self.ssh_port), timeout=0.5) as s:
                    if s.recv(4).startswith(b"SSH"):
                        return
            except OSError:
                time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"{self.name}'s sshd not up within {timeout}s:\n{self.log()}")

    def kill(self) -> None:
        """The host dies at once: every process in it (sshd, agents) is killed."""
        if self._proc is not None:
            if self._proc.poll() is None:
                # unshare --kill-child: its death SIGKILLs the host's PID 1, and with it
                # everything in the PID namespace.
                self._proc.send_signal(signal.SIGKILL)
            self._proc.wait(timeout=30)
            self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    @property
    def init_pid(self) -> int:
        """The host's PID 1, as the root namespace numbers it."""
        assert self._proc is not None
        children = Path(f"/proc/{self._proc.pid}/task/{self._proc.pid}/children").read_text()
        return int(children.split()[0])

    def run(
        self, *command: str, check: bool = True, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """Runs ``command`` inside the host (its network, mounts and processes)."""
        enter = ["nsenter", "-t", str(self.init_pid), "-n", "-m", "-p", "-u", "--"]
        return subprocess.run(
            [*enter, *command], check=check, capture_output=True, text=True, timeout=timeout
        )

    def link_down(self) -> None:
        """Cuts the host's cable (its veth on the bridge side)."""
        _ip("link", "set", self.veth, "down")

    def link_up(self) -> None:
        _ip("link", "set", self.veth, "up")

    def log(self) -> str:
        path = self.workdir / "sshd.log"
        return path.read_text(errors="replace") if path.exists() else ""


@dataclass
class NetHosts:
    """The bridge and its hosts."""

    bridge: str
    subnet: ipaddress.IPv4Network
    gateway: str  # the root namespace's address on the bridge
    private_root: Path  # a private dir every host has
    hosts: list[NetHost]

    def __getitem__(self, index: int) -> NetHost:
        return self.hosts[index]

    def __len__(self) -> int:
        return len(self.hosts)


def _remove(bridge: str, hosts: Sequence[NetHost]) -> None:
    for host in hosts:
        host.kill()
        _ip("netns", "del", host.netns, check=False)
        _ip("link", "del", host.veth, check=False)
    _ip("link", "del", bridge, check=False)


@contextmanager
def network_hosts(
    count: int,
    base_dir: Path,
    *,
    private_dirs: Sequence[Path] = (),
    password: str | None = None,
) -> Iterator[NetHosts]:
    """``count`` booted hosts on a fresh bridge; all of it removed on exit."""
    suffix = f"{os.getpid() % 10000:04d}{secrets.token_hex(2)}"
    bridge = f"vpb{suffix}"
    subnet = _free_subnet()
    addresses = list(subnet.hosts())
    gateway = str(addresses[0])
    private_root = base_dir / "private"
    private_root.mkdir(parents=True, exist_ok=True)
    privates = (private_root, *(Path(p) for p in private_dirs))
    hosts: list[NetHost] = []
    try:
        _ip("link", "add", bridge, "type", "bridge")
        _ip("addr", "add", f"{gateway}/{subnet.prefixlen}", "dev", bridge)
        _ip("link", "set", bridge, "up")
        for index in range(count):
            host = NetHost(
                name=f"h{index + 1}",
                netns=f"vp-{suffix}-h{index + 1}",
                veth=f"vpv{suffix}{index + 1}",
                address=str(addresses[10 + index]),
                prefixlen=subnet.prefixlen,
                workdir=base_dir / f"h{index + 1}",
                password=password or secrets.token_urlsafe(12),
                private_dirs=privates,
            )
            hosts.append(host)
            _ip("netns", "add", host.netns)
            _ip(
                "link",
                "add",
                host.veth,
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                host.netns,
            )
            _ip("link", "set", host.veth, "master", bridge, "up")
            inside = ["ip", "netns", "exec", host.netns, "ip"]
            subprocess.run(
                [*inside, "addr", "add", f"{host.address}/{subnet.prefixlen}", "dev", "eth0"],
                check=True,
            )
            subprocess.run([*inside, "link", "set", "eth0", "up"], check=True)
            subprocess.run([*inside, "link", "set", "lo", "up"], check=True)
        for host in hosts:
            host.start()
        yield NetHosts(bridge, subnet, gateway, private_root, hosts)
    finally:
        _remove(bridge, hosts)
        shutil.rmtree(base_dir / "private", ignore_errors=True)
