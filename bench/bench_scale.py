"""How cost grows: the job path and the query language as the tables fill up.

One production stack (PostgreSQL, Redis, one worker). The jobs table is filled with
finished jobs to 10 k, 100 k and 1 M rows; at each size admission, polling and
end-to-end latency are measured again. The volume query is measured with 100 k and 1 M
volumes, the pools growing with them so that each answer matches the same number of
rows (what grows is the table, not the answer). Rows go straight into the tables with
``generate_series``: the benchmark is about reading them, not making them.
"""

from __future__ import annotations

import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, create_engine, func, insert, select, update

from bench.bench_query import QUERY
from bench.load import wrk_rate
from bench.results import Result
from bench.stacks import production_stack
from schemas.infra import PrimaryStorage
from schemas.storage import Volume
from schemas.tables import ApiJob

JOB_SIZES = (10_000, 100_000, 1_000_000)
VOLUME_SIZES = (100_000, 1_000_000)
VOLUMES_PER_POOL = 5_000
CONNECTIONS = 32
SECONDS = 5
LATENCY_CALLS = 100
QUERY_CALLS = 40
FLAT = 1.2
GiB = 1 << 30
POOL_TYPE = "local-storage"


BATCH = 20_000


def _count(engine: Engine, table: type[Any]) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _fill_jobs(engine: Engine, account: str, upto: int) -> None:
    """Finished jobs up to ``upto`` rows in all (the ones already there count)."""
    now = datetime.now(UTC)
    for offset in range(_count(engine, ApiJob), upto, BATCH):
        rows = []
        for n in range(offset, min(offset + BATCH, upto)):
            zone = f"{n % 1000:032x}"
            when = now - timedelta(seconds=upto - n)
            rows.append(
                {
                    "uuid": uuid.uuid4().hex,
                    "account_uuid": account,
                    "api_name": "UpdateZone",
                    "request": {},
                    "request_digest": f"{n:064x}",
                    "resource_type": "zone",
                    "resource_uuid": zone,
                    "sync_key": f"zone:{zone}",
                    "state": "Succeeded",
                    "progress": 100,
                    "result": {},
                    "base_url": "http://bench",
                    "attempts": 1,
                    "create_date": when,
                    "start_date": when,
                    "finish_date": when,
                }
            )
        with engine.begin() as conn:
            conn.execute(insert(ApiJob), rows)
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE api_jobs")


def _fill_volumes(engine: Engine, zone: str, account: str, upto: int) -> None:
    """Volumes up to ``upto`` over pools p0, p1, ... of ``VOLUMES_PER_POOL`` each; sizes
    cycle through 0.5 .. 4 GiB, so 3/4 of each pool's volumes are larger than 1 GiB."""
    pools = [f"{p:032x}" for p in range(upto // VOLUMES_PER_POOL)]
    have_pools = _count(engine, PrimaryStorage)
    with engine.begin() as conn:
        conn.execute(
            insert(PrimaryStorage),
            [
                {
                    "uuid": pools[p],
                    "zone_uuid": zone,
                    "name": f"p{p}",
                    "type": POOL_TYPE,
                    "url": f"/bench/p{p}",
                    "mount_path": f"/bench/p{p}",
                }
                for p in range(have_pools, len(pools))
            ],
        )
    start = datetime.now(UTC) - timedelta(days=30)
    for offset in range(_count(engine, Volume), upto, BATCH):
        rows = [
            {
                "uuid": uuid.uuid4().hex,
                "name": f"v{n}",
                "account_uuid": account,
                "primary_storage_uuid": pools[n // VOLUMES_PER_POOL],
                "size": (n % 8 + 1) * GiB // 2,
                "install_path": f"/bench/v{n}.qcow2",
                "create_date": start + timedelta(seconds=n),
            }
            for n in range(offset, min(offset + BATCH, upto))
        ]
        with engine.begin() as conn:
            conn.execute(insert(Volume), rows)
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")


def _latency(http: httpx.Client, url: str, zone: str) -> float:
    latencies = []
    for i in range(LATENCY_CALLS):
        started = time.perf_counter()
        accepted = http.put(
            f"{url}/v1/zones/{zone}/actions", json={"updateZone": {"description": f"d{i}"}}
        )
        done = http.get(accepted.json()["location"] + "?waitSeconds=30")
        assert done.status_code == 200, done.text
        latencies.append((time.perf_counter() - started) * 1000)
    return statistics.median(latencies)


def _query(http: httpx.Client, url: str) -> float:
    latencies = []
    for attempt in range(QUERY_CALLS + 10):
        started = time.perf_counter()
        response = http.get(f"{url}/v1/volumes", params=QUERY)
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, response.text
        assert response.json()["total"] == VOLUMES_PER_POOL * 3 // 4, response.json()["total"]
        if attempt >= 10:
            latencies.append(elapsed)
    return statistics.median(latencies)


def _flat(name: str, unit: str, by_size: dict[int, float], *, higher_is_better: bool) -> Result:
    smallest, largest = min(by_size), max(by_size)
    growth = (
        by_size[smallest] / by_size[largest]
        if higher_is_better
        else by_size[largest] / by_size[smallest]
    )
    shown = ", ".join(f"{size:,} rows: {value:,.1f} {unit}" for size, value in by_size.items())
    return Result(
        name,
        by_size[largest],
        unit,
        by_size[smallest],
        f"same at {smallest:,} rows",
        growth,
        f"cost at {largest:,} ÷ cost at {smallest:,} ≤ {FLAT}",
        growth <= FLAT,
        note=shown,
        series={str(size): value for size, value in by_size.items()},
    )


def run(workdir: Path) -> list[Result]:
    admission: dict[int, float] = {}
    poll: dict[int, float] = {}
    latency: dict[int, float] = {}
    query: dict[int, float] = {}
    with production_stack(workdir / "scale", workers=1) as stack:
        engine = create_engine(stack.env["VOLPLANE_DATABASE_URL"])
        admin = stack.login()
        zone = admin.create_zone("bench-zone")["uuid"]
        account = admin.get("/v1/accounts").json()["inventories"][0]["uuid"]
        auth = {"Authorization": f"OAuth {admin.session}"}
        location = admin.request(
            "PUT", f"/v1/zones/{zone}/actions", json={"updateZone": {"name": "b"}}
        ).json()["location"]
        assert admin.wait(location).status_code == 200
        with httpx.Client(headers=auth, timeout=60) as http:
            for size in JOB_SIZES:
                _fill_jobs(engine, account, size)
                poll[size] = wrk_rate(
                    location, headers=auth, connections=CONNECTIONS, seconds=SECONDS
                )
                latency[size] = _latency(http, stack.url, zone)
                # Admission without a worker competing for the two cores; what it
                # accepted is then marked finished, so the table holds what it says.
                stack.kill("worker0")
                admission[size] = wrk_rate(
                    f"{stack.url}/v1/zones",
                    method="POST",
                    body='{"params":{"name":"bench"}}',
                    headers={**auth, "Content-Type": "application/json"},
                    connections=CONNECTIONS,
                    seconds=SECONDS,
                )
                with engine.begin() as conn:
                    conn.execute(
                        update(ApiJob)
                        .where(ApiJob.state.in_(["Pending", "Running"]))
                        .values(state="Cancelled", finish_date=datetime.now(UTC))
                    )
                stack.start_worker("worker0")
            for size in VOLUME_SIZES:
                _fill_volumes(engine, zone, account, size)
                query[size] = _query(http, stack.url)
        engine.dispose()
    return [
        _flat("scale: admission POST /v1/zones", "req/s", admission, higher_is_better=True),
        _flat("scale: poll of a finished job", "req/s", poll, higher_is_better=True),
        _flat("scale: end to end updateZone, median", "ms", latency, higher_is_better=False),
        _flat(
            "scale: volume query (100k → 1M volumes), median", "ms", query, higher_is_better=False
        ),
    ]
