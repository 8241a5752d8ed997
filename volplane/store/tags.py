"""User and system tags attached to any resource."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete
from sqlalchemy.orm import Session

from schemas.tables import ResourceTag


def add_tags(
    session: Session,
    resource_uuid: str,
    resource_type: str,
    *,
    system: Sequence[str] = (),
    user: Sequence[str] = (),
) -> None:
    for tag_type, tags in (("system", system), ("user", user)):
        for tag in dict.fromkeys(tags):
            session.add(
                ResourceTag(
                    resource_uuid=resource_uuid,
                    resource_type=resource_type,
                    tag_type=tag_type,
                    tag=tag,
                )
            )


def delete_tags(session: Session, resource_uuid: str) -> None:
    session.execute(delete(ResourceTag).where(ResourceTag.resource_uuid == resource_uuid))
