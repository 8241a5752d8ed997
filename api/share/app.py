"""The share-storage dialect as mounted apps, one per path prefix, each answering errors
in the dialect's envelope (``api/share/envelope.py``) instead of ZStack's."""

from __future__ import annotations

import re
from collections.abc import Iterable

from starlette.applications import Starlette
from starlette.datastructures import State
from starlette.routing import BaseRoute, Mount, Route

from api.share.envelope import EXCEPTION_HANDLERS

PREFIXES = ("/v1/pool/share", "/v1/volume/share", "/v1/cluster")


def share_mounts(routes: Iterable[BaseRoute], state: State) -> list[Mount]:
    """``routes`` (full paths under ``PREFIXES``) as one mounted app per prefix. The apps
    share the gateway's ``state`` (runtime, admission, operations)."""
    routes = list(routes)
    mounts = []
    for prefix in PREFIXES:
        inner: list[BaseRoute] = []
        for route in routes:
            assert isinstance(route, Route), route
            if route.path.startswith(prefix + "/"):
                inner.append(
                    Route(
                        route.path.removeprefix(prefix),
                        route.endpoint,
                        methods=sorted(route.methods or ()),
                        name=route.name,
                    )
                )
        app = Starlette(routes=inner, exception_handlers=EXCEPTION_HANDLERS)
        app.state = state
        mount = Mount(prefix, app=app)
        # Starlette's ``.*`` stops at a newline: a path holding one (%0A) would fall out
        # of the mount and be answered in the ZStack dialect's shape.
        mount.path_regex = re.compile(mount.path_regex.pattern, re.DOTALL)
        mounts.append(mount)
    placed = sum(len(mount.routes) for mount in mounts)
    assert placed == len(routes), "a share-storage route outside PREFIXES"
    return mounts
