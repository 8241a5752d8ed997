"""What a pool's volumes own, which host may list it, and which pool a Cinder name means.

Read by the gateway's listings and by the manage operations (``workers/operations/manage.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from schemas.agent import OwnedImage
from schemas.infra import Cluster, Host, HostStatus, PrimaryStorage
from schemas.states import ResourceState
from schemas.storage import Volume, VolumeSnapshot
from schemas.tables import ApiJob
from volplane.errors import InvalidParameter, ResourceInState, ResourceNotFound


def owned_images(session: Session, pool_uuid: str) -> list[OwnedImage]:
    """Every file of the pool a volume owns: heads, bases and snapshot images."""
    owned: dict[str, OwnedImage] = {}
    volumes = session.scalars(select(Volume).where(Volume.primary_storage_uuid == pool_uuid))
    for volume in volumes:
        owned[volume.install_path] = OwnedImage(
            path=volume.install_path, volume_uuid=volume.uuid, role="head"
        )
        if volume.base_path is not None:
            owned.setdefault(
                volume.base_path,
                OwnedImage(path=volume.base_path, volume_uuid=volume.uuid, role="base"),
            )
    snapshots = session.scalars(
        select(VolumeSnapshot).where(VolumeSnapshot.primary_storage_uuid == pool_uuid)
    )
    for snapshot in snapshots:
        # A snapshot image that is a linked clone's base belongs to the snapshot's volume.
        owned[snapshot.install_path] = OwnedImage(
            path=snapshot.install_path, volume_uuid=snapshot.volume_uuid, role="snapshot"
        )
    return list(owned.values())


def pool_hosts(session: Session, pool: PrimaryStorage) -> list[Host]:
    if pool.host_uuid is not None:
        host = session.get(Host, pool.host_uuid)
        return [host] if host is not None else []
    clusters = [ref.cluster_uuid for ref in pool.cluster_refs]
    if not clusters:
        return []
    return list(
        session.scalars(
            select(Host).where(Host.cluster_uuid.in_(clusters)).order_by(Host.create_date)
        )
    )


@dataclass(frozen=True)
class AgentAddress:
    url: str
    token: str


def listing_agent(session: Session, pool: PrimaryStorage) -> AgentAddress:
    """A connected host that reaches the pool (maintenance excluded)."""
    for host in pool_hosts(session, pool):
        if host.status == HostStatus.CONNECTED and host.state != ResourceState.MAINTENANCE:
            return AgentAddress(host.agent_url, host.agent_token)
    raise ResourceInState(f"primary storage {pool.uuid} is reachable from no connected host")


def _named(column: Any, key_column: Any, value: str) -> Any:
    return or_(column == value, key_column == value.replace("-", "").lower())


def resolve_pool(session: Session, *, host: str | None, cluster: str | None) -> PrimaryStorage:
    """The pool a Cinder ``host`` (``<hostName>@<poolName>``, ``host@backend#pool``, or
    a pool uuid) or ``cluster`` (``<clusterName>@<poolName>``) names."""
    spec = host if host is not None else cluster
    assert spec is not None
    plain = spec.replace("-", "").lower()
    if "@" not in spec:
        pool = session.get(PrimaryStorage, plain) if len(plain) == 32 else None
        if pool is None:
            raise ResourceNotFound(f"Service {spec} could not be found.")
        return pool
    node, _, backend = spec.partition("@")
    backend, _, pool_part = backend.partition("#")
    candidates = []
    if not pool_part or pool_part == backend:
        pools = session.scalars(
            select(PrimaryStorage).where(_named(PrimaryStorage.name, PrimaryStorage.uuid, backend))
        )
        for pool in pools:
            hosts = pool_hosts(session, pool)
            if host is not None:
                reaches = any(node in (h.name, h.uuid) for h in hosts)
            else:
                clusters = {ref.cluster_uuid for ref in pool.cluster_refs}
                clusters |= {h.cluster_uuid for h in hosts if pool.host_uuid is not None}
                names = session.scalars(
                    select(Cluster.name).where(Cluster.uuid.in_(clusters))
                ).all()
                reaches = node in clusters or node in names
            if reaches:
                candidates.append(pool)
    if not candidates:
        raise ResourceNotFound(f"Service {spec} could not be found.")
    if len(candidates) > 1:
        raise InvalidParameter(f"{spec} names {len(candidates)} pools; use a pool uuid")
    return candidates[0]


def manage_job_of(session: Session, volume_uuid: str) -> ApiJob | None:
    """The latest ManageVolume job that was to make ``volume_uuid``."""
    return session.scalar(
        select(ApiJob)
        .where(ApiJob.resource_uuid == volume_uuid, ApiJob.api_name == "ManageVolume")
        .order_by(ApiJob.id.desc())
        .limit(1)
    )
