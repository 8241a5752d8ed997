"""docs/share-api.md lists, per share-storage call, the required and optional fields of
its request model; this keeps that table true to api/share/requests.py."""

from __future__ import annotations

import importlib
import inspect
import re

import pytest

from api.share import requests as rq
from tests.stack import ROOT

DOC = (ROOT / "docs" / "share-api.md").read_text()
MODULES = ("api.routes.share_pools", "api.routes.share_volumes", "api.routes.share_cluster")


def rows() -> list[str]:
    found = []
    for name in MODULES:
        for route in importlib.import_module(name).ROUTES:
            source = inspect.getsource(route.endpoint)
            model_name = re.search(r"rq\.read_request\(request, rq\.(\w+)\)", source)
            assert model_name, f"{route.path}: no request model"
            model = getattr(rq, model_name.group(1))
            fields = model.model_fields
            required = [f"`{n}`" for n, f in fields.items() if f.is_required()] or ["—"]
            optional = [f"`{n}`" for n, f in fields.items() if not f.is_required()] or ["—"]
            method = sorted(route.methods - {"HEAD"})[0]
            found.append(
                f"| `{method} {route.path}` | `{model_name.group(1)}` | "
                f"{', '.join(required)} | {', '.join(optional)} |"
            )
    return found


@pytest.mark.parametrize("row", rows())
def test_each_call_is_documented_with_its_fields(row: str) -> None:
    assert row in DOC
