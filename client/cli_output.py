"""How the ``volplane`` client commands print: ``-f table|json|value`` and ``-c FIELD``,
as ``openstack`` does. Tables show whole uuids and sizes in KiB/MiB/GiB; JSON and
``value`` print the raw values, for scripts."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Sequence
from typing import Any

FORMATS = ("table", "json", "value")

# Default table columns, in this order, of whichever a row has.
COLUMNS = (
    "uuid", "name", "apiName", "state", "status", "progress", "type", "size",
    "totalCapacity", "availableCapacity", "primaryStorageUuid", "volumeUuid",
    "managementIp", "createDate",
)  # fmt: skip
SIZE_FIELDS = frozenset(
    {
        "size", "actualSize", "diskSize", "snapshotCapacity", "totalCapacity",
        "availableCapacity", "usedCapacity", "allocatedCapacity", "availablePhysicalCapacity",
        "totalPhysicalCapacity", "storedSize", "virtualSize", "snapshotSize",
    }
)  # fmt: skip


def human_size(value: Any) -> str:
    if not isinstance(value, int) or isinstance(value, bool):
        return cell(value)
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return str(value)


def table_cell(field: str, value: Any) -> str:
    return human_size(value) if field in SIZE_FIELDS else cell(value)


def columns_for(
    rows: Sequence[dict[str, Any]], wanted: Sequence[str], default: Sequence[str]
) -> list[str]:
    if wanted:
        return list(wanted)
    present = [c for c in COLUMNS if any(c in row for row in rows)]
    return present or list(default)


def render(value: Any, fmt: str, wanted: Sequence[str] = (), default: Sequence[str] = ()) -> str:
    """The text to print for a result: a list of rows, one row, or a message."""
    if fmt == "json":
        if wanted:
            value = _only(value, wanted)
        return json.dumps(value, indent=2, sort_keys=True, default=str)
    if isinstance(value, str):
        return value
    if fmt == "value":
        rows = value if isinstance(value, list) else [value]
        lines = []
        for row in rows:
            fields = wanted or list(row)
            lines.append(" ".join(cell(row.get(f)) for f in fields))
        return "\n".join(lines)
    if isinstance(value, list):
        return _list_table(value, columns_for(value, wanted, default))
    if isinstance(value, dict) and value:
        return _row_table(_only(value, wanted) if wanted else value)
    return "done"


def _only(value: Any, wanted: Sequence[str]) -> Any:
    if isinstance(value, list):
        return [{f: row.get(f) for f in wanted} for row in value]
    if isinstance(value, dict):
        return {f: value.get(f) for f in wanted}
    return value


def _console_text(renderable: Any) -> str:
    from rich.console import Console

    # As wide as the table needs: a uuid is never cut, the terminal wraps long lines.
    width = max(shutil.get_terminal_size((200, 24)).columns, 80)
    probe = Console(width=10_000)
    needed = probe.measure(renderable).maximum
    console = Console(width=max(width, needed), record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text().rstrip("\n")


def _list_table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    from rich.table import Table

    table = Table(*columns)
    for row in rows:
        table.add_row(*(table_cell(c, row.get(c)) for c in columns))
    text = _console_text(table)
    return f"{text}\n{len(rows)} item(s)"


def _row_table(row: dict[str, Any]) -> str:
    from rich.table import Table

    table = Table("field", "value", show_header=False)
    for key, item in row.items():
        table.add_row(key, table_cell(key, item))
    return _console_text(table)
