"""Where database snapshots are kept and which files are complete ones.

Read by the gateway (listing) and the workers (saving, deleting, pruning).
"""

from __future__ import annotations

import re
from pathlib import Path

from volplane.settings import Settings

SNAPSHOT_NAME = r"^snapshot[0-9]{1,20}(-[0-9]{1,4})?\.(db|sql|jsonl)$"
_NAME = re.compile(SNAPSHOT_NAME)


def snapshot_dir(settings: Settings) -> Path:
    return settings.data_dir / "db-snapshots"


def list_snapshots(settings: Settings) -> list[str]:
    """Names of complete snapshots, oldest first."""
    folder = snapshot_dir(settings)
    if not folder.is_dir():
        return []
    names = [p.name for p in folder.iterdir() if _NAME.match(p.name) and p.is_file()]
    return sorted(names, key=lambda n: (int(re.findall(r"[0-9]+", n)[0]), n))
