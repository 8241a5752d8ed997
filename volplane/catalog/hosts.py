"""Host operations, declared: ``workers/operations/hosts.py`` runs them."""

from __future__ import annotations

from schemas import infra_requests as rq
from schemas.requests import DeleteResource
from volplane.operation import Operation

ADD_KVM_HOST = Operation("AddKVMHost", rq.AddKvmHost, "Host", admin_only=True)
RECONNECT_HOST = Operation("ReconnectHost", rq.ReconnectHost, "Host", admin_only=True)
CHANGE_HOST_STATE = Operation("ChangeHostState", rq.ChangeHostState, "Host", admin_only=True)
UPDATE_HOST = Operation("UpdateHost", rq.UpdateHost, "Host", admin_only=True)
DELETE_HOST = Operation("DeleteHost", DeleteResource, "Host", admin_only=True)
