"""Writes the reference tables in ``docs/`` from the code that defines them.

``python -m volplane.docs`` regenerates them; ``tests/unit/test_docs.py`` fails when
a table no longer matches the code.
"""

from __future__ import annotations

import sys
from pathlib import Path

from volplane.errors import all_error_classes
from volplane.settings import Settings

DOCS = Path(__file__).resolve().parent.parent / "docs"


def errors_markdown() -> str:
    lines = [
        "# Error codes",
        "",
        'Every error body is `{"error": {"code", "description", "details", '
        '"elaboration", "location"}}`. Codes are stable; `details` is specific to the case.',
        "A synchronous call answers with the status below; a failed job always polls as `503`",
        "with the same code. Generated from `volplane/errors.py` by `python -m volplane.docs`.",
        "",
        "| code | HTTP status | name | description |",
        "| --- | --- | --- | --- |",
    ]
    for cls in sorted(all_error_classes(), key=lambda c: c.code):
        lines.append(f"| `{cls.code}` | {cls.status} | `{cls.__name__}` | {cls.description} |")
    return "\n".join(lines) + "\n"


def configuration_markdown() -> str:
    lines = [
        "# Configuration",
        "",
        "Every setting is an environment variable `VOLPLANE_<NAME>`; lists are JSON",
        "(`VOLPLANE_WEBHOOK_ALLOW_NETWORKS='[\"127.0.0.0/8\"]'`). Generated from",
        "`volplane/settings.py` by `python -m volplane.docs`.",
        "",
        "| variable | default | meaning |",
        "| --- | --- | --- |",
    ]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "(empty)" if default in ("", ()) else f"`{default}`"
        lines.append(f"| `VOLPLANE_{name.upper()}` | {shown} | {field.description or ''} |")
    return "\n".join(lines) + "\n"


def query_markdown() -> str:
    from api.query import render_query_docs
    from api.resources import query_registry

    return render_query_docs(query_registry())


GENERATED = {
    "errors.md": errors_markdown,
    "configuration.md": configuration_markdown,
    "query.md": query_markdown,
}


def main() -> int:
    for name, render in GENERATED.items():
        (DOCS / name).write_text(render())
        print(f"wrote docs/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
