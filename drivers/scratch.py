"""What this agent process is writing right now: its temporaries, held while in use.

Whatever a command makes on the way (a ``.part`` copy, a raw scratch image, a chunk
being written, a GC trash folder, a backup's pin) is *held* here from before it is
created until it is renamed into place or removed. The sweep (``drivers.leftovers``)
removes a temporary only while holding the same lock and only if nobody holds it, so
a live operation never loses a file to it, and whatever a killed agent left behind is
unheld from the start of the next one.

One registry per process: the operations and the chunk-store routes of one agent all
run in it. ``INSTANCE`` names this process in the pins it writes, so that a pin left
by an earlier (killed) run of the agent is known for dead at once.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

INSTANCE = secrets.token_hex(8)

_lock = threading.Lock()
_held: Counter[Path] = Counter()
_stoppers: dict[Path, list[Callable[[], None]]] = {}


def hold(path: Path) -> None:
    with _lock:
        _held[path] += 1


def release(path: Path) -> None:
    with _lock:
        if _held[path] <= 1:
            del _held[path]
        else:
            _held[path] -= 1


def is_held(path: Path) -> bool:
    with _lock:
        return _held[path] > 0


@contextmanager
def holding(*paths: Path, stop: Callable[[], None] | None = None) -> Iterator[None]:
    """Holds ``paths`` for the block: the sweep leaves them alone meanwhile. ``stop``
    asks the holder to stop (``stop_holders``)."""
    for path in paths:
        hold(path)
        if stop is not None:
            with _lock:
                _stoppers.setdefault(path, []).append(stop)
    try:
        yield
    finally:
        for path in paths:
            if stop is not None:
                with _lock:
                    _stoppers[path].remove(stop)
                    if not _stoppers[path]:
                        del _stoppers[path]
            release(path)


def stop_holders(path: Path, timeout: float) -> bool:
    """Asks whoever writes ``path`` to stop and waits until nobody holds it (a delete of
    an image whose copy is still being written: the copy must not land after it)."""
    with _lock:
        stoppers = list(_stoppers.get(path, []))
    for stop in stoppers:
        stop()
    deadline = time.monotonic() + timeout
    while is_held(path):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def remove_unheld(path: Path, remove: Callable[[Path], None]) -> bool:
    """Calls ``remove(path)`` unless a live operation holds it; True if it did.

    The lock stays taken meanwhile, so an operation cannot start holding the path between
    the check and the removal.
    """
    with _lock:
        if _held[path] > 0:
            return False
        remove(path)
        return True
