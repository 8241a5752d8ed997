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
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

INSTANCE = secrets.token_hex(8)

_lock = threading.Lock()
_held: Counter[Path] = Counter()


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
def holding(*paths: Path) -> Iterator[None]:
    """Holds ``paths`` for the block: the sweep leaves them alone meanwhile."""
    for path in paths:
        hold(path)
    try:
        yield
    finally:
        for path in paths:
            release(path)


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
