"""Backups of volplane's own database (seed 003 data/snapshot/{save,delete,list}).

``SaveDatabaseSnapshot`` writes one consistent copy under
``<data dir>/db-snapshots/``:

- SQLite: the online backup API (``snapshot<unix time>.db``, itself a SQLite file);
- PostgreSQL: ``pg_dump`` when it is installed and works against the server
  (``snapshot<unix time>.sql``); otherwise every table, read in one REPEATABLE READ
  transaction so all rows belong to one moment, one JSON object per row
  (``snapshot<unix time>.jsonl``).

The copy is written to a ``.part`` file and renamed when complete, so a listed
snapshot is always whole. ``DeleteDatabaseSnapshot`` removes one; ``list_snapshots``
is what the gateway answers for data/snapshot/list. Gateways and workers must share
the data directory for the list to show what workers saved (they do in ``volplane
up`` and in the docker-compose set-up).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, select
from sqlalchemy.engine import Connection

from volplane.catalog import dbsnapshot as catalog
from volplane.catalog.dbsnapshot import DeleteDatabaseSnapshot, SaveDatabaseSnapshot
from volplane.db_snapshots import snapshot_dir
from volplane.errors import DriverCommandFailed, ResourceNotFound
from workers.context import JobContext, Runs

PG_DUMP_TIMEOUT = 600


def _free_name(folder: Path, extension: str) -> str:
    stamp = int(time.time())
    name = f"snapshot{stamp}.{extension}"
    n = 0
    while (folder / name).exists() or (folder / f"{name}.part").exists():
        n += 1
        name = f"snapshot{stamp}-{n}.{extension}"
    return name


def _sqlite_backup(engine: Engine, target: Path) -> None:
    raw = engine.raw_connection()
    try:
        source = raw.driver_connection
        assert isinstance(source, sqlite3.Connection)
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()
    finally:
        raw.close()


def _pg_dump(engine: Engine, target: Path) -> bool:
    """True if ``pg_dump`` made the copy; False if it is absent or refused (e.g. a
    server newer than the client), so the caller falls back."""
    binary = shutil.which("pg_dump")
    if binary is None:
        return False
    url = engine.url.set(drivername="postgresql")
    env = {**os.environ}
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    dsn = url.set(password=None).render_as_string(hide_password=False)
    try:
        done = subprocess.run(
            [binary, "--no-owner", "--dbname", dsn, "--file", str(target)],
            capture_output=True,
            text=True,
            timeout=PG_DUMP_TIMEOUT,
            env=env,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _json_dump(connection: Connection, target: Path) -> int:
    """Every table's rows in one transaction; returns the number of rows."""
    metadata = MetaData()
    metadata.reflect(connection)
    rows = 0
    with target.open("w", encoding="utf-8") as out:
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)).mappings():
                out.write(json.dumps({"table": table.name, "row": dict(row)}, default=str))
                out.write("\n")
                rows += 1
    return rows


def save_snapshot(ctx: JobContext, req: SaveDatabaseSnapshot) -> dict[str, Any]:
    engine = ctx.session.get_bind()
    assert isinstance(engine, Engine)
    folder = snapshot_dir(ctx.settings)
    folder.mkdir(parents=True, exist_ok=True)
    ctx.checkpoint()
    method: str
    if engine.dialect.name == "sqlite":
        name = _free_name(folder, "db")
        part = folder / f"{name}.part"
        _sqlite_backup(engine, part)
        method = "sqlite-backup"
    else:
        name = _free_name(folder, "sql")
        part = folder / f"{name}.part"
        if _pg_dump(engine, part):
            method = "pg_dump"
        else:
            part.unlink(missing_ok=True)
            name = _free_name(folder, "jsonl")
            part = folder / f"{name}.part"
            with engine.connect() as connection:
                connection = connection.execution_options(isolation_level="REPEATABLE READ")
                with connection.begin():
                    _json_dump(connection, part)
            method = "repeatable-read-json"
    if not part.exists() or part.stat().st_size == 0:
        part.unlink(missing_ok=True)
        raise DriverCommandFailed(f"the database snapshot {name} came out empty")
    ctx.checkpoint()
    part.rename(folder / name)
    return {
        "inventory": {
            "fileName": name,
            "method": method,
            "size": (folder / name).stat().st_size,
            "path": str(folder / name),
        }
    }


def delete_snapshot(ctx: JobContext, req: DeleteDatabaseSnapshot) -> dict[str, Any]:
    path = snapshot_dir(ctx.settings) / req.fileName
    if not path.is_file():
        raise ResourceNotFound(f"database snapshot {req.fileName} does not exist")
    path.unlink()
    return {}


RUNS: Runs = {
    catalog.SAVE_DATABASE_SNAPSHOT: save_snapshot,
    catalog.DELETE_DATABASE_SNAPSHOT: delete_snapshot,
}
