"""Operations are declared once in the core and run by exactly one worker function;
routes are an explicit list that leaves no route module out."""

from __future__ import annotations

import importlib
from pathlib import Path

from starlette.routing import BaseRoute, Mount, Route

from api.app import api_routes
from volplane.catalog import AREAS, TEST_ONLY_AREAS, declared_in, operations
from volplane.settings import Settings
from workers.registry import MODULES, RunRegistry

ALL = Settings(enable_test_operations=True)
ROUTE_MODULES = Path(__file__).resolve().parents[2] / "api" / "routes"


def test_every_declared_operation_has_exactly_one_run() -> None:
    declared = [op for area in AREAS + TEST_ONLY_AREAS for op in declared_in(area)]
    attached = [op for module in MODULES for op in module.RUNS]
    assert sorted(op.api_name for op in attached) == sorted(op.api_name for op in declared)
    # A run is attached to the declaration itself, not to a look-alike.
    assert all(any(op is d for d in declared) for op in attached)
    registry = RunRegistry(ALL)
    for op in declared:
        assert registry.get(op.api_name).operation is op


def test_test_only_operations_are_offered_only_when_enabled() -> None:
    test_only = {op.api_name for area in TEST_ONLY_AREAS for op in declared_in(area)}
    assert test_only
    assert not test_only & set(operations(Settings(enable_test_operations=False)).operations)
    assert test_only <= set(operations(ALL).operations)


def served(routes: list[BaseRoute], prefix: str = "") -> set[tuple[str, object]]:
    """(full path, endpoint) of every route, mounted apps included."""
    found: set[tuple[str, object]] = set()
    for route in routes:
        if isinstance(route, Mount):
            found |= served(route.routes, prefix + route.path)
        elif isinstance(route, Route):
            found.add((prefix + route.path, route.endpoint))
    return found


def test_every_route_module_is_mounted() -> None:
    mounted = served(api_routes(ALL))
    for path in sorted(ROUTE_MODULES.glob("*.py")):
        if path.name.startswith("_") or path.stem == "cinder":
            continue
        module = importlib.import_module(f"api.routes.{path.stem}")
        missing = [r.path for r in module.ROUTES if (r.path, r.endpoint) not in mounted]
        assert not missing, f"api/routes/{path.name}: {missing} not listed in api/app.py"


def test_each_dialect_is_an_app_with_its_own_error_handlers() -> None:
    from api.cinder.errors import EXCEPTION_HANDLERS as CINDER
    from api.share.envelope import EXCEPTION_HANDLERS as SHARE

    mounts = {m.path: m.app for m in api_routes(ALL) if isinstance(m, Mount)}
    assert mounts["/v3"].exception_handlers == CINDER  # type: ignore[attr-defined]
    for prefix in ("/v1/pool/share", "/v1/volume/share", "/v1/cluster"):
        assert mounts[prefix].exception_handlers == SHARE  # type: ignore[attr-defined]


def test_job_event_streams_come_before_the_job_lookup() -> None:
    paths = [getattr(route, "path", "") for route in api_routes(ALL)]
    assert paths.index("/v1/api-jobs/events") < paths.index("/v1/api-jobs/{uuid}")
