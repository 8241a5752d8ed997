"""The asynchronous job contract (CONTRACT §2) against a live production-mode stack."""

from __future__ import annotations

import concurrent.futures
import itertools
import time
import uuid

import httpx

from tests.stack import Client, Stack, job_uuid, new_name


def sleep_job(client: Client, seconds: float, **params: object) -> httpx.Response:
    response = client.request(
        "POST", "/v1/debug/sleep", json={"params": {"seconds": seconds, **params}}
    )
    assert response.status_code == 202, response.text
    return response


def wait_for_state(client: Client, location: str, state: str) -> dict:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        response = client.get(location.split(client.stack.url, 1)[1])
        body = response.json()
        if body.get("state") == state:
            return body
        time.sleep(0.05)
    raise AssertionError(f"job never reached {state}")


def test_poll_table(production_stack: Stack) -> None:
    admin = production_stack.login()

    # Pending/Running: 202 with state, progress and Retry-After
    running = sleep_job(admin, 3).json()["location"]
    body = wait_for_state(admin, running, "Running")
    assert set(body) == {"location", "state", "progress"}
    polled = httpx.get(running, headers=admin.headers)
    assert polled.status_code == 202 and polled.headers["Retry-After"] == "1"

    # Succeeded: 200 with the result
    assert admin.wait(running).status_code == 200

    # Failed: 503 with the operation's stable error code
    failed = admin.wait(sleep_job(admin, 0, failWith="VOLPLANE.STORAGE.1001").json()["location"])
    assert failed.status_code == 503
    assert failed.json()["error"]["code"] == "VOLPLANE.STORAGE.1001"
    assert set(failed.json()["error"]) == {
        "code",
        "description",
        "details",
        "elaboration",
        "location",
    }

    # Cancelled: 503 with the cancel code
    slow = sleep_job(admin, 30).json()["location"]
    wait_for_state(admin, slow, "Running")
    cancel = admin.request(
        "PUT", f"/v1/api-jobs/{slow.rsplit('/', 1)[1]}/actions", json={"cancelApiJob": {}}
    )
    assert cancel.status_code == 200 and cancel.json()["inventory"]["cancelRequested"]
    cancelled = admin.wait(slow)
    assert cancelled.status_code == 503
    assert cancelled.json()["error"]["code"] == "VOLPLANE.JOB.1003"

    # Unknown: 404 with an error body
    unknown = admin.get(f"/v1/api-jobs/{job_uuid()}")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "VOLPLANE.JOB.1000"


def test_cancel_pending_job_never_runs(production_stack: Stack) -> None:
    admin = production_stack.login()
    key = job_uuid()
    first = sleep_job(admin, 2, syncOn=key).json()["location"]
    zone_name = new_name("never")
    second = sleep_job(admin, 0, syncOn=key, zoneName=zone_name).json()["location"]
    cancel = admin.request(
        "PUT", f"/v1/api-jobs/{second.rsplit('/', 1)[1]}/actions", json={"cancelApiJob": {}}
    )
    assert cancel.status_code == 200 and cancel.json()["inventory"]["state"] == "Cancelled"
    assert admin.wait(first).status_code == 200
    assert admin.wait(second).status_code == 503
    assert admin.get("/v1/zones", params={"q": f"name={zone_name}"}).json()["inventories"] == []
    again = admin.request(
        "PUT", f"/v1/api-jobs/{second.rsplit('/', 1)[1]}/actions", json={"cancelApiJob": {}}
    )
    assert again.status_code == 409


def test_a_cancel_after_the_work_is_done_is_too_late(production_stack: Stack) -> None:
    """The operation finished its work before it saw the cancel: the job succeeds with
    that work, instead of ending Cancelled with the work (partly) kept."""
    admin = production_stack.login()
    zone_name = new_name()
    location = sleep_job(admin, 1.5, uninterruptible=True, zoneName=zone_name).json()["location"]
    wait_for_state(admin, location, "Running")
    cancel = admin.request(
        "PUT", f"/v1/api-jobs/{location.rsplit('/', 1)[1]}/actions", json={"cancelApiJob": {}}
    )
    assert cancel.status_code == 200 and cancel.json()["inventory"]["cancelRequested"]
    ended = admin.wait(location)
    assert ended.status_code == 200, ended.text
    assert ended.json()["inventory"]["name"] == zone_name
    assert admin.get("/v1/zones", params={"q": f"name={zone_name}"}).json()["inventories"]


def test_long_poll_returns_when_the_job_ends(production_stack: Stack) -> None:
    admin = production_stack.login()
    location = sleep_job(admin, 1).json()["location"]
    started = time.monotonic()
    response = httpx.get(location + "?waitSeconds=30", headers=admin.headers, timeout=40)
    assert response.status_code == 200
    # It answered because the job ended, not because 30 s passed.
    assert time.monotonic() - started < 25
    bad = httpx.get(location + "?waitSeconds=61", headers=admin.headers)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "VOLPLANE.ARG.1002"


def test_x_job_uuid_contract(production_stack: Stack) -> None:
    admin = production_stack.login()
    name = new_name()
    body = {"params": {"name": name}}

    # ZStack checks only that a job uuid is 32 characters: any version, as hex digits.
    for bad in ("not-a-uuid", "d825b1a2-6f4e-474b-8c59-306081920ff2", "z" * 32):
        response = admin.request("POST", "/v1/zones", json=body, headers={"X-Job-UUID": bad})
        assert response.status_code == 400, bad
        assert response.json()["error"]["code"] == "VOLPLANE.ARG.1004"
    for good in (uuid.uuid1().hex, job_uuid().upper()):
        other = {"params": {"name": new_name()}}
        response = admin.request("POST", "/v1/zones", json=other, headers={"X-Job-UUID": good})
        assert response.status_code == 202, good
        assert response.headers["X-Job-UUID"] == good.lower()
        assert admin.wait(response.json()["location"]).status_code == 200

    chosen = job_uuid()
    first = admin.request("POST", "/v1/zones", json=body, headers={"X-Job-UUID": chosen})
    assert first.status_code == 202 and first.headers["X-Job-UUID"] == chosen
    assert admin.wait(first.json()["location"]).status_code == 200

    # A replay is the same job: same answer, no second job (a job is recorded before its
    # 202 answers, so the count is final when the replay answers), so no second zone.
    def jobs_recorded() -> int:
        return int(admin.get("/v1/api-jobs", params={"count": "true"}).json()["total"])

    before = jobs_recorded()
    replay = admin.request("POST", "/v1/zones", json=body, headers={"X-Job-UUID": chosen})
    assert replay.status_code == 202 and replay.json()["location"] == first.json()["location"]
    assert jobs_recorded() == before
    zones = admin.get("/v1/zones", params={"q": f"name={name}"}).json()["inventories"]
    assert len(zones) == 1

    # Same uuid, different request: 422, nothing recorded.
    other = admin.request(
        "POST", "/v1/zones", json={"params": {"name": name + "x"}}, headers={"X-Job-UUID": chosen}
    )
    assert other.status_code == 422 and other.json()["error"]["code"] == "VOLPLANE.JOB.1001"
    assert admin.get("/v1/zones", params={"q": f"name={name}x"}).json()["inventories"] == []

    # Same uuid from another account: 422 too.
    production_stack.login().create_account(name + "-tenant", "pw")
    tenant = production_stack.login(name + "-tenant", "pw")
    stolen = tenant.request(
        "POST", "/v1/debug/sleep", json={"params": {"seconds": 0}}, headers={"X-Job-UUID": chosen}
    )
    assert stolen.status_code == 422


def test_malformed_requests_are_400_and_record_nothing(production_stack: Stack) -> None:
    admin = production_stack.login()
    before = admin.get("/v1/api-jobs", params={"count": "true"}).json()["total"]
    cases = [
        admin.request("POST", "/v1/zones", content=b"{not json"),
        admin.request("POST", "/v1/zones", json={"params": {}}),
        admin.request("POST", "/v1/zones", json={"params": {"name": 5}}),
        admin.request("POST", "/v1/zones", json={"params": {"name": "x", "bogus": 1}}),
        admin.request("POST", "/v1/zones", json=[1, 2]),
        admin.request("POST", "/v1/zones", json={"params": {"name": "nul\u0000"}}),
        admin.request(
            "POST", "/v1/zones", json={"params": {"name": "x", "resourceUuid": "\u0000"}}
        ),
        admin.request("PUT", f"/v1/zones/{job_uuid()}/actions", json={"explodeZone": {}}),
        admin.request(
            "PUT",
            f"/v1/zones/{job_uuid()}/actions",
            json={"changeZoneState": {"stateEvent": "melt"}},
        ),
        admin.request(
            "POST",
            "/v1/zones",
            json={"params": {"name": "x"}},
            headers={"X-Web-Hook": "ftp://example.com/x"},
        ),
    ]
    for response in cases:
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"].startswith("VOLPLANE.ARG.")
    assert admin.get("/v1/api-jobs", params={"count": "true"}).json()["total"] == before


def test_routes_methods_and_auth_errors_are_json(production_stack: Stack) -> None:
    url = production_stack.url
    admin = production_stack.login()
    nowhere = admin.get("/v1/nowhere")
    assert nowhere.status_code == 404 and nowhere.json()["error"]["code"] == "VOLPLANE.ARG.1009"
    wrong = admin.request("PATCH", "/v1/zones")
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "VOLPLANE.ARG.1010"
    assert httpx.get(f"{url}/v1/zones").json()["error"]["code"] == "VOLPLANE.AUTH.1002"
    garbage = httpx.get(f"{url}/v1/zones", headers={"Authorization": "Bearer x"})
    assert garbage.status_code == 401
    unknown = httpx.get(f"{url}/v1/zones", headers={"Authorization": f"OAuth {job_uuid()}"})
    assert unknown.status_code == 401 and unknown.json()["error"]["code"] == "VOLPLANE.AUTH.1003"
    bad_login = httpx.put(
        f"{url}/v1/accounts/login",
        json={"logInByAccount": {"accountName": "admin", "password": "wrong"}},
    )
    assert (
        bad_login.status_code == 401 and bad_login.json()["error"]["code"] == "VOLPLANE.AUTH.1001"
    )
    # The manual's other spelling works too.
    alt = httpx.put(
        f"{url}/v1/accounts/login",
        json={
            "loginByAccount": {
                "accountName": "admin",
                "password": __import__("hashlib").sha512(b"password").hexdigest(),
            }
        },
    )
    assert alt.status_code == 200
    # Logout ends the session.
    out = httpx.delete(f"{url}/v1/accounts/sessions/{admin.session}", headers=admin.headers)
    assert out.status_code == 200
    assert admin.get("/v1/zones").status_code == 401


def test_one_job_at_a_time_per_resource_in_acceptance_order(production_stack: Stack) -> None:
    admin = production_stack.login()
    zone = admin.create_zone()
    path = f"/v1/zones/{zone['uuid']}/actions"
    # Accepted one after another, so the acceptance order is known.
    locations = [
        admin.request("PUT", path, json={"updateZone": {"description": f"d{i}"}}).json()["location"]
        for i in range(8)
    ]
    results = [admin.wait(loc) for loc in locations]
    assert all(r.status_code == 200 for r in results)
    assert admin.get(f"/v1/zones/{zone['uuid']}").json()["inventories"][0]["description"] == "d7"
    jobs = [
        admin.get(f"/v1/api-jobs/{loc.rsplit('/', 1)[1]}/inventory").json()["inventories"][0]
        for loc in locations
    ]
    for earlier, later in itertools.pairwise(jobs):
        assert earlier["finishDate"] <= later["startDate"], (earlier, later)


def test_different_resources_run_in_parallel(production_stack: Stack) -> None:
    admin = production_stack.login()
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        locations = list(pool.map(lambda _: sleep_job(admin, 1.5).json()["location"], range(2)))
    for loc in locations:
        assert admin.wait(loc).status_code == 200
    jobs = [
        admin.get(f"/v1/api-jobs/{loc.rsplit('/', 1)[1]}/inventory").json()["inventories"][0]
        for loc in locations
    ]
    first, second = sorted(jobs, key=lambda j: j["startDate"])
    assert second["startDate"] < first["finishDate"], "the two jobs did not overlap"
