"""After PostgreSQL drops every connection (a restart, a failover), the gateway's pooled
connections are replaced before they are used: no request fails for them.

The machine's PostgreSQL is shared, so the test does to the stack's database what a
restart does to its clients: every backend of that database is terminated
(``pg_terminate_backend``), and the test waits until they are gone.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import psycopg
from sqlalchemy.engine import make_url

from tests.services import PG_ADMIN_DSN
from tests.stack import Client, Stack, new_name, wait_until
from volplane.passwords import sha512_hex

PARALLEL = 12  # more than one pooled connection of the gateway is stale


def terminate_backends(stack: Stack) -> int:
    database = make_url(stack.env["VOLPLANE_DATABASE_URL"]).database
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        pids = [
            pid
            for (pid,) in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (database,),
            )
        ]
        for pid in pids:
            conn.execute("SELECT pg_terminate_backend(%s)", (pid,))

        def gone() -> bool:
            alive = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", (pids,)
            ).fetchone()
            return alive is not None and alive[0] == 0

        wait_until(gone, timeout=30)
    return len(pids)


def in_parallel(client: Client, path: str) -> list[httpx.Response]:
    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(lambda _: client.get(path), range(PARALLEL)))


def test_every_kind_of_request_succeeds_first_time_after_the_database_drops_connections(
    production_stack: Stack, admin: Client
) -> None:
    # Given a gateway whose pools hold connections of every kind
    warm = admin.call("POST", "/v1/zones", json={"params": {"name": new_name()}})
    assert warm.status_code == 200, warm.text
    assert all(r.status_code == 200 for r in in_parallel(admin, "/v1/zones"))

    # When the database ends every connection
    assert terminate_backends(production_stack) > PARALLEL // 2

    # Then reads, admissions, polls, long-polls and logins all succeed at once
    answers = in_parallel(admin, "/v1/zones")
    assert [r.status_code for r in answers] == [200] * PARALLEL, answers[0].text
    accepted = admin.request("POST", "/v1/zones", json={"params": {"name": new_name()}})
    assert accepted.status_code == 202, accepted.text
    location = accepted.json()["location"]
    poll = admin.http.get(location, headers=admin.headers)
    assert poll.status_code in (200, 202), poll.text
    done = admin.http.get(location + "?waitSeconds=30", headers=admin.headers, timeout=60)
    assert done.status_code == 200, done.text
    login = httpx.put(
        f"{production_stack.url}/v1/accounts/login",
        json={"logInByAccount": {"accountName": "admin", "password": sha512_hex("password")}},
    )
    assert login.status_code == 200, login.text

    # And so does each of them right after another drop (every pool is stale again)
    terminate_backends(production_stack)
    assert admin.get("/v1/api-jobs/" + location.rsplit("/", 1)[1]).status_code == 200
    terminate_backends(production_stack)
    assert admin.call("POST", "/v1/zones", json={"params": {"name": new_name()}}).status_code == 200
    terminate_backends(production_stack)
    again = admin.request("POST", "/v1/zones", json={"params": {"name": new_name()}})
    assert again.status_code == 202, again.text
    terminate_backends(production_stack)
    waited = admin.http.get(
        again.json()["location"] + "?waitSeconds=30", headers=admin.headers, timeout=60
    )
    assert waited.status_code == 200, waited.text
