"""Zone operations, declared: ``workers/operations/zones.py`` runs them."""

from __future__ import annotations

from schemas import requests as rq
from volplane.operation import Operation

CREATE_ZONE = Operation("CreateZone", rq.CreateZone, "Zone", admin_only=True)
UPDATE_ZONE = Operation("UpdateZone", rq.UpdateZone, "Zone", admin_only=True)
CHANGE_ZONE_STATE = Operation("ChangeZoneState", rq.ChangeZoneState, "Zone", admin_only=True)
DELETE_ZONE = Operation("DeleteZone", rq.DeleteResource, "Zone", admin_only=True)
