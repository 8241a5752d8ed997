"""The chaos workload: actors submitting a mix of storage calls through either gateway.

Each call carries its own ``X-Job-UUID``, so a submission that met a dead gateway or a
stopped database is retried (on the other gateway) without risk of running twice. A job
is *accepted* once the system knows it; its end is read from its record
(``/v1/api-jobs/{uuid}/inventory``), never from an error answer a stopped service gave.
"""

from __future__ import annotations

import random
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

MiB = 1 << 20
FINAL = {"Succeeded": "completed", "Failed": "failed", "Cancelled": "failed"}


@dataclass
class Job:
    uuid: str
    kind: str
    name: str | None = None
    accepted: bool = False
    outcome: str = "pending"  # completed | failed | refused | lost | stuck
    state: str | None = None
    error: str | None = None
    result: dict[str, Any] | None = None


class Api:
    """Calls through the deployment's gateways, retried across outages."""

    def __init__(self, urls: list[str], session: str, *, patience: float = 30.0) -> None:
        self.urls = urls
        self.headers = {"Authorization": f"OAuth {session}"}
        self.patience = patience
        self.http = httpx.Client(timeout=httpx.Timeout(15.0, connect=2.0))
        self._rng = random.Random()

    def close(self) -> None:
        self.http.close()

    def _url(self) -> str:
        return self._rng.choice(self.urls)

    def read(self, path: str, **params: Any) -> httpx.Response | None:
        """A GET retried until it answers something other than an outage, or None."""
        deadline = time.monotonic() + self.patience
        while time.monotonic() < deadline:
            try:
                answer = self.http.get(self._url() + path, params=params, headers=self.headers)
            except httpx.HTTPError:
                time.sleep(0.5)
                continue
            if answer.status_code < 500:
                return answer
            time.sleep(0.5)
        return None

    def submit(self, job: Job, method: str, path: str, body: dict[str, Any] | None) -> Job:
        deadline = time.monotonic() + self.patience
        headers = {**self.headers, "X-Job-UUID": job.uuid}
        while time.monotonic() < deadline:
            try:
                answer = self.http.request(method, self._url() + path, json=body, headers=headers)
            except httpx.HTTPError:
                time.sleep(0.5)
                continue
            if answer.status_code == 202:
                job.accepted = True
                return job
            if answer.status_code < 500:
                job.outcome, job.error = "refused", f"{answer.status_code} {answer.text[:200]}"
                return job
            time.sleep(0.5)
        job.outcome, job.error = "refused", "no gateway accepted it in time"
        return job

    def record(self, job_uuid: str) -> dict[str, Any] | str | None:
        """The job's record, ``"absent"`` if the system does not know it, None if unknown."""
        answer = self.read(f"/v1/api-jobs/{job_uuid}/inventory")
        if answer is None:
            return None
        if answer.status_code == 404:
            return "absent"
        if answer.status_code != 200:
            return None
        return dict(answer.json()["inventories"][0])

    def wait(self, job: Job, timeout: float) -> Job:
        """Waits for the job's end (long polls), then reads its record."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.http.get(
                    f"{self._url()}/v1/api-jobs/{job.uuid}",
                    params={"waitSeconds": "5"},
                    headers=self.headers,
                )
            except httpx.HTTPError:
                time.sleep(0.5)
            found = self.record(job.uuid)
            if found == "absent":
                job.outcome = "lost"
                return job
            if isinstance(found, dict) and found["state"] in FINAL:
                job.state = found["state"]
                job.outcome = FINAL[found["state"]]
                job.error = (found.get("error") or {}).get("code") if found.get("error") else None
                if job.outcome == "completed":
                    result = self.read(f"/v1/api-jobs/{job.uuid}")
                    if result is not None and result.status_code == 200:
                        job.result = result.json().get("inventory")
                return job
            if job.outcome == "lost":  # known again after all
                job.outcome = "pending"
        job.outcome = "pending"
        return job


@dataclass
class Volume:
    uuid: str
    pool: str
    path: str
    snapshots: list[str] = field(default_factory=list)


@dataclass
class Ledger:
    """Every job submitted and every name created, shared by all actors."""

    jobs: list[Job] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # name -> resource kind
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, job: Job) -> None:
        with self.lock:
            self.jobs.append(job)
            if job.name is not None:
                self.names[job.name] = job.kind.split(".")[0]


class Actor:
    """One client's loop: it creates, snapshots, clones, backs up, restores and deletes
    its own volumes, and updates the zone, each call waited for before the next."""

    def __init__(
        self,
        api: Api,
        ledger: Ledger,
        *,
        pools: list[str],
        backup_storage: str,
        zone: str,
        seed: int,
        job_timeout: float = 90.0,
    ) -> None:
        self.api = api
        self.ledger = ledger
        self.pools = pools
        self.backup_storage = backup_storage
        self.zone = zone
        self.rng = random.Random(seed)
        self.job_timeout = job_timeout
        self.volumes: list[Volume] = []
        self.backups: list[str] = []

    def _call(
        self, kind: str, method: str, path: str, body: dict[str, Any] | None, name: str | None
    ) -> Job:
        job = Job(uuid.uuid4().hex, kind, name)
        self.ledger.add(job)
        self.api.submit(job, method, path, body)
        if job.accepted:
            self.api.wait(job, self.job_timeout)
        return job

    def _name(self, kind: str) -> str:
        return f"chaos-{kind}-{uuid.uuid4().hex[:12]}"

    def step(self) -> None:
        choices: list[tuple[float, Any]] = [(3.0, self.create_volume), (1.0, self.update_zone)]
        if self.volumes:
            choices += [(3.0, self.snapshot), (2.0, self.backup)]
            choices += [(1.5, self.delete_volume)] if len(self.volumes) > 2 else []
        if any(v.snapshots for v in self.volumes):
            choices += [(2.0, self.clone), (1.0, self.delete_snapshot)]
        if self.backups:
            choices += [(1.0, self.restore), (1.0, self.delete_backup)]
        weights = [w for w, _ in choices]
        self.rng.choices([fn for _, fn in choices], weights)[0]()

    def _adopt(self, job: Job) -> None:
        """A volume a finished job made becomes this actor's to use."""
        if job.outcome == "completed" and job.result:
            inv = job.result
            self.volumes.append(Volume(inv["uuid"], inv["primaryStorageUuid"], inv["installPath"]))
            self._write(inv["installPath"])

    def _write(self, path: str) -> None:
        """Guest data, as qemu-io writes it (between jobs: nothing else uses the image)."""
        offset = self.rng.randrange(0, 14) * MiB
        pattern = self.rng.randrange(1, 255)
        subprocess.run(
            ["qemu-io", "-f", "qcow2", "-c", f"write -P {pattern} {offset} {MiB}", path],
            capture_output=True,
        )

    def create_volume(self) -> None:
        name = self._name("vol")
        body = {"params": {"name": name, "diskSize": 16 * MiB, "primaryStorageUuid": self._pool()}}
        self._adopt(self._call("volume.create", "POST", "/v1/volumes/data", body, name))

    def _pool(self) -> str:
        return self.rng.choice(self.pools)

    def _volume(self) -> Volume:
        return self.rng.choice(self.volumes)

    def snapshot(self) -> None:
        vol = self._volume()
        name = self._name("snap")
        path = f"/v1/volumes/{vol.uuid}/volume-snapshots"
        job = self._call("snapshot.create", "POST", path, {"params": {"name": name}}, name)
        if job.outcome == "completed" and job.result:
            vol.snapshots.append(job.result["uuid"])
            self._write(vol.path)
        elif job.outcome != "failed":
            self.volumes.remove(vol)  # in doubt: left alone from now on

    def clone(self) -> None:
        vol = self.rng.choice([v for v in self.volumes if v.snapshots])
        snap = self.rng.choice(vol.snapshots)
        name = self._name("vol")
        body = {"params": {"name": name, "linked": False, "primaryStorageUuid": self._pool()}}
        path = f"/v1/volumes/data/from/volume-snapshots/{snap}"
        self._adopt(self._call("volume.clone", "POST", path, body, name))

    def backup(self) -> None:
        vol = self._volume()
        name = self._name("backup")
        body = {"params": {"name": name, "backupStorageUuid": self.backup_storage}}
        path = f"/v1/volumes/{vol.uuid}/volume-backups"
        job = self._call("backup.create", "POST", path, body, name)
        if job.outcome == "completed" and job.result:
            self.backups.append(job.result["uuid"])

    def restore(self) -> None:
        backup = self.rng.choice(self.backups)
        name = self._name("vol")
        body = {"params": {"name": name, "primaryStorageUuid": self._pool()}}
        path = f"/v1/volumes/data/from/volume-backups/{backup}"
        self._adopt(self._call("volume.restore", "POST", path, body, name))

    def delete_volume(self) -> None:
        vol = self._volume()
        self.volumes.remove(vol)
        self._call("volume.delete", "DELETE", f"/v1/volumes/{vol.uuid}", None, None)

    def delete_snapshot(self) -> None:
        vol = self.rng.choice([v for v in self.volumes if v.snapshots])
        snap = self.rng.choice(vol.snapshots)
        vol.snapshots.remove(snap)
        self._call("snapshot.delete", "DELETE", f"/v1/volume-snapshots/{snap}", None, None)

    def delete_backup(self) -> None:
        backup = self.rng.choice(self.backups)
        self.backups.remove(backup)
        self._call("backup.delete", "DELETE", f"/v1/volume-backups/{backup}", None, None)

    def update_zone(self) -> None:
        body = {"updateZone": {"description": uuid.uuid4().hex}}
        self._call("zone.update", "PUT", f"/v1/zones/{self.zone}/actions", body, None)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.step()
            except Exception as exc:  # an actor's own bug must not end the run silently
                print(f"chaos actor error: {exc!r}", flush=True)
                time.sleep(1)
