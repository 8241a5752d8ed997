"""The one error tree. Every failure a user can meet has a stable code here.

A code reaches the user unchanged: in a synchronous error response, in a failed
job's poll body and in its webhook. ``docs/errors.md`` is the table of them and a
unit test keeps the two equal.

    VolplaneError                      (500, VOLPLANE.SYS.*)
    ├── BadRequest                     (400, VOLPLANE.ARG.*)
    │   ├── InvalidJSON, InvalidParameter, UnknownAction, InvalidJobUUID,
    │   ├── InvalidWebhookURL, WebhookTargetRefused, InvalidQuery,
    │   ├── BodyTooLarge, BodyTooDeep
    ├── Unauthorized                   (401, VOLPLANE.AUTH.*)
    │   ├── InvalidCredentials, SessionRequired, SessionInvalid, SessionExpired
    ├── PermissionDenied               (403, VOLPLANE.AUTH.1005)
    ├── NotFound                       (404) RouteNotFound, ResourceNotFound, JobNotFound
    ├── MethodNotAllowed               (405, VOLPLANE.ARG.1010)
    ├── Conflict                       (409) ResourceInState, ResourceInUse, DuplicateResource
    ├── JobUUIDConflict                (422, VOLPLANE.JOB.1001)
    └── job outcomes                   (503 on the poll)
        JobCancelled, JobLost, and the RESOURCE/STORAGE/AGENT/HOST errors:
        HostError (VOLPLANE.HOST.*): HostSshAuthFailed, HostUnreachable,
        HostCheckFailed, HostCommandFailed, AgentDeployFailed
"""

from __future__ import annotations

from typing import Any, ClassVar


class VolplaneError(Exception):
    """Unexpected internal error (a bug)."""

    code: ClassVar[str] = "VOLPLANE.SYS.1000"
    status: ClassVar[int] = 500
    description: ClassVar[str] = "Internal error"

    def __init__(self, details: str | None = None, **context: Any) -> None:
        self.details = details or self.description
        self.context = context
        super().__init__(self.details)

    def to_body(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.code,
                "description": self.description,
                "details": self.details,
                "elaboration": None,
                "location": None,
            }
        }

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> VolplaneError:
        """Rebuilds an error recorded on a job, keeping its code."""
        error = body.get("error", body)
        code = error.get("code", VolplaneError.code)
        found = ERRORS_BY_CODE.get(code, VolplaneError)
        return found(error.get("details"))


class DatabaseUnavailable(VolplaneError):
    code = "VOLPLANE.SYS.1001"
    status = 503
    description = "The database is unavailable; retry shortly"


# --- 400 -------------------------------------------------------------------


class BadRequest(VolplaneError):
    code = "VOLPLANE.ARG.1000"
    status = 400
    description = "Bad request"


class InvalidJSON(BadRequest):
    code = "VOLPLANE.ARG.1001"
    description = "The request body is not valid JSON"


class InvalidParameter(BadRequest):
    code = "VOLPLANE.ARG.1002"
    description = "A parameter is missing or invalid"


class UnknownAction(BadRequest):
    code = "VOLPLANE.ARG.1003"
    description = "Unknown action"


class InvalidJobUUID(BadRequest):
    code = "VOLPLANE.ARG.1004"
    description = "X-Job-UUID must be a v4 UUID as 32 lowercase hex digits"


class InvalidWebhookURL(BadRequest):
    code = "VOLPLANE.ARG.1005"
    description = "X-Web-Hook must be an absolute http(s) URL"


class WebhookTargetRefused(BadRequest):
    code = "VOLPLANE.ARG.1006"
    description = "The webhook target address is not allowed"


class InvalidQuery(BadRequest):
    code = "VOLPLANE.ARG.1007"
    description = "Invalid query"


class BodyTooLarge(BadRequest):
    code = "VOLPLANE.ARG.1011"
    description = "The request body is larger than the gateway accepts"


class BodyTooDeep(BadRequest):
    code = "VOLPLANE.ARG.1012"
    description = "The request body nests deeper than the gateway accepts"


# --- 401 / 403 -------------------------------------------------------------


class Unauthorized(VolplaneError):
    code = "VOLPLANE.AUTH.1000"
    status = 401
    description = "Not authenticated"


class InvalidCredentials(Unauthorized):
    code = "VOLPLANE.AUTH.1001"
    description = "Wrong account name or password"


class SessionRequired(Unauthorized):
    code = "VOLPLANE.AUTH.1002"
    description = "An 'Authorization: OAuth <session uuid>' header is required"


class SessionInvalid(Unauthorized):
    code = "VOLPLANE.AUTH.1003"
    description = "The session does not exist"


class SessionExpired(Unauthorized):
    code = "VOLPLANE.AUTH.1004"
    description = "The session has expired"


class PermissionDenied(VolplaneError):
    code = "VOLPLANE.AUTH.1005"
    status = 403
    description = "Only an admin account may do this"


# --- 404 / 405 -------------------------------------------------------------


class NotFound(VolplaneError):
    code = "VOLPLANE.RESOURCE.1000"
    status = 404
    description = "Not found"


class RouteNotFound(NotFound):
    code = "VOLPLANE.ARG.1009"
    description = "No such API path"


class ResourceNotFound(NotFound):
    code = "VOLPLANE.RESOURCE.1001"
    description = "The resource does not exist"


class JobNotFound(NotFound):
    code = "VOLPLANE.JOB.1000"
    description = "The job does not exist or has expired"


class MethodNotAllowed(VolplaneError):
    code = "VOLPLANE.ARG.1010"
    status = 405
    description = "Method not allowed on this path"


# --- 409 / 422 -------------------------------------------------------------


class Conflict(VolplaneError):
    code = "VOLPLANE.RESOURCE.1002"
    status = 409
    description = "The resource is in a state that does not allow this"


class ResourceInState(Conflict):
    code = "VOLPLANE.RESOURCE.1003"
    description = "The resource is in a state that does not allow this"


class ResourceInUse(Conflict):
    code = "VOLPLANE.RESOURCE.1004"
    description = "The resource is still in use"


class DuplicateResource(Conflict):
    code = "VOLPLANE.RESOURCE.1005"
    description = "A resource with this identity already exists"


class VolumeHasDependents(Conflict):
    code = "VOLPLANE.RESOURCE.1101"
    description = "The volume has snapshots or linked clones; delete them first or use force"


class SnapshotInUse(Conflict):
    code = "VOLPLANE.RESOURCE.1102"
    description = "The snapshot is used by linked clones"


class SnapshotHasChildren(Conflict):
    code = "VOLPLANE.RESOURCE.1103"
    description = "The snapshot has more than one child that needs it"


class VolumeNotUnmanageable(Conflict):
    code = "VOLPLANE.RESOURCE.1301"
    description = "The volume has snapshots or linked clones; it cannot be unmanaged"


class JobUUIDConflict(VolplaneError):
    code = "VOLPLANE.JOB.1001"
    status = 422
    description = "X-Job-UUID was already used for a different request"


# --- job outcomes ----------------------------------------------------------


class JobFailed(VolplaneError):
    """Base of errors that only ever end a job (polled as 503)."""

    code = "VOLPLANE.JOB.1002"
    status = 503
    description = "The job failed"


class JobCancelled(JobFailed):
    code = "VOLPLANE.JOB.1003"
    description = "The job was cancelled"


class JobLost(JobFailed):
    code = "VOLPLANE.JOB.1004"
    description = "The workers running this job died too many times"


class JobStateConflict(Conflict):
    code = "VOLPLANE.JOB.1006"
    description = "The job has already ended"


# --- storage (driver) errors ----------------------------------------------


class StorageError(VolplaneError):
    code = "VOLPLANE.STORAGE.1000"
    status = 500
    description = "Storage operation failed"


class InsufficientCapacity(StorageError):
    code = "VOLPLANE.STORAGE.1001"
    status = 409
    description = "Not enough capacity in the pool"


class DriverCommandFailed(StorageError):
    """A storage command (qemu-img, mount, mkfs) exited non-zero; details carry its stderr."""

    code = "VOLPLANE.STORAGE.1002"
    description = "A storage command failed"


class UnsupportedPoolType(StorageError):
    code = "VOLPLANE.STORAGE.1003"
    status = 400
    description = "This pool type is not supported on this deployment"


class InvalidStoragePath(StorageError):
    code = "VOLPLANE.STORAGE.1004"
    status = 400
    description = "The storage path is not usable"


class DeviceInUse(StorageError):
    code = "VOLPLANE.STORAGE.1005"
    status = 409
    description = "The block device is in use or holds data"


class StorageUnreachable(StorageError):
    """The pool's server (NFS, SMB, Ceph, iSCSI) does not answer."""

    code = "VOLPLANE.STORAGE.1007"
    status = 503
    description = "The storage server cannot be reached"


class IntegrityError(StorageError):
    code = "VOLPLANE.STORAGE.1006"
    description = "Stored data does not match its checksum"


class InsufficientSnapshotCapacity(StorageError):
    code = "VOLPLANE.STORAGE.1101"
    status = 409
    description = "The volume's snapshots would exceed its snapshotCapacity"


class NoPoolAvailable(StorageError):
    code = "VOLPLANE.STORAGE.1102"
    status = 409
    description = "No enabled, connected pool available to this account can hold the volume"


class VolumeShrinkRefused(StorageError):
    code = "VOLPLANE.STORAGE.1103"
    status = 409
    description = "A volume can only grow; shrinking it would lose data"


class LinkedCloneAcrossPools(StorageError):
    code = "VOLPLANE.STORAGE.1104"
    status = 409
    description = "A linked clone must live in the pool of its snapshot"


class BackupDataMissing(StorageError):
    """A backup's manifest is gone from its backup storage (deleted outside volplane)."""

    code = "VOLPLANE.STORAGE.1201"
    status = 409
    description = "The backup's data is missing from its backup storage"


class ImageNotManageable(StorageError):
    code = "VOLPLANE.STORAGE.1301"
    status = 409
    description = "The image is not safe to manage"


# --- host agent errors -----------------------------------------------------


class AgentError(VolplaneError):
    code = "VOLPLANE.AGENT.1000"
    status = 502
    description = "The host agent reported an error"


class AgentUnreachable(AgentError):
    code = "VOLPLANE.AGENT.1001"
    description = "The host agent cannot be reached"


class AgentTimeout(AgentError):
    code = "VOLPLANE.AGENT.1002"
    description = "The host agent did not answer in time"


class AgentAuthFailed(AgentError):
    code = "VOLPLANE.AGENT.1003"
    description = "The host agent refused the token"


class HostNotConnected(AgentError):
    code = "VOLPLANE.AGENT.1004"
    status = 409
    description = "The host is not connected or is in maintenance"


# --- adding hosts over SSH --------------------------------------------------


class HostError(VolplaneError):
    code = "VOLPLANE.HOST.1000"
    status = 502
    description = "Reaching the host over SSH or deploying its agent failed"


class HostSshAuthFailed(HostError):
    code = "VOLPLANE.HOST.1001"
    status = 400
    description = "The host refused the SSH username and password (or key)"


class HostUnreachable(HostError):
    code = "VOLPLANE.HOST.1002"
    description = "The host cannot be reached over SSH"


class HostCheckFailed(HostError):
    code = "VOLPLANE.HOST.1003"
    status = 409
    description = (
        "The host lacks what its agent needs (qemu-img, Python 3.11+ with the agent's "
        "libraries, free space)"
    )


class HostCommandFailed(HostError):
    code = "VOLPLANE.HOST.1004"
    description = "A command run on the host over SSH failed"


class AgentDeployFailed(HostError):
    code = "VOLPLANE.HOST.1005"
    description = "The agent installed on the host did not come up"


def _all_subclasses(cls: type[VolplaneError]) -> list[type[VolplaneError]]:
    found: list[type[VolplaneError]] = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_all_subclasses(sub))
    return found


def all_error_classes() -> list[type[VolplaneError]]:
    """Every error class, the root first; error codes are unique (a unit test says so)."""
    return [VolplaneError, *_all_subclasses(VolplaneError)]


ERRORS_BY_CODE: dict[str, type[VolplaneError]] = {}


def register_codes() -> None:
    """Indexes every error class by code; call again after defining new subclasses."""
    ERRORS_BY_CODE.clear()
    for cls in all_error_classes():
        ERRORS_BY_CODE.setdefault(cls.code, cls)


register_codes()
