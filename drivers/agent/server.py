"""Runs the agent under uvicorn."""

from __future__ import annotations

import uvicorn

from drivers.agent.app import create_agent_app
from drivers.agent.config import AgentConfig


def serve(config: AgentConfig, *, quiet: bool = False) -> None:
    """Serves until interrupted; SIGTERM cancels running operations cleanly.
    ``quiet``: warnings only, no access log (``volplane up``)."""
    uvicorn.run(
        create_agent_app(config),
        host=config.host,
        port=config.port,
        log_level="warning" if quiet else "info",
        access_log=not quiet,
        # Operations may still be cleaning up; give them the shutdown grace.
        timeout_graceful_shutdown=15,
    )
