"""Finding the parts each area declares, so adding an area touches no shared file.

Each module of ``api.routes`` may define ``ROUTES`` and ``QUERYABLE``; each module
of ``workers.operations`` may define ``OPERATIONS``.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from types import ModuleType


def modules_of(package_name: str) -> Iterator[ModuleType]:
    package = importlib.import_module(package_name)
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if not info.name.startswith("_"):
            yield importlib.import_module(f"{package_name}.{info.name}")
