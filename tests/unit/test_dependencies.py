"""What production installs (``pip install .``, no extras) is what the code imports,
and the Dockerfile installs exactly that. ``tests/integration/test_production_install.py``
proves the install runs; this keeps each import honest without one."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
RUNTIME_PACKAGES = ["volplane", "api", "workers", "drivers", "schemas", "migrations", "client"]


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared(requirements: list[str]) -> set[str]:
    return {normalized(re.split(r"[\[<>=!~; ]", req, maxsplit=1)[0]) for req in requirements}


def _optional(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """An import inside ``try: ... except ImportError``: the code runs without it."""
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.Try) and any(
            isinstance(h.type, ast.Name) and h.type.id in ("ImportError", "ModuleNotFoundError")
            for h in node.handlers
        ):
            return True
    return False


def third_party_imports() -> dict[str, set[str]]:
    own = set(RUNTIME_PACKAGES)
    found: dict[str, set[str]] = {}
    for package in RUNTIME_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text())
            parents = {
                child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)
            }
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                if _optional(node, parents):
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in own:
                        found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_runtime_import_is_a_declared_runtime_dependency() -> None:
    runtime = declared(PYPROJECT["project"]["dependencies"])
    providers = packages_distributions()
    missing = {
        module: sorted(files)
        for module, files in third_party_imports().items()
        if not {normalized(d) for d in providers.get(module, [module])} & runtime
    }
    assert not missing, f"imported at run time but not in [project] dependencies: {missing}"


def test_celery_brings_its_redis_transport() -> None:
    assert any(
        re.match(r"celery\[[^\]]*redis", req) for req in PYPROJECT["project"]["dependencies"]
    )


def test_the_license_is_an_spdx_expression() -> None:
    assert PYPROJECT["project"]["license"] == "Apache-2.0"


def test_the_dockerfile_installs_every_package_without_extras() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    installs = re.findall(r"pip install ([^\n]+)", dockerfile)
    assert installs and all("[" not in line for line in installs), installs
    assert all(line.split()[-1] == "." for line in installs), installs
    copied = set(re.findall(r"^COPY (\S+) ", dockerfile, flags=re.MULTILINE))
    included = PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    assert {pattern.rstrip("*") for pattern in included} <= copied
