"""Services the chaos run owns outright, so it may kill them: a PostgreSQL server of its
own (``initdb`` + ``postgres`` on a free port under a temporary folder, never the
machine's shared server) and a small loop-mounted ext4 filesystem for a pool to fill."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from tests.stack import free_port, wait_until

PG_USER = "postgres"


def _pg_binary(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if found is None:
        raise RuntimeError(f"{name} is not installed (the postgresql package has it)")
    return found


def _as_postgres() -> dict[str, object]:
    """PostgreSQL refuses to run as root: its processes run as the postgres user."""
    if os.geteuid() != 0:
        return {}
    return {"user": PG_USER, "group": PG_USER}


@dataclass
class PrivatePostgres:
    """A PostgreSQL server of the run's own; ``kill``/``pause`` hit only its processes."""

    workdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def data_dir(self) -> Path:
        return self.workdir / "data"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{PG_USER}@127.0.0.1:{self.port}/volplane"

    def init(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.workdir.chmod(0o755)
        if os.geteuid() == 0:
            shutil.chown(self.workdir, PG_USER, PG_USER)
        subprocess.run(
            [_pg_binary("initdb"), "-D", str(self.data_dir), "-U", PG_USER, "--auth=trust"],
            check=True,
            capture_output=True,
            **_as_postgres(),  # type: ignore[call-overload]
        )
        self.start()
        with psycopg.connect(self._admin_dsn(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE volplane")

    def _admin_dsn(self) -> str:
        return f"postgresql://{PG_USER}@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        log = (self.workdir / "postgres.log").open("ab")
        self.process = subprocess.Popen(  # type: ignore[call-overload]
            [
                _pg_binary("postgres"),
                "-D",
                str(self.data_dir),
                "-p",
                str(self.port),
                "-h",
                "127.0.0.1",
                "-k",
                str(self.workdir),
                "-c",
                "max_connections=200",
                "-c",
                "fsync=off",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **_as_postgres(),
        )
        wait_until(self.ready, timeout=30)

    def ready(self) -> bool:
        try:
            with psycopg.connect(self._admin_dsn(), connect_timeout=1):
                return True
        except psycopg.Error:
            return False

    def signal(self, sig: signal.Signals) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, sig)

    def kill(self) -> None:
        """kill -9 of the server and its backends; ``start`` brings it back (recovery)."""
        if self.process is not None:
            self.signal(signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None
            # Backends notice the postmaster's death; the shared memory must be free.
            time.sleep(0.5)

    def stop(self) -> None:
        if self.process is not None:
            self.signal(signal.SIGCONT)
            self.signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
            self.process = None


@dataclass
class LoopFilesystem:
    """A small ext4 filesystem in a file, loop-mounted at ``mount_point`` (root only)."""

    image: Path
    mount_point: Path
    size: int

    def mount(self) -> None:
        if os.geteuid() != 0:
            raise RuntimeError("a loop-mounted filesystem needs root")
        with self.image.open("wb") as f:
            f.truncate(self.size)
        subprocess.run(["mkfs.ext4", "-q", "-F", str(self.image)], check=True, capture_output=True)
        self.mount_point.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["mount", "-o", "loop", str(self.image), str(self.mount_point)],
            check=True,
            capture_output=True,
        )

    def unmount(self) -> None:
        for _ in range(20):
            done = subprocess.run(["umount", str(self.mount_point)], capture_output=True)
            if done.returncode == 0 or not os.path.ismount(self.mount_point):
                break
            time.sleep(0.5)
        else:
            subprocess.run(["umount", "-l", str(self.mount_point)], capture_output=True)
        self.image.unlink(missing_ok=True)

    def fill(self, leave: int) -> Path:
        """A file taking all but ``leave`` bytes of the free space."""
        free = os.statvfs(self.mount_point)
        size = max(0, free.f_bavail * free.f_frsize - leave)
        filler = self.mount_point / "chaos-filler"
        with filler.open("wb") as f:
            if size:
                os.posix_fallocate(f.fileno(), 0, size)
        return filler
