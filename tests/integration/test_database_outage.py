"""A database outage is mapped once, at the store's edge (``volplane/db.py``), and each
dialect answers it in its own shape from its own error handlers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest

from tests.services import PG_ADMIN_DSN
from tests.stack import Stack, job_uuid

pytestmark = pytest.mark.integration

UNAVAILABLE = "VOLPLANE.SYS.1001"


@contextmanager
def database_down(database: str) -> Iterator[None]:
    """The database refuses new connections and its open ones are cut."""
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            (database,),
        )
    try:
        yield
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')


def test_each_dialect_answers_a_database_outage_in_its_own_shape(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack("production", workers=0, beat=False)
    database = urlsplit(stack.env["VOLPLANE_DATABASE_URL"]).path.lstrip("/")
    admin = stack.login()
    project = admin.get("/v1/accounts").json()["inventories"][0]["uuid"]
    token = {"X-Auth-Token": admin.session, "OpenStack-API-Version": "volume 3.8"}

    with database_down(database):
        zstack = admin.get("/v1/zones")
        share = admin.get("/v1/cluster/list")
        cinder = httpx.get(f"{stack.url}/v3/{project}/volumes/{job_uuid()}", headers=token)

    assert zstack.status_code == 503, zstack.text
    assert zstack.json()["error"]["code"] == UNAVAILABLE
    assert share.status_code == 503, share.text
    assert share.json()["desc"] == UNAVAILABLE and share.json()["scode"] == 11001
    assert cinder.status_code == 503, cinder.text
    assert cinder.json()["serviceUnavailable"]["code"] == 503
    # And once the database is back, every dialect answers again
    assert admin.get("/v1/zones").status_code == 200
