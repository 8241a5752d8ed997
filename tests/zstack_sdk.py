"""Calls as ZStack's generated Python SDK (3.x ``zssdk.py``) puts them on the wire.

Written here from what that SDK is known to do, not copied from it:
- every action has an HTTP method, a path template and, for ``POST``/``PUT``, the name
  of the body's one key (``params`` for creating calls, the action's name for actions);
- the path template is filled from the action's parameters, and those parameters are
  sent again all the same: in the body of a ``POST``/``PUT`` (all but ``sessionId``,
  ``systemTags``/``userTags`` inside the parameter object), in the query string of a
  ``GET``/``DELETE`` (all of them, ``sessionId=`` included), unencoded ``k=v`` pairs;
- query actions send only the query parameters: ``q=`` per condition,
  ``sort=+field|-field`` from ``sortBy``/``sortDirection``, ``fields=a,b``,
  ``count=True`` as Python writes a boolean, and ``sessionId=``;
- every call carries ``X-Job-UUID`` (a new uuid4 as 32 hex digits), ``Authorization:
  OAuth <session>`` and ``Content-Type: application/json``;
- a ``200``/``204`` answer is the result (``value``), a ``202`` is polled at its
  ``location`` (``GET`` with the ``Authorization`` header only) until ``200`` or
  ``503``; a ``503`` body holds ``error``; any other status is an HTTP error.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.stack import Stack


@dataclass
class Reply:
    """What the SDK hands back: ``value`` (the reply body) or ``error``."""

    status: int
    value: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    requests: list[httpx.Request] = field(default_factory=list)

    def ok(self) -> dict[str, Any]:
        assert self.value is not None, f"{self.status}: {self.error}"
        return self.value


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass
class ZStackSdk:
    stack: Stack
    session: str | None = None
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=70))
    poll_interval: float = 0.05

    def login(self, account: str = "admin", password_sha512: str | None = None) -> str:
        from volplane.passwords import sha512_hex

        reply = self.call(
            "PUT",
            "/accounts/login",
            "logInByAccount",
            {"accountName": account, "password": password_sha512 or sha512_hex("password")},
            session=False,
        )
        self.session = reply.ok()["inventory"]["uuid"]
        assert self.session is not None
        return self.session

    def url(self, path: str, params: dict[str, Any]) -> str:
        filled = _PLACEHOLDER.sub(lambda m: str(params[m.group(1)]), path)
        return f"{self.stack.url}/v1{filled}"

    def call(
        self,
        method: str,
        path: str,
        param_name: str | None = None,
        params: dict[str, Any] | None = None,
        *,
        session: bool = True,
        job_uuid: str | None = None,
        system_tags: list[str] | None = None,
        user_tags: list[str] | None = None,
    ) -> Reply:
        """One non-query action."""
        values = {k: v for k, v in (params or {}).items() if v is not None}
        if system_tags is not None:
            values["systemTags"] = system_tags
        if user_tags is not None:
            values["userTags"] = user_tags
        if session and self.session is not None:
            values["sessionId"] = self.session
        url = self.url(path, values)
        body: dict[str, Any] | None = None
        if method in ("GET", "DELETE"):
            url += "?" + "&".join(f"{k}={v}" for k, v in values.items())
        else:
            assert param_name is not None
            body = {param_name: {k: v for k, v in values.items() if k != "sessionId"}}
        return self._send(method, url, body, session=session, job_uuid=job_uuid)

    def query(
        self,
        path: str,
        conditions: list[str] | None = None,
        *,
        limit: int | None = None,
        start: int | None = None,
        count: bool | None = None,
        reply_with_count: bool | None = None,
        sort_by: str | None = None,
        sort_direction: str | None = None,
        fields: list[str] | None = None,
        group_by: str | None = None,
    ) -> Reply:
        """One query action (``Query*Action``)."""
        parts = [f"q={c}" for c in conditions or []]
        for key, value in (
            ("limit", limit),
            ("start", start),
            ("count", count),
            ("replyWithCount", reply_with_count),
            ("groupBy", group_by),
        ):
            if value is not None:
                parts.append(f"{key}={value}")
        if sort_by is not None:
            sign = "" if sort_direction is None else ("+" if sort_direction == "asc" else "-")
            parts.append(f"sort={sign}{sort_by}")
        if fields is not None:
            parts.append("fields=" + ",".join(fields))
        parts.append(f"sessionId={self.session}")
        return self._send("GET", self.url(path, {}) + "?" + "&".join(parts), None)

    def _send(
        self,
        method: str,
        url: str,
        body: dict[str, Any] | None,
        *,
        session: bool = True,
        job_uuid: str | None = None,
    ) -> Reply:
        headers = {
            "X-Job-UUID": job_uuid or uuid.uuid4().hex,
            "Content-Type": "application/json",
            "Connection": "close",
        }
        if session and self.session is not None:
            headers["Authorization"] = f"OAuth {self.session}"
        response = self.http.request(method, url, json=body, headers=headers)
        sent = [response.request]
        if response.status_code == 202:
            location = response.json()["location"]
            while response.status_code == 202:
                time.sleep(self.poll_interval)
                response = self.http.get(
                    location, headers={"Authorization": f"OAuth {self.session}"}
                )
                sent.append(response.request)
        return self._reply(response, sent)

    @staticmethod
    def _reply(response: httpx.Response, sent: list[httpx.Request]) -> Reply:
        if response.status_code in (200, 204):
            return Reply(
                response.status_code,
                value=response.json() if response.content else {},
                requests=sent,
            )
        if response.status_code == 503:
            return Reply(503, error=response.json()["error"], requests=sent)
        return Reply(response.status_code, error={"http": response.text}, requests=sent)
