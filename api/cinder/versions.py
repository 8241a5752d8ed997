"""Cinder's version discovery: the documents ``GET /`` (300, every version) and
``GET /v3/`` (200, this one) answer, as Cinder's ``versions`` controller shapes them.

Clients (python-cinderclient, keystoneauth/openstacksdk) read ``min_version`` and
``version`` (the highest microversion) from here before their first call.
"""

from __future__ import annotations

from typing import Any

from api.cinder.wire import MAX_VERSION, MIN_VERSION, format_version

UPDATED = "2017-09-19T20:18:14Z"  # Cinder's date for the 3.x API it shapes here
MEDIA_TYPE = "application/vnd.openstack.volume+json;version=3"


def v3_version(root: str) -> dict[str, Any]:
    """The v3 entry; ``root`` is the gateway's base URL without a trailing slash."""
    return {
        "id": "v3.0",
        "status": "CURRENT",
        "version": format_version(MAX_VERSION),
        "min_version": format_version(MIN_VERSION),
        "updated": UPDATED,
        "links": [
            {"rel": "describedby", "type": "text/html", "href": "https://docs.openstack.org/"},
            {"rel": "self", "href": f"{root}/v3/"},
        ],
        "media-types": [{"base": "application/json", "type": MEDIA_TYPE}],
    }


def versions_document(root: str) -> dict[str, Any]:
    return {"versions": [v3_version(root)]}
