"""The Cinder dialect's routes (``/v3/{project_id}/...``, see ``api/cinder/``)."""

from __future__ import annotations

from starlette.datastructures import State
from starlette.routing import BaseRoute

from api.cinder.routes import cinder_mount


def routes(state: State) -> list[BaseRoute]:
    return [cinder_mount(state)]
