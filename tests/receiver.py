"""A real HTTP receiver for webhook tests: a loopback port served from a thread.

It answers each request with the next entry of a script and records what it got::

    with Receiver([500, 500, 200]) as receiver:
        ...POST to receiver.url...
        assert [r.status for r in receiver.requests] == [500, 500, 200]

When the script runs out its last entry repeats, so ``Receiver([410])`` always says Gone.
An entry is a status code or a :class:`Reply` (see :func:`redirect` and :func:`slow`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


@dataclass(frozen=True)
class Reply:
    """One scripted answer; ``delay`` seconds pass before the status line is sent."""

    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    delay: float = 0.0


def redirect(location: str, status: int = 302) -> Reply:
    return Reply(status=status, headers=(("Location", location),))


def slow(seconds: float, status: int = 200) -> Reply:
    return Reply(status=status, delay=seconds)


@dataclass(frozen=True)
class RecordedRequest:
    """What arrived; header names are lower-cased (HTTP header names are case-insensitive)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int = field(default=0)  # the status it was answered with


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a slow handler must not keep the test process alive
    receiver: Receiver


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        reply = self.server.receiver._record(self.command, self.path, headers, body)
        if reply.delay and self.server.receiver._stopping.wait(reply.delay):
            return
        try:
            self.send_response(reply.status)
            for name, value in reply.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(reply.body)
        except OSError:
            pass  # the client gave up (timeout tests); nothing to answer

    do_POST = do_GET = do_PUT = do_DELETE = _handle

    def log_message(self, format: str, *args: Any) -> None:
        pass


class Receiver:
    """A scripted HTTP server on 127.0.0.1 (a free port), started by ``with`` or :meth:`start`."""

    def __init__(self, script: Sequence[int | Reply] = (200,), *, host: str = "127.0.0.1") -> None:
        if not script:
            raise ValueError("the script needs at least one answer")
        self._script = [entry if isinstance(entry, Reply) else Reply(entry) for entry in script]
        self._host = host
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the receiver is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>/hook``."""
        return self.url_for("/hook")

    def url_for(self, path: str = "/", *, host: str | None = None) -> str:
        return f"http://{host or self._host}:{self.port}{path}"

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """The first ``count`` requests, waiting up to ``timeout`` seconds for them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            received = self.requests
            if len(received) >= count:
                return received[:count]
            time.sleep(0.01)
        raise AssertionError(f"expected {count} requests, got {len(self.requests)}")

    def start(self) -> Receiver:
        server = _Server((self._host, 0), _Handler)
        server.receiver = self
        self._server = server
        # A short poll interval keeps stop() (which waits for the loop to notice) quick.
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name="receiver", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes slow replies
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _record(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        with self._lock:
            index = min(len(self._requests), len(self._script) - 1)
            reply = self._script[index]
            self._requests.append(RecordedRequest(method, path, headers, body, reply.status))
            return reply
