"""Prometheus metrics, computed from the database when scraped.

Workers and gateways are separate processes (often machines); the job table is the one
place that sees all of them, so every job and webhook metric is read from it at scrape
time instead of being counted in process memory. Counts cover the jobs still retained
(``job_retention_seconds``), which is why they are gauges, not counters.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from schemas.tables import utcnow
from volplane.jobs import UNFINISHED_STATES
from volplane.store.observe import Stats

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)


class DatabaseCollector(Collector):
    """Collects every metric from one set of SQL queries per scrape."""

    def __init__(self, stats: Stats) -> None:
        self.stats = stats

    def collect(self) -> Iterator[Metric]:
        jobs = self.stats.jobs(DURATION_BUCKETS)

        by_outcome = GaugeMetricFamily(
            "volplane_jobs",
            "Retained jobs by API and state (outcome once ended).",
            labels=["api_name", "state"],
        )
        depth = {state: 0 for state in UNFINISHED_STATES}
        for api_name, state, count in jobs.by_api_and_state:
            by_outcome.add_metric([api_name, state], count)
            if state in depth:
                depth[state] += count
        yield by_outcome

        queue = GaugeMetricFamily(
            "volplane_job_queue_depth", "Jobs not yet ended, by state.", labels=["state"]
        )
        for state, count in depth.items():
            queue.add_metric([state], count)
        yield queue

        oldest = GaugeMetricFamily(
            "volplane_oldest_pending_job_age_seconds",
            "Age of the oldest Pending job; 0 when none is pending.",
        )
        age = 0.0
        if jobs.oldest_pending is not None:
            age = max(0.0, (utcnow() - jobs.oldest_pending).total_seconds())
        oldest.add_metric([], age)
        yield oldest

        duration = HistogramMetricFamily(
            "volplane_job_duration_seconds",
            "Run time of ended jobs (start to finish), by API.",
            labels=["api_name"],
        )
        for api_name, cumulative in jobs.duration_buckets.items():
            count, total = jobs.duration_sums[api_name]
            buckets: list[tuple[str, float]] = [
                (_bound(bound), n) for bound, n in zip(DURATION_BUCKETS, cumulative, strict=True)
            ]
            buckets.append(("+Inf", count))
            duration.add_metric([api_name], buckets, sum_value=total)
        yield duration

        attempts = GaugeMetricFamily(
            "volplane_webhook_attempts",
            "Webhook delivery attempts of retained jobs, by outcome "
            "(delivered: 2xx, rejected: other status, error: no answer or refused).",
            labels=["outcome"],
        )
        for outcome in ("delivered", "rejected", "error"):
            attempts.add_metric([outcome], dict(jobs.webhook_attempts).get(outcome, 0))
        yield attempts

        webhooks = GaugeMetricFamily(
            "volplane_webhooks", "Jobs with a webhook, by delivery state.", labels=["state"]
        )
        for state, count in jobs.webhooks_by_state:
            webhooks.add_metric([state], count)
        yield webhooks

        yield from self._infrastructure()

    def _infrastructure(self) -> Iterator[Metric]:
        latency = GaugeMetricFamily(
            "volplane_agent_latency_seconds",
            "Round trip of the last heartbeat call to each host's agent.",
            labels=["host_uuid", "host_name"],
        )
        for host_uuid, name, millis in self.stats.agent_latencies():
            latency.add_metric([host_uuid, name], millis / 1000)
        yield latency
        tables = _infrastructure_tables()
        for name, table, help_text in tables:
            family = GaugeMetricFamily(name, help_text, labels=["status", "state"])
            for (status, state), count in self.stats.count_by(table, "status", "state"):
                family.add_metric([status, state], count)
            yield family


def _infrastructure_tables() -> list[tuple[str, Any, str]]:
    from schemas.infra import BackupStorage, Host, PrimaryStorage

    return [
        ("volplane_hosts", Host, "Hosts by connection status and admin state."),
        ("volplane_primary_storage", PrimaryStorage, "Pools by status and admin state."),
        ("volplane_backup_storage", BackupStorage, "Backup storage by status and admin state."),
    ]


def _bound(value: float) -> str:
    return repr(float(value))


def render(stats: Stats) -> bytes:
    """The metrics page in the Prometheus text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(stats))
    return generate_latest(registry)
