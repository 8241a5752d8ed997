"""A worker's runtime: the shared one, plus each operation's run and agent clients."""

from __future__ import annotations

from functools import cached_property

from drivers.client import AgentClients
from volplane.runtime import Runtime
from workers.registry import RunRegistry


class WorkerRuntime(Runtime):
    @cached_property
    def operations(self) -> RunRegistry:
        return RunRegistry(self.settings)

    @cached_property
    def agent_client(self) -> AgentClients:
        """``agent_client(base_url, token)``: the cached client for that agent."""
        return AgentClients()
