"""Runs the agent under uvicorn."""

from __future__ import annotations

import uvicorn

from drivers.agent.app import create_agent_app
from drivers.agent.config import AgentConfig


def serve(config: AgentConfig) -> None:
    """Serves until interrupted; SIGTERM cancels running operations cleanly."""
    uvicorn.run(
        create_agent_app(config),
        host=config.host,
        port=config.port,
        log_level="info",
        # Operations may still be cleaning up; give them the shutdown grace.
        timeout_graceful_shutdown=15,
    )
