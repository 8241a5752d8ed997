"""Cinder's wire rules, as plain functions: microversions, manage bodies, listing
sort and pagination, and the views of manageable entries and volumes.

Follows Cinder's API reference and code: ``OpenStack-API-Version: volume 3.8``,
``paginate_entries_list`` (sort ``reference|size`` with ``:asc|:desc``, default
``reference:desc``; ``marker`` is a previous entry's ``reference`` as JSON; the page
is ``sorted[marker + offset : marker + offset + limit]``) and the manage schema
(``volume_manage_create``: only the listed keys, ``ref`` required).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from api.cinder.errors import CinderBadRequest, CinderNotFound, VersionNotAcceptable
from api.json_body import loads
from schemas.storage import VolumeStatus
from volplane.errors import BadRequest

MIN_VERSION = (3, 0)
MAX_VERSION = (3, 71)  # what openstacksdk asks for managing (its Volume's maximum)
MANAGEABLE_VERSION = (3, 8)  # manageable_volumes resources exist from here
MANAGE_CLUSTER_VERSION = (3, 16)  # "cluster" in a manage request
LIST_CLUSTER_VERSION = (3, 17)  # "cluster" when listing
GiB = 1 << 30
MAX_LIMIT = 1000

Version = tuple[int, int]


# --- microversions ---------------------------------------------------------------

_VERSION = re.compile(r"^([1-9]\d*)\.(0|[1-9]\d*)$")


def format_version(version: Version) -> str:
    return f"{version[0]}.{version[1]}"


def requested_version(header: str | None, legacy: str | None = None) -> Version:
    """The volume microversion a request asks for (``OpenStack-API-Version: volume
    3.8``, or the older ``OpenStack-Volume-API-Version: 3.8``); 3.0 when absent."""
    wanted: str | None = None
    for item in (header or "").split(","):
        service, _, value = item.strip().partition(" ")
        if service.lower() == "volume":
            wanted = value.strip()
    if wanted is None and legacy:
        wanted = legacy.strip()
    if not wanted:
        return MIN_VERSION
    if wanted.lower() == "latest":
        return MAX_VERSION
    found = _VERSION.match(wanted)
    if found is None:
        raise CinderBadRequest(
            f"API Version String {wanted} is of invalid format. Must be of format "
            "MajorNum.MinorNum."
        )
    version = (int(found[1]), int(found[2]))
    if not MIN_VERSION <= version <= MAX_VERSION:
        raise VersionNotAcceptable(
            f"Version {wanted} is not supported by the API. Minimum is "
            f"{format_version(MIN_VERSION)} and maximum is {format_version(MAX_VERSION)}."
        )
    return version


def require_version(version: Version, minimum: Version, what: str) -> None:
    """Below the version a resource appeared in, Cinder answers 404."""
    if version < minimum:
        raise CinderNotFound(
            f"The resource could not be found. ({what} needs {format_version(minimum)})"
        )


# --- manage requests -------------------------------------------------------------

MANAGE_KEYS = {
    "description",
    "availability_zone",
    "bootable",
    "volume_type",
    "name",
    "host",
    "ref",
    "metadata",
}
STRING_OR_NULL_FIELDS = (
    "description",
    "availability_zone",
    "volume_type",
    "name",
    "host",
    "cluster",
)


@dataclass(frozen=True)
class ManageRequest:
    host: str | None
    cluster: str | None
    source_name: str
    name: str | None
    description: str | None
    volume_type: str | None
    metadata: dict[str, str]
    bootable: bool


def _invalid(field: str, why: str) -> CinderBadRequest:
    return CinderBadRequest(f"Invalid input for field/attribute {field}. {why}")


def parse_manage(body: Any, version: Version) -> ManageRequest:
    """Validates ``{"volume": {...}}`` as Cinder's ``volume_manage_create`` schema
    does, then the host/cluster rule (exactly one of them)."""
    if not isinstance(body, dict) or "volume" not in body:
        raise _invalid("volume", "'volume' is a required property")
    extra = sorted(set(body) - {"volume"})
    if extra:
        raise _invalid(
            "body", f"Additional properties are not allowed ({_quoted(extra)} was unexpected)"
        )
    volume = body["volume"]
    if not isinstance(volume, dict):
        raise _invalid("volume", f"Value: {volume!r}. {volume!r} is not of type 'object'")
    allowed = MANAGE_KEYS | ({"cluster"} if version >= MANAGE_CLUSTER_VERSION else set())
    extra = sorted(set(volume) - allowed)
    if extra:
        raise _invalid(
            "volume", f"Additional properties are not allowed ({_quoted(extra)} was unexpected)"
        )
    if "ref" not in volume:
        raise _invalid("volume", "'ref' is a required property")
    for key in STRING_OR_NULL_FIELDS:
        value = volume.get(key)
        if value is not None and not isinstance(value, str):
            raise _invalid(key, f"Value: {value!r}. {value!r} is not of type 'string', 'null'")
        if isinstance(value, str) and len(value) > 255 and key != "description":
            raise _invalid(key, f"Value: {value!r}. {value!r} is too long")
    # openstacksdk sends every optional key, unset ones as null: null is "not given".
    bootable = volume.get("bootable") or False
    if not isinstance(bootable, bool) and bootable not in ("true", "false", "True", "False"):
        raise _invalid("bootable", f"Value: {bootable!r}. {bootable!r} is not of type 'boolean'")
    metadata = volume.get("metadata") or {}
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise _invalid("metadata", "Value must be an object of strings")
    host, cluster = volume.get("host") or None, volume.get("cluster") or None
    if (host is None) == (cluster is None):
        raise CinderBadRequest("One and only one of cluster and host must be set.")
    return ManageRequest(
        host=host,
        cluster=cluster,
        source_name=_source_name(volume["ref"]),
        name=volume.get("name") or None,
        description=volume.get("description"),
        volume_type=volume.get("volume_type") or None,
        metadata=metadata,
        bootable=bootable in (True, "true", "True"),
    )


def _source_name(ref: Any) -> str:
    """Our images are files: ``source-name`` (or ``source-id``) is the path in the pool."""
    if isinstance(ref, str) and ref:
        return ref
    if not isinstance(ref, dict):
        raise _invalid("ref", f"Value: {ref!r}. {ref!r} is not of type 'object', 'string'")
    for key in ("source-name", "source-id"):
        value = ref.get(key)
        if isinstance(value, str) and value:
            return value
    raise CinderBadRequest(
        "Manage existing volume failed due to invalid backend reference "
        f"{json.dumps(ref)}: Reference must contain source-name or source-id element."
    )


def _quoted(keys: list[str]) -> str:
    return ", ".join(repr(k) for k in keys)


# --- listing manageable volumes ------------------------------------------------------

SORT_KEYS = ("reference", "size")


@dataclass(frozen=True)
class Page:
    sort: list[tuple[str, str]]
    limit: int
    offset: int
    marker: dict[str, Any] | None


def parse_page(params: dict[str, str]) -> Page:
    sort: list[tuple[str, str]] = []
    for item in (params.get("sort") or "").split(","):
        if not item.strip():
            continue
        key, _, direction = item.strip().partition(":")
        direction = direction.strip().lower() or "desc"
        if direction not in ("asc", "desc"):
            raise CinderBadRequest("Unknown sort direction, must be 'desc' or 'asc'")
        sort.append((key.strip(), direction))
    bad = sorted({key for key, _ in sort} - set(SORT_KEYS))
    if bad:
        raise CinderBadRequest(f"Invalid sort keys passed: {', '.join(bad)}")
    return Page(
        sort=sort or [("reference", "desc")],
        limit=_count(params, "limit", MAX_LIMIT, upper=MAX_LIMIT),
        offset=_count(params, "offset", 0),
        marker=_marker(params.get("marker")),
    )


def _count(params: dict[str, str], key: str, default: int, *, upper: int | None = None) -> int:
    raw = params.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise CinderBadRequest(f"{key} param must be an integer") from None
    if value < 0:
        raise CinderBadRequest(f"{key} param must be positive")
    return min(value, upper) if upper is not None else value


def _marker(raw: str | None) -> dict[str, Any] | None:
    if not raw:
        return None
    try:
        # A marker is one flat object; anything nesting deeper is no marker.
        marker = loads(raw, max_depth=2)
    except BadRequest:
        raise CinderBadRequest(
            f"marker {raw} can not be analysed, please use json like format"
        ) from None
    if not isinstance(marker, dict):
        raise CinderBadRequest(f"marker {raw} can not be analysed, please use json like format")
    return marker


def _sort_value(entry: dict[str, Any], key: str) -> Any:
    value = entry[key]
    if isinstance(value, dict):  # a reference sorts by its (first) value, as Cinder does
        return sorted(value.values())[0]
    return value


def paginate(entries: list[dict[str, Any]], page: Page) -> list[dict[str, Any]]:
    """Cinder's ``paginate_entries_list``."""
    ordered = list(entries)
    # Stable sorts from the last key to the first give the combined order.
    for key, direction in reversed(page.sort):
        ordered.sort(key=lambda e, k=key: _sort_value(e, k), reverse=direction == "desc")  # type: ignore[misc]
    start = 0
    if page.marker is not None:
        for index, entry in enumerate(ordered):
            if entry["reference"] == page.marker:
                start = index + 1
                break
        else:
            raise CinderBadRequest(f"marker not found: {page.marker}")
    return ordered[start + page.offset : start + page.offset + page.limit]


def gib(size: int) -> int:
    return -(-size // GiB)


def manageable_entry(
    *,
    source_name: str,
    size: int,
    safe: bool,
    reason: str | None,
    volume_uuid: str | None,
    extra: dict[str, Any] | None,
) -> dict[str, Any]:
    """A detailed entry; the summary keeps ``reference``, ``size``, ``safe_to_manage``."""
    return {
        "reference": {"source-name": source_name},
        "size": gib(size),
        "safe_to_manage": safe,
        "reason_not_safe": reason,
        "cinder_id": volume_uuid,
        "extra_info": extra,
    }


def summary(entry: dict[str, Any]) -> dict[str, Any]:
    return {key: entry[key] for key in ("reference", "size", "safe_to_manage")}


# --- volumes ------------------------------------------------------------------------

STATUS: dict[str, str] = {
    VolumeStatus.CREATING: "creating",
    VolumeStatus.READY: "available",
    VolumeStatus.DELETING: "deleting",
    VolumeStatus.ERROR: "error",
}


def cinder_time(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") if moment is not None else None


def volume_view(
    *,
    volume_id: str,
    project_id: str,
    status: str,
    size: int,
    name: str | None,
    description: str | None,
    created_at: datetime | None,
    updated_at: datetime | None,
    base_url: str,
    availability_zone: str | None = None,
    host: str | None = None,
    metadata: dict[str, str] | None = None,
    bootable: bool = False,
    version: Version = MIN_VERSION,
) -> dict[str, Any]:
    """Cinder's detailed volume view (``{"volume": {...}}`` holds it) at ``version``:
    3.48 adds ``shared_targets``/``service_uuid``, 3.61 ``cluster_name`` (admins),
    3.63 ``volume_type_id``, 3.65 ``consumes_quota``. ``host`` is given for admins only."""
    link = f"{base_url}/v3/{project_id}/volumes/{volume_id}"
    view: dict[str, Any] = {
        "id": volume_id,
        "name": name,
        "description": description,
        "status": status,
        "size": gib(size),
        "availability_zone": availability_zone,
        "created_at": cinder_time(created_at),
        "updated_at": cinder_time(updated_at),
        "attachments": [],
        "bootable": "true" if bootable else "false",
        "encrypted": False,
        "multiattach": False,
        "metadata": metadata or {},
        "links": [
            {"href": link, "rel": "self"},
            {"href": f"{base_url}/{project_id}/volumes/{volume_id}", "rel": "bookmark"},
        ],
        "snapshot_id": None,
        "source_volid": None,
        "user_id": project_id,
        "volume_type": None,
        "replication_status": None,
        "consistencygroup_id": None,
        "migration_status": None,
        "group_id": None,
        "os-vol-tenant-attr:tenant_id": project_id,
    }
    if host is not None:
        view["os-vol-host-attr:host"] = host
    for since, key, value in VERSIONED_VOLUME_FIELDS:
        if version >= since and (key != "cluster_name" or host is not None):
            view[key] = value
    return view


# (microversion, field, value): a file-backed volume has no shared target, no volume
# type, no Cinder service or cluster, and counts against its account.
VERSIONED_VOLUME_FIELDS: list[tuple[Version, str, Any]] = [
    ((3, 48), "shared_targets", False),
    ((3, 48), "service_uuid", None),
    ((3, 61), "cluster_name", None),
    ((3, 63), "volume_type_id", None),
    ((3, 65), "consumes_quota", True),
]
