"""SMB (``samba``) pools: the share mounted in userspace with smbnetfs (FUSE), then a
directory pool on the mount.

smbnetfs runs as the agent's child, one per pool, under a home folder of its own
(``<mount>.home``: its ``smbnetfs.conf`` with the credentials, mode 0600, and the
``smb.conf`` libsmbclient reads). The share appears at ``<mount>/<server>/<share>``.
smbnetfs reports no free space, so capacity is asked of the server (smbclient ``du``).
smbnetfs always dials port 445: a server on another port cannot be reached.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from drivers.backends.directory import DirectoryBackend
from schemas.agent import PoolCapacity
from volplane.errors import DriverCommandFailed, InvalidStoragePath, StorageUnreachable

TOOLS = ("smbnetfs", "fusermount", "smbclient")
MOUNT_SECONDS = 20.0
_SOURCE = re.compile(r"^//(?P<server>[A-Za-z0-9.\-]+)/(?P<share>[A-Za-z0-9._$\-]+)/?$")
_DU = re.compile(r"(\d+) blocks of size (\d+)\. (\d+) blocks available")
_CLIENT_CONF = """\
[global]
  client min protocol = SMB2
  client max protocol = SMB3
  disable netbios = yes
  name resolve order = host
"""

# The smbnetfs processes this agent started, by mount folder.
_mounts: dict[Path, subprocess.Popen[bytes]] = {}
_lock = threading.Lock()


def unsupported_reason() -> str | None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    problems = [f"missing tools: {', '.join(missing)}"] if missing else []
    if not os.path.exists("/dev/fuse"):
        problems.append("/dev/fuse does not exist (no FUSE)")
    return "; ".join(problems) or None


def parse_source(source: str) -> tuple[str, str]:
    found = _SOURCE.match(source.strip())
    if found is None:
        raise InvalidStoragePath(f"{source!r} is not an SMB share like //server/share")
    return found["server"], found["share"]


def parse_du(output: str) -> tuple[int, int]:
    """(total, available) bytes from smbclient's ``du`` answer."""
    found = _DU.search(output)
    if found is None:
        raise DriverCommandFailed(f"smbclient du answered no sizes: {output.strip()[:300]}")
    blocks, size, available = (int(g) for g in found.groups())
    return blocks * size, available * size


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class SmbBackend(DirectoryBackend):
    kind = "samba"
    builds_in_place = False  # smbnetfs refuses ftruncate

    def __init__(self, server: str, share: str, mount_dir: Path, username: str, password: str):
        self.server, self.share = server, share
        self.mount_dir = mount_dir
        self.username, self.password = username, password
        super().__init__(mount_dir / server / share)

    def spec(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "server": self.server,
            "share": self.share,
            "mountDir": str(self.mount_dir),
            "username": self.username,
            "password": self.password,
        }

    @property
    def home(self) -> Path:
        return self.mount_dir.with_name(self.mount_dir.name + ".home")

    def _write_home(self) -> Path:
        smb = self.home / ".smb"
        smb.mkdir(parents=True, exist_ok=True)
        os.chmod(self.home, 0o700)
        (smb / "smb.conf").write_text(_CLIENT_CONF)
        config = smb / "smbnetfs.conf"
        fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(
                f"auth {_quote(self.server)} {_quote(self.username)} {_quote(self.password)}\n"
                'smb_query_browsers "false"\nshow_hidden_hosts "true"\n'
            )
        return config

    def mounted(self) -> bool:
        return os.path.ismount(self.mount_dir) and self.path.is_dir()

    def mount(self) -> PoolCapacity:
        """Mounts the share (if this agent has not already) and reads its capacity."""
        with _lock:
            if not os.path.ismount(self.mount_dir):
                self._start()
        return self.capacity()

    def _start(self) -> None:
        config = self._write_home()
        self.mount_dir.mkdir(parents=True, exist_ok=True)
        log = self.home / "smbnetfs.log"
        # FUSE's default 4 KiB writes make qemu-img 10-20 times slower on the share.
        options = f"config={config},log_file={log},big_writes,max_read={1 << 20}"
        argv = ["smbnetfs", str(self.mount_dir), "-f", "-o", options]
        env = {**os.environ, "HOME": str(self.home)}
        proc = subprocess.Popen(
            argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        _mounts[self.mount_dir] = proc
        deadline = time.monotonic() + MOUNT_SECONDS
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if self.path.is_dir():
                    return
            except OSError:
                pass
            time.sleep(0.1)
        self._stop()
        raise StorageUnreachable(f"SMB share //{self.server}/{self.share} cannot be mounted")

    def _stop(self) -> None:
        subprocess.run(["fusermount", "-u", "-z", str(self.mount_dir)], capture_output=True)
        proc = _mounts.pop(self.mount_dir, None)
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def unmount(self) -> None:
        with _lock:
            self._stop()
        shutil.rmtree(self.home, ignore_errors=True)

    def capacity(self) -> PoolCapacity:
        env = {**os.environ, "PASSWD": self.password}
        argv = ["smbclient", f"//{self.server}/{self.share}", "-U", self.username, "-c", "du"]
        try:
            done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30)
        except subprocess.TimeoutExpired as exc:
            raise StorageUnreachable(f"//{self.server}/{self.share} did not answer") from exc
        if done.returncode != 0:
            raise StorageUnreachable(
                f"//{self.server}/{self.share} answered {done.returncode}: "
                f"{(done.stdout + done.stderr).strip()[:300]}"
            )
        total, available = parse_du(done.stdout)
        return PoolCapacity(root=self.root, total_bytes=total, available_bytes=available)
