"""Directory pools: ``local-storage``, ``smp``, and mounts the agent made (``disk``).

Names are local paths, checked after resolving symlinks (``drivers.local_dir``).
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from drivers import leftovers, local_dir
from drivers.durable import durable_replace, writing_behind
from schemas.agent import PoolCapacity, PoolFile
from volplane.errors import InvalidStoragePath


class DirectoryBackend:
    kind = "directory"
    builds_in_place = True

    def __init__(self, root: Path) -> None:
        self.path = Path(os.path.realpath(root))
        self.root = str(self.path)

    def spec(self) -> dict[str, Any]:
        return {"kind": self.kind, "root": self.root}

    def resolve(self, path: str) -> str:
        return str(local_dir.resolve_inside(path, [self.path]))

    def exists(self, path: str) -> bool:
        return os.path.lexists(path)

    def is_file(self, path: str) -> bool:
        return os.path.isfile(path)

    def remove(self, path: str) -> bool:
        if os.path.isdir(path):
            raise InvalidStoragePath(f"{path} is a directory")
        try:
            os.unlink(path)
        except FileNotFoundError:
            return False
        return True

    def rename(self, src: str, dst: str) -> None:
        os.replace(src, dst)

    def finish(self, part: str, dst: str) -> None:
        durable_replace(Path(part), Path(dst))

    def writing_behind(self, path: str) -> AbstractContextManager[object]:
        return writing_behind(Path(path))

    def capacity(self) -> PoolCapacity:
        found = local_dir.capacity(self.path)
        return found.model_copy(update={"scratch_bytes": leftovers.scratch_bytes(self.path)})

    def files(self) -> list[PoolFile]:
        return local_dir.list_files(self.path)

    def local_path(self, path: str) -> Path | None:
        return Path(path)
