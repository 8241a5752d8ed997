"""Route lookup by leading path segments instead of trying every route in turn.

Starlette's router tests each route's pattern until one matches. With a hundred
routes, mounted twice (plain and under ``/zstack``), that search was the largest
single cost of an admission. ``IndexedRouter`` keeps Starlette's matching rules
(first full match wins, partial matches give 405, slash redirects) but runs them
over a small bucket: the routes sharing the request's first two path segments,
plus the few routes whose first two segments are not both literal.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.routing import BaseRoute, Match, Mount, Route, Router
from starlette.types import Receive, Scope, Send

PREFIX = "/zstack"


def bucket_key(path: str) -> str | None:
    """``"/v1/zones/abc"`` → ``"v1/zones"``; None when the path has fewer segments."""
    parts = path.split("/", 3)
    if len(parts) < 3 or not parts[1] or not parts[2]:
        return None
    return f"{parts[1]}/{parts[2]}"


def route_key(route: BaseRoute) -> str | None:
    """The bucket a route belongs to, or None for a route every bucket must hold."""
    path: str = getattr(route, "path", "")
    if isinstance(route, Mount):
        return None  # a mount matches anything below its prefix
    key = bucket_key(path)
    if key is None or "{" in key:
        return None
    return key


class IndexedRouter(Router):
    """The application's routes, plain and under ``/zstack``, found by bucket."""

    def __init__(self, routes: Sequence[BaseRoute], **options: Any) -> None:
        routes = list(routes)
        super().__init__(routes=[*routes, Mount(PREFIX, routes=routes)], **options)
        keys = [route_key(route) for route in routes]
        self._buckets: dict[str, Router] = {}
        for key in {key for key in keys if key is not None}:
            subset = [r for r, k in zip(routes, keys, strict=True) if k in (key, None)]
            self._buckets[key] = Router(routes=[*subset, Mount(PREFIX, routes=subset)])

    def bucket_for(self, scope: Scope) -> Router:
        """The router holding every route that could match this request."""
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        if path.startswith(PREFIX + "/"):
            path = path[len(PREFIX) :]
        key = bucket_key(path)
        bucket = self._buckets.get(key) if key is not None else None
        return self if bucket is None else bucket

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await super().app(scope, receive, send)
            return
        scope.setdefault("router", self)  # url_for sees every route
        bucket = self.bucket_for(scope)
        await (super().app if bucket is self else bucket.app)(scope, receive, send)


def allowed_methods(routes: Sequence[BaseRoute], scope: Scope) -> set[str]:
    """Every method some route accepts at the request's path.

    Starlette answers a 405 with the methods of the first route that matched the path
    only; a path served by several routes (``GET`` in one, ``DELETE`` in another)
    accepts the methods of all of them.
    """
    methods: set[str] = set()
    for route in routes:
        match, child_scope = route.matches(scope)
        if match is Match.NONE:
            continue
        if isinstance(route, Mount):
            methods |= allowed_methods(route.routes, {**scope, **child_scope})
        elif isinstance(route, Route):
            methods |= route.methods or set()
    return methods


def allow_header(scope: Scope) -> str:
    """The ``Allow`` header of a 405 for this request, over every route of the app."""
    router = scope["router"]
    top = {**scope, "root_path": scope.get("app_root_path", scope.get("root_path", ""))}
    return ", ".join(sorted(allowed_methods(router.routes, top)))
