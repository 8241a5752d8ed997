"""One frozen settings object, read once at start-up and passed to every part.

Every field can be set from the environment as ``VOLPLANE_<FIELD>`` (upper case);
``docs/configuration.md`` is the table of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Configuration shared by the gateway, the workers and the CLI."""

    model_config = SettingsConfigDict(env_prefix="VOLPLANE_", frozen=True, extra="ignore")

    data_dir: Path = Field(default=Path("./var"), description="Where embedded state lives.")
    database_url: str = Field(
        default="", description="SQLAlchemy URL; empty means SQLite under data_dir."
    )
    broker_url: str = Field(
        default="", description="Celery broker URL; empty means sqla+sqlite under data_dir."
    )
    public_url: str = Field(
        default="", description="Base URL put in job locations; empty means the request's own."
    )

    admin_name: str = Field(default="admin", description="The first admin account.")
    admin_password: str = Field(default="password", description="Only used at first start.")
    session_timeout_seconds: int = Field(
        default=7200, description="Idle time before a session expires."
    )
    session_cache_seconds: float = Field(
        default=2.0, description="How long a gateway trusts a checked session without asking."
    )

    api_timeout_ms: int = Field(default=1_800_000, description="apiTimeout answered with 202.")
    job_retention_seconds: int = Field(default=2 * 24 * 3600, description="Result kept after end.")
    job_lease_seconds: float = Field(default=30.0, description="A worker's hold on a job.")
    job_max_attempts: int = Field(
        default=3,
        description="Runs of a job that may die before its last run (cancel asked from the start).",
    )
    dispatch_grace_seconds: float = Field(
        default=10.0, description="A Pending head job with no message for this long is re-sent."
    )
    sweep_interval_seconds: float = Field(default=5.0, description="Period of the sweeper.")
    long_poll_max_seconds: int = Field(default=60, description="Largest waitSeconds allowed.")
    max_body_bytes: int = Field(
        default=1 << 20, ge=1, description="Largest request body the gateway reads, in bytes."
    )
    max_body_depth: int = Field(
        default=32, ge=1, description="Deepest nesting of arrays and objects in a request body."
    )

    webhook_timeout_seconds: float = Field(default=10.0, description="Per-attempt timeout.")
    webhook_give_up_seconds: float = Field(default=24 * 3600, description="Stop retrying after.")
    webhook_first_retry_seconds: float = Field(default=2.0, description="First backoff step.")
    webhook_max_backoff_seconds: float = Field(default=3600.0, description="Backoff cap.")
    webhook_allow_networks: tuple[str, ...] = Field(
        default=(), description="Loopback/private networks webhooks may reach, CIDR."
    )

    heartbeat_interval_seconds: float = Field(
        default=10.0, description="Period of the host heartbeat (agent health checks)."
    )
    heartbeat_timeout_seconds: float = Field(
        default=3.0, description="How long a heartbeat waits for an agent's answer."
    )
    agent_connect_timeout_seconds: float = Field(
        default=2.0, description="How long connecting to an agent may take."
    )
    volume_deletion_policy: Literal["Direct", "Delay", "Never"] = Field(
        default="Delay",
        description=(
            "ZStack's volume.deletionPolicy until changed through UpdateGlobalConfig: Direct "
            "removes a deleted volume at once, Delay keeps it Deleted and recoverable for "
            "the expunge period, Never forgets it and leaves its images."
        ),
    )
    volume_expunge_period_seconds: int = Field(
        default=259_200,
        gt=0,
        description="ZStack's volume.expungePeriod: how long a Deleted volume stays recoverable.",
    )
    volume_expunge_interval_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="How often Deleted volumes past their expunge period are looked for.",
    )
    host_agent_home: str = Field(
        default="/var/lib/volplane-agent",
        description="Where AddKVMHost installs and runs the agent on a host (over SSH).",
    )
    host_python: str = Field(
        default="python3",
        description="The Python 3.11+ on hosts that runs the agent (with its libraries).",
    )
    host_agent_port: int = Field(default=7070, description="Port of agents deployed over SSH.")
    host_min_free_bytes: int = Field(
        default=64 * 1024 * 1024, description="Free space a host needs for its agent."
    )
    ssh_timeout_seconds: float = Field(
        default=10.0, description="Connect and command timeout of SSH to hosts."
    )
    agent_start_timeout_seconds: float = Field(
        default=30.0, description="How long a deployed agent may take to answer."
    )
    worker_concurrency: int = Field(default=4, description="Processes per worker.")
    enable_test_operations: bool = Field(
        default=False, description="Registers the DebugSleep operation used by tests."
    )
    log_json: bool = Field(default=True, description="One JSON object per log line.")

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'volplane.sqlite').resolve()}"

    def resolved_broker_url(self) -> str:
        if self.broker_url:
            return self.broker_url
        return f"sqla+sqlite:///{(self.data_dir / 'broker.sqlite').resolve()}"
