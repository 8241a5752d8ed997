"""Reaching a host's agent, and whether the host may take work."""

from __future__ import annotations

from drivers.client import AgentClient
from schemas.infra import Host, HostStatus
from schemas.states import ResourceState
from volplane.errors import HostNotConnected
from workers.context import JobContext

CONNECTED = HostStatus.CONNECTED


def agent_of(ctx: JobContext, host: Host) -> AgentClient:
    return ctx.agent(host.agent_url, host.agent_token)


def require_usable_host(host: Host, *, new_work: bool = True) -> None:
    """Fails fast (AGENT.1004) unless the host can take work.

    Maintenance blocks all work; a Disabled host only refuses new work
    (``new_work``: placing a new pool or volume on it).
    """
    if host.status != CONNECTED:
        raise HostNotConnected(f"host {host.uuid} ({host.name}) is {host.status}")
    if host.state == ResourceState.MAINTENANCE:
        raise HostNotConnected(f"host {host.uuid} ({host.name}) is in maintenance")
    if new_work and host.state == ResourceState.DISABLED:
        raise HostNotConnected(f"host {host.uuid} ({host.name}) is disabled")
