"""The agent release: this management node's own code, as one archive to install on hosts.

A release is a zip of volplane's Python packages plus a ``dist-info`` (so the agent's
``importlib.metadata.version("volplane")`` answers on the host). Its id is a digest
of what it holds, so a host runs exactly the management node's code or is redeployed:
the same code always gives the same id, any change gives another. Built once per
process, in memory.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path

PACKAGES = ("volplane", "api", "workers", "drivers", "schemas", "client")
_FIXED_TIME = (2020, 1, 1, 0, 0, 0)  # zip entries carry no real dates: same code, same bytes


@dataclass(frozen=True)
class Release:
    id: str  # "<version>-<digest>"
    version: str
    archive: bytes = b""


def _sources(root: Path) -> list[tuple[str, bytes]]:
    found = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if "__pycache__" not in path.parts:
                found.append((path.relative_to(root).as_posix(), path.read_bytes()))
    return found


def build_release(root: Path) -> Release:
    """The release of the packages under ``root`` (the directory holding ``volplane/``)."""
    files = _sources(root)
    digest = hashlib.sha256()
    for name, data in files:
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    ver = version("volplane")
    release_id = f"{ver}-{digest.hexdigest()[:16]}"
    dist_info = f"volplane-{ver}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: volplane\nVersion: {ver}\n"
    files.append((f"{dist_info}/METADATA", metadata.encode()))
    files.append((f"{dist_info}/RELEASE", release_id.encode()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            entry = zipfile.ZipInfo(name, _FIXED_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, data)
    return Release(id=release_id, version=ver, archive=buffer.getvalue())


@lru_cache(maxsize=1)
def own_release() -> Release:
    """This process's own code as a release."""
    return build_release(Path(__file__).resolve().parent.parent)
