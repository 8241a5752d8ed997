"""The asynchronous SDK: ``AsyncClient``, the same calls as :mod:`client.sync`, awaited.

async with AsyncClient("http://127.0.0.1:8080") as client:
    await client.login("admin", "password")
    zone = await client.zones.create("zone-1")
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from client._core import (
    END_EVENT,
    RETRYABLE,
    Event,
    EventDecoder,
    JobStatus,
    ProgressCallback,
    decode,
    headers_for,
    is_accepted,
    job_uuid_of,
    new_job_uuid,
    query_params,
    read_poll,
    retry_delay,
    sha512_hex,
    to_query,
    wait_step,
)
from client.errors import JobWaitTimeout, TransportError

Params = list[tuple[str, str]] | dict[str, Any] | None


class AsyncClient:
    """The async volplane API client. ``session`` may be given to reuse a login."""

    def __init__(
        self,
        url: str,
        *,
        session: str | None = None,
        timeout: float = 30.0,
        retries: int = 3,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.session = session
        self.retries = retries
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport)
        self.zones = AsyncZones(self)
        self.accounts = AsyncAccounts(self)
        self.jobs = AsyncJobs(self)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def login(self, account: str, password: str) -> dict[str, Any]:
        body = {"logInByAccount": {"accountName": account, "password": sha512_hex(password)}}
        answer = await self.request("PUT", "/v1/accounts/login", body)
        inventory: dict[str, Any] = answer["inventory"]
        self.session = str(inventory["uuid"])
        return inventory

    async def logout(self) -> None:
        if self.session:
            await self.request("DELETE", f"/v1/accounts/sessions/{self.session}")
            self.session = None

    async def send(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        params: Params = None,
        job_uuid: str | None = None,
        webhook: str | None = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        """One HTTP exchange, retried on network errors with the same X-Job-UUID."""
        url = path if path.startswith(("http://", "https://")) else self.url + path
        job_uuid = job_uuid or new_job_uuid()
        headers = headers_for(method, self.session, job_uuid=job_uuid, webhook=webhook)
        attempt = 0
        while True:
            try:
                return await self._http.request(
                    method,
                    url,
                    json=body,
                    params=to_query(params),
                    headers=headers,
                    timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
                )
            except RETRYABLE as exc:
                attempt += 1
                if attempt > self.retries:
                    raise TransportError(f"{method} {url}: {exc!r}") from exc
                await asyncio.sleep(retry_delay(attempt))

    async def request(
        self, method: str, path: str, body: dict[str, Any] | None = None, *, params: Params = None
    ) -> Any:
        return decode(await self.send(method, path, body, params=params))

    async def submit(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        params: Params = None,
        job_uuid: str | None = None,
        webhook: str | None = None,
    ) -> AsyncJob:
        response = await self.send(
            method, path, body, params=params, job_uuid=job_uuid, webhook=webhook
        )
        answer = decode(response)
        if not is_accepted(response, answer):
            raise TransportError(f"{method} {path} answered {response.status_code}, not a job")
        return AsyncJob(self, job_uuid_of(answer["location"]), answer["location"])

    async def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        params: Params = None,
        wait: bool = True,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
        job_uuid: str | None = None,
        webhook: str | None = None,
    ) -> Any:
        response = await self.send(
            method, path, body, params=params, job_uuid=job_uuid, webhook=webhook
        )
        answer = decode(response)
        if not is_accepted(response, answer):
            return answer
        job = AsyncJob(self, job_uuid_of(answer["location"]), answer["location"])
        if not wait:
            return job
        return await job.wait(timeout=timeout, on_progress=on_progress)

    def resource(self, collection: str, *, update_action: str | None = None) -> AsyncResource:
        return AsyncResource(self, collection, update_action=update_action)

    async def events(self, path: str, *, last_event_id: str | None = None) -> AsyncIterator[Event]:
        decoder = EventDecoder(last_event_id)
        attempt = 0
        while True:
            headers = headers_for("GET", self.session, job_uuid=None, webhook=None)
            headers["Accept"] = "text/event-stream"
            if decoder.last_event_id:
                headers["Last-Event-ID"] = decoder.last_event_id
            try:
                async with self._http.stream(
                    "GET", self.url + path, headers=headers, timeout=httpx.Timeout(30, read=None)
                ) as response:
                    if response.status_code >= 400:
                        await response.aread()
                        decode(response)
                    attempt = 0
                    async for line in response.aiter_lines():
                        event = decoder.feed(line)
                        if event is None:
                            continue
                        if event.event == END_EVENT:
                            return
                        yield event
            except RETRYABLE as exc:
                attempt += 1
                if attempt > self.retries:
                    raise TransportError(f"GET {path}: {exc!r}") from exc
                await asyncio.sleep(retry_delay(attempt))


@dataclass
class AsyncJob:
    client: AsyncClient
    uuid: str
    location: str

    async def poll(self, wait_seconds: float = 0.0) -> JobStatus:
        params = {"waitSeconds": f"{wait_seconds:g}"} if wait_seconds else None
        response = await self.client.send(
            "GET", self.location, params=params, timeout=wait_seconds + 30
        )
        return read_poll(self.uuid, response)

    async def wait(
        self, *, timeout: float | None = None, on_progress: ProgressCallback | None = None
    ) -> dict[str, Any]:
        deadline = None if timeout is None else time.monotonic() + timeout
        seen: tuple[str, int | None] | None = None
        while True:
            remaining = None if deadline is None else deadline - time.monotonic()
            status = await self.poll(wait_step(remaining, with_progress=on_progress is not None))
            if on_progress is not None and (status.state, status.progress) != seen:
                seen = (status.state, status.progress)
                on_progress(status)
            if status.error is not None:
                raise status.error
            if status.done:
                return status.result or {}
            if deadline is not None and time.monotonic() >= deadline:
                raise JobWaitTimeout(self.uuid, status.state, status.progress)

    async def inventory(self) -> dict[str, Any]:
        return await self.client.jobs.get(self.uuid)

    async def cancel(self) -> dict[str, Any]:
        return await self.client.jobs.cancel(self.uuid)

    def events(self, *, last_event_id: str | None = None) -> AsyncIterator[Event]:
        return self.client.jobs.events(self.uuid, last_event_id=last_event_id)


class AsyncResource:
    def __init__(
        self, client: AsyncClient, collection: str, *, update_action: str | None = None
    ) -> None:
        self.client = client
        self.collection = collection.rstrip("/")
        self.update_action = update_action

    async def create(
        self,
        params: dict[str, Any],
        *,
        path: str | None = None,
        system_tags: list[str] | None = None,
        user_tags: list[str] | None = None,
        wait: bool = True,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Any:
        body: dict[str, Any] = {"params": params}
        if system_tags:
            body["systemTags"] = system_tags
        if user_tags:
            body["userTags"] = user_tags
        return _inventory(
            await self.client.call(
                "POST",
                path or self.collection,
                body,
                wait=wait,
                timeout=timeout,
                on_progress=on_progress,
            )
        )

    async def get(self, uuid: str) -> dict[str, Any]:
        answer = await self.client.request("GET", f"{self.collection}/{uuid}")
        found: dict[str, Any] = answer["inventories"][0]
        return found

    async def query(
        self,
        q: Iterable[str] | str | None = None,
        *,
        limit: int | None = None,
        start: int | None = None,
        sort: str | None = None,
        fields: Iterable[str] | None = None,
    ) -> list[dict[str, Any]]:
        pairs = query_params(q=q, limit=limit, start=start, sort=sort, fields=fields)
        answer = await self.client.request("GET", self.collection, params=pairs)
        found: list[dict[str, Any]] = answer["inventories"]
        return found

    async def count(self, q: Iterable[str] | str | None = None) -> int:
        answer = await self.client.request(
            "GET", self.collection, params=query_params(q=q, count=True)
        )
        return int(answer["total"])

    async def action(
        self, uuid: str, name: str, params: dict[str, Any] | None = None, *, wait: bool = True
    ) -> Any:
        return _inventory(
            await self.client.call(
                "PUT", f"{self.collection}/{uuid}/actions", {name: params or {}}, wait=wait
            )
        )

    async def update(self, uuid: str, *, wait: bool = True, **fields: Any) -> Any:
        if self.update_action is None:
            raise TypeError(f"{self.collection} has no update action")
        return await self.action(uuid, self.update_action, fields, wait=wait)

    async def delete(self, uuid: str, *, wait: bool = True, **params: Any) -> Any:
        return await self.client.call(
            "DELETE", f"{self.collection}/{uuid}", params=params or None, wait=wait
        )


class AsyncZones(AsyncResource):
    def __init__(self, client: AsyncClient) -> None:
        super().__init__(client, "/v1/zones", update_action="updateZone")

    async def create(  # type: ignore[override]
        self,
        name: str,
        *,
        description: str | None = None,
        resource_uuid: str | None = None,
        wait: bool = True,
        **extra: Any,
    ) -> Any:
        params = {"name": name, "description": description, "resourceUuid": resource_uuid}
        return await super().create(
            {k: v for k, v in params.items() if v is not None}, wait=wait, **extra
        )

    async def change_state(self, uuid: str, state_event: str, *, wait: bool = True) -> Any:
        return await self.action(uuid, "changeZoneState", {"stateEvent": state_event}, wait=wait)


class AsyncAccounts(AsyncResource):
    def __init__(self, client: AsyncClient) -> None:
        super().__init__(client, "/v1/accounts")

    async def create(  # type: ignore[override]
        self, name: str, password: str, *, description: str | None = None, wait: bool = True
    ) -> Any:
        params = {"name": name, "password": sha512_hex(password)}
        if description is not None:
            params["description"] = description
        return await super().create(params, wait=wait)

    async def webhook_secret(self, uuid: str) -> str:
        answer = await self.client.request("GET", f"{self.collection}/{uuid}/webhook-secret")
        return str(answer["secret"])

    async def rotate_webhook_secret(self, uuid: str) -> Any:
        return await self.action(uuid, "rotateWebhookSecret")


class AsyncJobs:
    def __init__(self, client: AsyncClient) -> None:
        self.client = client

    def job(self, uuid: str) -> AsyncJob:
        return AsyncJob(self.client, uuid, f"{self.client.url}/v1/api-jobs/{uuid}")

    async def list(
        self,
        q: Iterable[str] | str | None = None,
        *,
        limit: int | None = 50,
        sort: str | None = "-createDate",
        start: int | None = None,
    ) -> list[dict[str, Any]]:
        pairs = query_params(q=q, limit=limit, sort=sort, start=start)
        answer = await self.client.request("GET", "/v1/api-jobs", params=pairs)
        found: list[dict[str, Any]] = answer["inventories"]
        return found

    async def get(self, uuid: str) -> dict[str, Any]:
        answer = await self.client.request("GET", f"/v1/api-jobs/{uuid}/inventory")
        found: dict[str, Any] = answer["inventories"][0]
        return found

    async def wait(
        self,
        uuid: str,
        *,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> dict[str, Any]:
        return await self.job(uuid).wait(timeout=timeout, on_progress=on_progress)

    async def cancel(self, uuid: str) -> dict[str, Any]:
        answer = await self.client.request(
            "PUT", f"/v1/api-jobs/{uuid}/actions", {"cancelApiJob": {}}
        )
        found: dict[str, Any] = answer["inventory"]
        return found

    async def redeliver(self, uuid: str) -> dict[str, Any]:
        answer = await self.client.request(
            "PUT", f"/v1/api-jobs/{uuid}/actions", {"redeliverWebhook": {}}
        )
        found: dict[str, Any] = answer["inventory"]
        return found

    def events(
        self, uuid: str | None = None, *, last_event_id: str | None = None
    ) -> AsyncIterator[Event]:
        path = f"/v1/api-jobs/{uuid}/events" if uuid else "/v1/api-jobs/events"
        return self.client.events(path, last_event_id=last_event_id)


def _inventory(answer: Any) -> Any:
    if isinstance(answer, dict) and set(answer) == {"inventory"}:
        return answer["inventory"]
    return answer
