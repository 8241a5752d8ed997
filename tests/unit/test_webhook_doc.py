"""docs/webhooks.md's verification code, run as written against the server's signing."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

from client.signing import new_secret, signature_headers
from tests.stack import ROOT

DOC = (ROOT / "docs" / "webhooks.md").read_text()


def block(language: str) -> str:
    found = re.search(rf"```{language}\n(.*?)```", DOC, re.S)
    assert found, f"no {language} block in docs/webhooks.md"
    return found.group(1)


def test_python_receiver_accepts_signed_and_refuses_forged() -> None:
    scope: dict[str, object] = {}
    exec(block("python"), scope)
    verify = scope["verify"]
    secret, body = new_secret(), b'{"inventory": {"uuid": "x"}}'
    headers = signature_headers(secret, "msg_abc", int(time.time()), body)
    assert verify(secret, headers, body) is True  # type: ignore[operator]
    assert verify(secret, headers, body + b" ") is False  # type: ignore[operator]
    stale = signature_headers(secret, "msg_abc", int(time.time()) - 3600, body)
    assert verify(secret, stale, body) is False  # type: ignore[operator]


def test_shell_recipe_computes_the_signature(tmp_path: Path) -> None:
    # openssl is installed by .ci/services.sh
    secret, body = new_secret(), b'{"error": {"code": "VOLPLANE.JOB.1003"}}'
    headers = signature_headers(secret, "msg_def", 1_700_000_000, body)
    (tmp_path / "body.json").write_bytes(body)
    env = {
        "SECRET": secret,
        "WEBHOOK_ID": headers["webhook-id"],
        "WEBHOOK_TIMESTAMP": headers["webhook-timestamp"],
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        ["bash", "-c", block("sh")], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.stdout.strip() == headers["webhook-signature"].removeprefix("v1,"), done.stderr
