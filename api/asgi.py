"""ASGI entry point for ``uvicorn --factory api.asgi:make_app`` (settings from the env)."""

from __future__ import annotations

from starlette.applications import Starlette

from api.app import create_app
from volplane.settings import Settings


def make_app() -> Starlette:
    return create_app(Settings())
