"""The gateway's synchronous listing of a pool's manageable images (asks the pool's agent)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from drivers.client import AgentClient
from schemas.agent import ManageableImage
from schemas.infra import HostStatus, PrimaryStorage
from volplane.errors import ResourceInState, ResourceNotFound
from volplane.store.manageable import listing_agent, owned_images


@dataclass(frozen=True)
class PoolListing:
    """A pool's images, for the gateway's synchronous listings."""

    pool: PrimaryStorage
    images: list[ManageableImage]


def list_manageable(
    session: Session,
    agent_client: Callable[[str, str], AgentClient],
    pool_uuid: str,
) -> PoolListing:
    """Asks the pool's agent (``agent_client(url, token) -> AgentClient``) to judge the
    pool's files. Only admins may list (the gateway checks)."""
    pool = session.get(PrimaryStorage, pool_uuid)
    if pool is None:
        raise ResourceNotFound(f"primary storage {pool_uuid} does not exist")
    if pool.status != HostStatus.CONNECTED:
        raise ResourceInState(f"primary storage {pool.uuid} is {pool.status}")
    address = listing_agent(session, pool)
    owned = owned_images(session, pool.uuid)
    answer = agent_client(address.url, address.token).manageable_images(pool.mount_path, owned)
    return PoolListing(pool=pool, images=answer.images)
