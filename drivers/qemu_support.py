"""What the installed qemu-img supports (a leaf: the facts and the storage backends ask it)."""

from __future__ import annotations

import re
import subprocess


def qemu_protocols(binary: str = "qemu-img") -> frozenset[str]:
    """The formats and protocols qemu-img lists (``nfs``, ``rbd``, ``iscsi``...)."""
    try:
        out = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return frozenset()
    found = re.search(r"^Supported formats:(.*)$", out.stdout, re.MULTILINE)
    return frozenset(found.group(1).split()) if found else frozenset()
