"""What a pool type is to the agent: how it reaches the storage and handles whole files.

qemu-img opens every image itself, by a name that is also the volume's install path:
a local path for directory pools, an ``nfs://`` URL for NFS pools. A backend adds what
qemu-img does not do: whether a name exists, removing and renaming, putting a finished
copy in place durably, listing the pool and reading its capacity from the storage.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

from schemas.agent import PoolCapacity, PoolFile


class PoolBackend(Protocol):
    kind: str
    root: str  # the prefix of every name in the pool (a directory or a URL)
    # The agent may build files in the pool itself (sparse files, writes at any offset);
    # otherwise it stages them in a local scratch folder first.
    builds_in_place: bool

    def spec(self) -> dict[str, Any]:
        """What the agent keeps (``pools.json``) to serve the pool after a restart."""
        ...

    def resolve(self, path: str) -> str:
        """The canonical name of ``path`` if it lies strictly inside the pool, else
        ``InvalidStoragePath``."""
        ...

    def exists(self, path: str) -> bool: ...

    def is_file(self, path: str) -> bool: ...

    def remove(self, path: str) -> bool:
        """Removes a file; True if it existed."""
        ...

    def rename(self, src: str, dst: str) -> None: ...

    def finish(self, part: str, dst: str) -> None:
        """Puts a completely written ``part`` in place as ``dst``, durably."""
        ...

    def writing_behind(self, path: str) -> AbstractContextManager[object]:
        """Held while another process writes ``path`` (local disks flush behind it)."""
        ...

    def capacity(self) -> PoolCapacity: ...

    def files(self) -> list[PoolFile]:
        """Regular files of the pool, by name relative to its root."""
        ...

    def local_path(self, path: str) -> Path | None:
        """The file as a local path where the agent can read it directly, else None."""
        ...
