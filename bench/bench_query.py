"""The query language at scale (issue 6): 100,000 volumes over 20 pools, PostgreSQL."""

from __future__ import annotations

import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine, insert

from bench.results import Result
from bench.stacks import production_stack
from schemas.infra import PrimaryStorage
from schemas.storage import Volume

VOLUMES = 100_000
POOLS = 20
GiB = 1 << 30
QUERY = {
    "q": ["primaryStorage.name=p7", "size>1073741824"],
    "sort": "-createDate",
    "limit": "50",
    "replyWithCount": "true",
}


def seed(database_url: str, zone_uuid: str, account_uuid: str) -> None:
    """Rows straight into the tables: the benchmark is about reading them."""
    engine = create_engine(database_url)
    start = datetime.now(UTC) - timedelta(days=30)
    pools = [uuid.uuid4().hex for _ in range(POOLS)]
    with engine.begin() as conn:
        conn.execute(
            insert(PrimaryStorage),
            [
                {
                    "uuid": p,
                    "zone_uuid": zone_uuid,
                    "name": f"p{i}",
                    "type": "local-storage",
                    "url": f"/bench/p{i}",
                    "mount_path": f"/bench/p{i}",
                }
                for i, p in enumerate(pools)
            ],
        )
        for offset in range(0, VOLUMES, 10_000):
            conn.execute(
                insert(Volume),
                [
                    {
                        "uuid": uuid.uuid4().hex,
                        "name": f"v{n}",
                        "account_uuid": account_uuid,
                        "primary_storage_uuid": pools[n % POOLS],
                        "size": ((n // POOLS) % 8 + 1) * GiB // 2,
                        "install_path": f"/bench/v{n}.qcow2",
                        "create_date": start + timedelta(seconds=n),
                    }
                    for n in range(offset, offset + 10_000)
                ],
            )
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()


def run(workdir: Path) -> list[Result]:
    with production_stack(workdir / "query", workers=1) as stack:
        admin = stack.login()
        zone = admin.create_zone("bench-zone")
        account = admin.get("/v1/accounts").json()["inventories"][0]["uuid"]
        seed(stack.env["VOLPLANE_DATABASE_URL"], zone["uuid"], account)
        latencies = []
        with httpx.Client(headers=admin.headers, timeout=30) as http:
            for attempt in range(60):
                started = time.perf_counter()
                response = http.get(f"{stack.url}/v1/volumes", params=QUERY)
                elapsed = (time.perf_counter() - started) * 1000
                assert response.status_code == 200, response.text
                body = response.json()
                assert len(body["inventories"]) == 50 and body["total"] == 3750, body["total"]
                if attempt >= 10:  # the first calls warm caches
                    latencies.append(elapsed)
    median = statistics.median(latencies)
    return [
        Result(
            "query: 100k volumes, primaryStorage.name + size + sort + count, median",
            median,
            "ms",
            goal="< 50 ms",
            met=median < 50,
            note="q=primaryStorage.name=p7&q=size>1073741824&sort=-createDate&limit=50&"
            f"replyWithCount=true through the gateway, {len(latencies)} calls after 10 warm-up.",
        )
    ]
