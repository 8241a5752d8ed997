"""Reading a JSON request body within the gateway's limits, for every dialect.

A body is read at most ``max_body_bytes`` long (a larger ``Content-Length`` is refused
before anything is read) and is measured for nesting before it is parsed: Python's
parser recurses once per level, so a small body of a thousand nested arrays would
otherwise end in a ``RecursionError`` instead of a 400. Each dialect answers the two
errors (``BodyTooLarge``, ``BodyTooDeep``) in its own shape.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.requests import Request

from volplane.errors import BodyTooDeep, BodyTooLarge, InvalidJSON
from volplane.settings import Settings

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")


def nesting_depth(raw: bytes) -> int:
    """How deep arrays and objects nest in ``raw`` (brackets inside strings do not count)."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub(b"", raw)):
        if match.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def check_depth(raw: bytes, max_depth: int) -> None:
    # Counting brackets first keeps the common, shallow body free of the scan.
    if raw.count(b"[") + raw.count(b"{") > max_depth and nesting_depth(raw) > max_depth:
        raise BodyTooDeep(f"the request body nests deeper than {max_depth} levels")


def loads(raw: bytes | str, *, max_depth: int) -> Any:
    """``json.loads`` that refuses bodies nesting deeper than ``max_depth``."""
    check_depth(raw.encode() if isinstance(raw, str) else raw, max_depth)
    try:
        return json.loads(raw)
    except RecursionError as exc:  # a lower recursion limit than the depth allows
        raise BodyTooDeep("the request body nests too deep to parse") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidJSON(f"the request body is not valid JSON: {exc}") from exc


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.runtime.settings
    return settings


async def read_raw(request: Request) -> bytes:
    """The body's bytes, refusing more than ``max_body_bytes`` without reading them all."""
    limit = settings_of(request).max_body_bytes
    too_large = BodyTooLarge(f"the request body is larger than {limit} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json_value(request: Request) -> tuple[bytes, Any]:
    """The raw body and its JSON value (``None`` for an empty body), within the limits."""
    raw = await read_raw(request)
    if not raw.strip():
        return raw, None
    return raw, loads(raw, max_depth=settings_of(request).max_body_depth)
