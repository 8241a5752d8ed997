"""Load generation with wrk (C, so the client steals little CPU from the server)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path


def wrk_rate(
    url: str,
    *,
    method: str = "GET",
    body: str | None = None,
    headers: dict[str, str] | None = None,
    connections: int = 64,
    seconds: int = 10,
    threads: int = 2,
) -> float:
    """Requests per second answered with 2xx; raises if any answer was not 2xx."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (make bench installs it)")
    script = [f'wrk.method = "{method}"']
    if body is not None:
        # A JSON string literal is a valid Lua string literal for ASCII text.
        script.append(f"wrk.body = {json.dumps(body)}")
    for key, value in (headers or {}).items():
        script.append(f'wrk.headers["{key}"] = "{value}"')
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write("\n".join(script) + "\n")
        lua = handle.name
    try:
        out = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "-s", lua, url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        Path(lua).unlink()
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{errors.group(1)} non-2xx answers from {url}:\n{out}")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if rate is None:
        raise RuntimeError(f"could not read wrk output:\n{out}")
    return float(rate.group(1))
