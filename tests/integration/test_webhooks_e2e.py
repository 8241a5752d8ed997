"""Webhooks through the whole stack: a real receiver on loopback gets signed results."""

from __future__ import annotations

import json

from tests.receiver import Receiver
from tests.stack import Client, Stack, new_name
from tests.stack import wait_until as wait
from workers.webhooks import verify


def job_record(client: Client, location: str) -> dict:
    uuid = location.rsplit("/", 1)[1]
    return client.get(f"/v1/api-jobs/{uuid}/inventory").json()["inventories"][0]


def secret_of(client: Client) -> str:
    me = client.get("/v1/accounts").json()["inventories"]
    account = next(a for a in me if a["name"] == "admin") if len(me) > 1 else me[0]
    return client.get(f"/v1/accounts/{account['uuid']}/webhook-secret").json()["secret"]


def test_receiver_gets_signed_result(production_stack: Stack) -> None:
    admin = production_stack.login()
    with Receiver([200]) as receiver:
        accepted = admin.request(
            "POST",
            "/v1/zones",
            json={"params": {"name": new_name()}},
            headers={"X-Web-Hook": receiver.url},
        )
        assert accepted.status_code == 202
        polled = admin.wait(accepted.json()["location"])
        (request,) = receiver.wait_for(1, timeout=20)
    assert json.loads(request.body) == polled.json()
    assert request.headers["x-job-uuid"] == accepted.headers["X-Job-UUID"]
    assert request.headers["x-job-success"] == "true"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"] == f"msg_{accepted.headers['X-Job-UUID']}"
    verify(secret_of(admin), request.headers, request.body)
    record = wait(
        lambda: (
            (r := job_record(admin, accepted.json()["location"]))["webhook"]["state"] == "Delivered"
            and r
        )
    )
    assert record["webhook"]["deliveries"][0]["statusCode"] == 200


def test_failed_job_is_pushed_with_success_false(production_stack: Stack) -> None:
    admin = production_stack.login()
    with Receiver([200]) as receiver:
        accepted = admin.request(
            "POST",
            "/v1/debug/sleep",
            json={"params": {"seconds": 0, "failWith": "VOLPLANE.STORAGE.1001"}},
            headers={"X-Web-Hook": receiver.url},
        )
        (request,) = receiver.wait_for(1, timeout=20)
    assert request.headers["x-job-success"] == "false"
    assert json.loads(request.body)["error"]["code"] == "VOLPLANE.STORAGE.1001"
    assert accepted.status_code == 202


def test_retries_until_the_receiver_answers(production_stack: Stack) -> None:
    admin = production_stack.login()
    with Receiver([500, 503, 200]) as receiver:
        accepted = admin.request(
            "POST",
            "/v1/zones",
            json={"params": {"name": new_name()}},
            headers={"X-Web-Hook": receiver.url},
        )
        requests = receiver.wait_for(3, timeout=40)
        record = wait(
            lambda: (
                (r := job_record(admin, accepted.json()["location"]))["webhook"]["state"]
                == "Delivered"
                and r
            ),
            timeout=40,
        )
    assert [d["statusCode"] for d in record["webhook"]["deliveries"]] == [500, 503, 200]
    # The message id is stable across retries, so receivers can deduplicate.
    assert len({r.headers["webhook-id"] for r in requests}) == 1


def test_410_gone_stops_retries_and_redeliver_sends_again(production_stack: Stack) -> None:
    admin = production_stack.login()
    with Receiver([410, 200]) as receiver:
        accepted = admin.request(
            "POST",
            "/v1/zones",
            json={"params": {"name": new_name()}},
            headers={"X-Web-Hook": receiver.url},
        )
        location = accepted.json()["location"]
        record = wait(
            lambda: (r := job_record(admin, location))["webhook"]["state"] == "GaveUp" and r,
            timeout=30,
        )
        assert [d["statusCode"] for d in record["webhook"]["deliveries"]] == [410]
        assert len(receiver.requests) == 1

        uuid = location.rsplit("/", 1)[1]
        again = admin.request("PUT", f"/v1/api-jobs/{uuid}/actions", json={"redeliverWebhook": {}})
        assert again.status_code == 200
        receiver.wait_for(2, timeout=20)
        record = wait(
            lambda: (r := job_record(admin, location))["webhook"]["state"] == "Delivered" and r,
            timeout=30,
        )
    assert [d["statusCode"] for d in record["webhook"]["deliveries"]] == [410, 200]


def test_ssrf_targets_are_refused_at_submission(production_stack: Stack) -> None:
    admin = production_stack.login()
    for url in (
        "http://169.254.169.254/latest/meta-data",
        "http://[::ffff:169.254.169.254]/x",
        "http://10.0.0.1/hook",
        "http://192.168.1.10/hook",
        "http://user:pw@127.0.0.1/hook",
        "not a url",
    ):
        response = admin.request(
            "POST", "/v1/zones", json={"params": {"name": "x"}}, headers={"X-Web-Hook": url}
        )
        assert response.status_code == 400, url
        assert response.json()["error"]["code"] in {"VOLPLANE.ARG.1005", "VOLPLANE.ARG.1006"}


def test_rotating_the_secret_changes_signatures(production_stack: Stack) -> None:
    admin = production_stack.login()
    account = admin.create_account(new_name("acct"), "pw")
    tenant = production_stack.login(account["name"], "pw")
    old = tenant.get(f"/v1/accounts/{account['uuid']}/webhook-secret").json()["secret"]
    assert old.startswith("whsec_")
    rotated = tenant.call(
        "PUT", f"/v1/accounts/{account['uuid']}/actions", json={"rotateWebhookSecret": {}}
    )
    assert rotated.status_code == 200
    new = rotated.json()["secret"]
    assert new != old
    assert tenant.get(f"/v1/accounts/{account['uuid']}/webhook-secret").json()["secret"] == new
    with Receiver([200]) as receiver:
        tenant.request(
            "POST",
            "/v1/debug/sleep",
            json={"params": {"seconds": 0}},
            headers={"X-Web-Hook": receiver.url},
        )
        (request,) = receiver.wait_for(1, timeout=20)
    verify(new, request.headers, request.body)
    # The job record shows no secret.
    jobs = tenant.get("/v1/api-jobs", params={"q": "apiName=RotateWebhookSecret"}).json()
    assert "whsec_" not in json.dumps(jobs)
