"""``GET /metrics`` on a live stack: Prometheus text format, computed from the database."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from client import Client, JobFailedError
from client._core import new_job_uuid
from tests.receiver import Receiver
from tests.stack import Stack, new_name, wait_until

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(stack: Stack) -> Samples:
    response = httpx.get(f"{stack.url}/metrics", timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_follow_jobs_webhooks_and_queue(production_stack: Stack) -> None:
    api = Client(production_stack.url)
    api.login("admin", "password")
    before = scrape(production_stack)

    # Given one job that succeeds with a webhook, one that fails, and one held Pending
    with Receiver([200]) as receiver:
        api.call("POST", "/v1/zones", {"params": {"name": new_name("m")}}, webhook=receiver.url)
        receiver.wait_for(1)
    with pytest.raises(JobFailedError):
        api.call("POST", "/v1/debug/sleep", {"params": {"seconds": 0, "failWith": "x"}})
    key = new_job_uuid()
    blocker = api.submit("POST", "/v1/debug/sleep", {"params": {"seconds": 30, "syncOn": key}})
    queued = api.submit("POST", "/v1/debug/sleep", {"params": {"seconds": 0, "syncOn": key}})

    # When Prometheus scrapes (after the webhook attempt was recorded)
    def delivered() -> bool:
        after = scrape(production_stack)
        return value(after, "volplane_webhook_attempts", outcome="delivered") > value(
            before, "volplane_webhook_attempts", outcome="delivered"
        )

    wait_until(delivered, timeout=30, interval=0.2)
    after = scrape(production_stack)
    try:
        # Then jobs by API and outcome grew, durations were observed, and the queue shows
        for api_name, state in (("CreateZone", "Succeeded"), ("DebugSleep", "Failed")):
            assert value(after, "volplane_jobs", api_name=api_name, state=state) > value(
                before, "volplane_jobs", api_name=api_name, state=state
            )
        assert value(after, "volplane_job_duration_seconds_count", api_name="CreateZone") > 0
        assert value(
            after, "volplane_job_duration_seconds_bucket", api_name="CreateZone", le="+Inf"
        ) == value(after, "volplane_job_duration_seconds_count", api_name="CreateZone")
        assert value(after, "volplane_job_queue_depth", state="Pending") >= 1
        assert value(after, "volplane_oldest_pending_job_age_seconds") > 0
        assert value(after, "volplane_webhooks", state="Delivered") >= 1
        page = httpx.get(f"{production_stack.url}/metrics", timeout=30).text
        for family in ("volplane_hosts", "volplane_primary_storage", "volplane_backup_storage"):
            assert f"# TYPE {family} gauge" in page
    finally:
        blocker.cancel()
        queued.wait(timeout=60)


def test_agent_latency_per_host(production_stack: Stack, tmp_path: Path) -> None:
    from tests.agents import running_agent
    from tests.infra import add_host, create_cluster

    admin = production_stack.login()
    with running_agent(tmp_path / "agent") as agent:
        zone = admin.create_zone()
        host = add_host(admin, agent, cluster_uuid=create_cluster(admin, zone["uuid"])["uuid"])
        labels = {"host_uuid": host["uuid"], "host_name": host["name"]}
        # The heartbeat (every second in tests) measures each agent's round trip.
        latency = wait_until(
            lambda: value(scrape(production_stack), "volplane_agent_latency_seconds", **labels),
            timeout=30,
        )
        assert 0 < latency < 10
