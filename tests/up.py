"""``volplane up`` as a user runs it: a subprocess whose output the test reads.

up = Up(tmp_path / "var", "--demo")
up.wait_for("Press Ctrl-C")
up.stop()  # Ctrl-C; returns the exit status
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.stack import ROOT, free_port


class Up:
    def __init__(self, data_dir: Path, *args: str, port: int | None = None, **env: str) -> None:
        self.port = port or free_port()
        clean = {k: v for k, v in os.environ.items() if not k.startswith("VOLPLANE_")}
        argv = ["up", "--port", str(self.port), "--data-dir", str(data_dir), *args]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "volplane.cli", *argv],
            env={**clean, **env},
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    def wait_for(self, text: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            if self.proc.poll() is not None:
                self._reader.join(5)
                if text in self.output:
                    return
                raise AssertionError(f"up exited {self.proc.returncode}:\n{self.output}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {text!r} within {timeout}s:\n{self.output}")
            time.sleep(0.1)

    def agent_port(self) -> int:
        found = re.search(r"local agent:\s+http://127\.0\.0\.1:(\d+)", self.output)
        assert found, self.output
        return int(found.group(1))

    def wait(self, timeout: float = 60) -> int:
        code = self.proc.wait(timeout=timeout)
        self._reader.join(5)
        return code

    def children(self) -> dict[str, int]:
        """Its parts by name (gateway, worker, agent) and pid."""
        pids = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        parts = {}
        for pid in pids:
            argv = Path(f"/proc/{pid}/cmdline").read_text().split("\0")
            parts[argv[argv.index("volplane.cli") + 1]] = int(pid)
        return parts

    def stop(self) -> int:
        """Ctrl-C, as a user stops it; its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            return self.wait(timeout=60)
        finally:
            self.kill()

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
