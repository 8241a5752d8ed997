"""The synchronous SDK: ``Client`` on httpx.

    client = Client("http://127.0.0.1:8080")
    client.login("admin", "password")
    zone = client.zones.create("zone-1")              # waits for the job, returns the inventory
    job = client.zones.create("zone-2", wait=False)   # or keep the job and wait later
    job.wait(on_progress=lambda s: print(s.state, s.progress))

Every non-GET call carries a fresh ``X-Job-UUID``; a call that fails on the network is
re-sent with the same one, so the server records it at most once (CONTRACT §2.3).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
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


class Client:
    """A volplane API client. ``session`` may be given to reuse an existing login."""

    def __init__(
        self,
        url: str,
        *,
        session: str | None = None,
        timeout: float = 30.0,
        retries: int = 3,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.session = session
        self.retries = retries
        self._http = httpx.Client(timeout=timeout, transport=transport)
        self.zones = Zones(self)
        self.accounts = Accounts(self)
        self.jobs = Jobs(self)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # --- sessions ---------------------------------------------------------------

    def login(self, account: str, password: str) -> dict[str, Any]:
        """Logs in (the password is sent as its sha512 hex, as ZStack does)."""
        body = {"logInByAccount": {"accountName": account, "password": sha512_hex(password)}}
        inventory: dict[str, Any] = self.request("PUT", "/v1/accounts/login", body)["inventory"]
        self.session = str(inventory["uuid"])
        return inventory

    def logout(self) -> None:
        if self.session:
            self.request("DELETE", f"/v1/accounts/sessions/{self.session}")
            self.session = None

    # --- calls --------------------------------------------------------------------

    def send(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        params: list[tuple[str, str]] | dict[str, Any] | None = None,
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
                return self._http.request(
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
                time.sleep(retry_delay(attempt))

    def request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        params: list[tuple[str, str]] | dict[str, Any] | None = None,
    ) -> Any:
        """A synchronous call: its JSON answer, or the typed error."""
        return decode(self.send(method, path, body, params=params))

    def submit(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        params: list[tuple[str, str]] | dict[str, Any] | None = None,
        job_uuid: str | None = None,
        webhook: str | None = None,
    ) -> Job:
        """An asynchronous call: the accepted job, not yet waited for."""
        response = self.send(method, path, body, params=params, job_uuid=job_uuid, webhook=webhook)
        answer = decode(response)
        if not is_accepted(response, answer):
            raise TransportError(f"{method} {path} answered {response.status_code}, not a job")
        return Job(self, job_uuid_of(answer["location"]), answer["location"])

    def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        params: list[tuple[str, str]] | dict[str, Any] | None = None,
        wait: bool = True,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
        job_uuid: str | None = None,
        webhook: str | None = None,
    ) -> Any:
        """Any call. A synchronous one returns its answer; an asynchronous one returns the
        job's result once it ends (or the :class:`Job` itself with ``wait=False``)."""
        response = self.send(method, path, body, params=params, job_uuid=job_uuid, webhook=webhook)
        answer = decode(response)
        if not is_accepted(response, answer):
            return answer
        job = Job(self, job_uuid_of(answer["location"]), answer["location"])
        if not wait:
            return job
        return job.wait(timeout=timeout, on_progress=on_progress)

    def resource(self, collection: str, *, update_action: str | None = None) -> Resource:
        """Helpers for any collection, e.g. ``client.resource("/v1/volumes",
        update_action="updateVolume")``."""
        return Resource(self, collection, update_action=update_action)

    def events(self, path: str, *, last_event_id: str | None = None) -> Iterator[Event]:
        """Follows a Server-Sent Events stream, reconnecting with ``Last-Event-ID``.

        A per-job stream ends after the job's final event (the server then sends ``end``);
        the all-jobs stream goes on until the caller stops iterating.
        """
        decoder = EventDecoder(last_event_id)
        attempt = 0
        while True:
            headers = headers_for("GET", self.session, job_uuid=None, webhook=None)
            headers["Accept"] = "text/event-stream"
            if decoder.last_event_id:
                headers["Last-Event-ID"] = decoder.last_event_id
            try:
                with self._http.stream(
                    "GET", self.url + path, headers=headers, timeout=httpx.Timeout(30, read=None)
                ) as response:
                    if response.status_code >= 400:
                        response.read()
                        decode(response)
                    attempt = 0
                    for line in response.iter_lines():
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
                time.sleep(retry_delay(attempt))


@dataclass
class Job:
    """An accepted asynchronous call."""

    client: Client
    uuid: str
    location: str

    def poll(self, wait_seconds: float = 0.0) -> JobStatus:
        """One poll; with ``wait_seconds`` the server holds it until the job ends."""
        params = {"waitSeconds": f"{wait_seconds:g}"} if wait_seconds else None
        response = self.client.send("GET", self.location, params=params, timeout=wait_seconds + 30)
        return read_poll(self.uuid, response)

    def wait(
        self, *, timeout: float | None = None, on_progress: ProgressCallback | None = None
    ) -> dict[str, Any]:
        """Long-polls until the job ends; returns its result or raises its error.

        ``on_progress`` is called with each new (state, progress) seen.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        seen: tuple[str, int | None] | None = None
        while True:
            remaining = None if deadline is None else deadline - time.monotonic()
            status = self.poll(wait_step(remaining, with_progress=on_progress is not None))
            if on_progress is not None and (status.state, status.progress) != seen:
                seen = (status.state, status.progress)
                on_progress(status)
            if status.error is not None:
                raise status.error
            if status.done:
                return status.result or {}
            if deadline is not None and time.monotonic() >= deadline:
                raise JobWaitTimeout(self.uuid, status.state, status.progress)

    def inventory(self) -> dict[str, Any]:
        return self.client.jobs.get(self.uuid)

    def cancel(self) -> dict[str, Any]:
        return self.client.jobs.cancel(self.uuid)

    def events(self, *, last_event_id: str | None = None) -> Iterator[Event]:
        """The job's state and progress changes, live, until it ends."""
        return self.client.jobs.events(self.uuid, last_event_id=last_event_id)


class Resource:
    """create / get / query / update / delete / action on one ZStack collection."""

    def __init__(self, client: Client, collection: str, *, update_action: str | None = None):
        self.client = client
        self.collection = collection.rstrip("/")
        self.update_action = update_action

    def create(
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
        """``POST`` a creating call; returns the new inventory (or the Job)."""
        body: dict[str, Any] = {"params": params}
        if system_tags:
            body["systemTags"] = system_tags
        if user_tags:
            body["userTags"] = user_tags
        return _inventory(
            self.client.call(
                "POST",
                path or self.collection,
                body,
                wait=wait,
                timeout=timeout,
                on_progress=on_progress,
            )
        )

    def get(self, uuid: str) -> dict[str, Any]:
        found: dict[str, Any] = self.client.request("GET", f"{self.collection}/{uuid}")[
            "inventories"
        ][0]
        return found

    def query(
        self,
        q: Iterable[str] | str | None = None,
        *,
        limit: int | None = None,
        start: int | None = None,
        sort: str | None = None,
        fields: Iterable[str] | None = None,
    ) -> list[dict[str, Any]]:
        pairs = query_params(q=q, limit=limit, start=start, sort=sort, fields=fields)
        found: list[dict[str, Any]] = self.client.request("GET", self.collection, params=pairs)[
            "inventories"
        ]
        return found

    def count(self, q: Iterable[str] | str | None = None) -> int:
        pairs = query_params(q=q, count=True)
        return int(self.client.request("GET", self.collection, params=pairs)["total"])

    def action(
        self, uuid: str, name: str, params: dict[str, Any] | None = None, *, wait: bool = True
    ) -> Any:
        """``PUT <collection>/{uuid}/actions {name: params}``."""
        return _inventory(
            self.client.call(
                "PUT", f"{self.collection}/{uuid}/actions", {name: params or {}}, wait=wait
            )
        )

    def update(self, uuid: str, *, wait: bool = True, **fields: Any) -> Any:
        if self.update_action is None:
            raise TypeError(f"{self.collection} has no update action")
        return self.action(uuid, self.update_action, fields, wait=wait)

    def delete(self, uuid: str, *, wait: bool = True, **params: Any) -> Any:
        return self.client.call(
            "DELETE", f"{self.collection}/{uuid}", params=params or None, wait=wait
        )


class Zones(Resource):
    def __init__(self, client: Client) -> None:
        super().__init__(client, "/v1/zones", update_action="updateZone")

    def create(  # type: ignore[override]
        self,
        name: str,
        *,
        description: str | None = None,
        resource_uuid: str | None = None,
        wait: bool = True,
        **extra: Any,
    ) -> Any:
        params = {"name": name, "description": description, "resourceUuid": resource_uuid}
        return super().create(
            {k: v for k, v in params.items() if v is not None}, wait=wait, **extra
        )

    def change_state(self, uuid: str, state_event: str, *, wait: bool = True) -> Any:
        return self.action(uuid, "changeZoneState", {"stateEvent": state_event}, wait=wait)


class Accounts(Resource):
    def __init__(self, client: Client) -> None:
        super().__init__(client, "/v1/accounts")

    def create(  # type: ignore[override]
        self, name: str, password: str, *, description: str | None = None, wait: bool = True
    ) -> Any:
        params = {"name": name, "password": sha512_hex(password)}
        if description is not None:
            params["description"] = description
        return super().create(params, wait=wait)

    def webhook_secret(self, uuid: str) -> str:
        return str(self.client.request("GET", f"{self.collection}/{uuid}/webhook-secret")["secret"])

    def rotate_webhook_secret(self, uuid: str) -> Any:
        return self.action(uuid, "rotateWebhookSecret")


class Jobs:
    """``/v1/api-jobs``: list, inspect, wait for, cancel and watch jobs."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def job(self, uuid: str) -> Job:
        return Job(self.client, uuid, f"{self.client.url}/v1/api-jobs/{uuid}")

    def list(
        self,
        q: Iterable[str] | str | None = None,
        *,
        limit: int | None = 50,
        sort: str | None = "-createDate",
        start: int | None = None,
    ) -> list[dict[str, Any]]:
        pairs = query_params(q=q, limit=limit, sort=sort, start=start)
        found: list[dict[str, Any]] = self.client.request("GET", "/v1/api-jobs", params=pairs)[
            "inventories"
        ]
        return found

    def get(self, uuid: str) -> dict[str, Any]:
        """The job record (state, progress, request, error, webhook deliveries)."""
        found: dict[str, Any] = self.client.request("GET", f"/v1/api-jobs/{uuid}/inventory")[
            "inventories"
        ][0]
        return found

    def poll(self, uuid: str, wait_seconds: float = 0.0) -> JobStatus:
        return self.job(uuid).poll(wait_seconds)

    def wait(
        self,
        uuid: str,
        *,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> dict[str, Any]:
        return self.job(uuid).wait(timeout=timeout, on_progress=on_progress)

    def cancel(self, uuid: str) -> dict[str, Any]:
        found: dict[str, Any] = self.client.request(
            "PUT", f"/v1/api-jobs/{uuid}/actions", {"cancelApiJob": {}}
        )["inventory"]
        return found

    def redeliver(self, uuid: str) -> dict[str, Any]:
        found: dict[str, Any] = self.client.request(
            "PUT", f"/v1/api-jobs/{uuid}/actions", {"redeliverWebhook": {}}
        )["inventory"]
        return found

    def events(
        self, uuid: str | None = None, *, last_event_id: str | None = None
    ) -> Iterator[Event]:
        """Live events of one job (until it ends) or of every job visible to the caller."""
        path = f"/v1/api-jobs/{uuid}/events" if uuid else "/v1/api-jobs/events"
        return self.client.events(path, last_event_id=last_event_id)


def _inventory(answer: Any) -> Any:
    if isinstance(answer, dict) and set(answer) == {"inventory"}:
        return answer["inventory"]
    return answer
