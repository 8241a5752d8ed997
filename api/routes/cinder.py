"""The Cinder dialect's routes (``/v3/{project_id}/...``, see ``api/cinder/``)."""

from __future__ import annotations

from api.cinder.routes import cinder_mount

ROUTES = [cinder_mount()]
