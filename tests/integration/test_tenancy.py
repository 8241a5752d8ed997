"""Tenants see and steer only their own jobs; everything else is a 404."""

from __future__ import annotations

import json

from tests.stack import Stack, new_name


def test_tenant_b_cannot_see_or_cancel_tenant_a_jobs(production_stack: Stack) -> None:
    admin = production_stack.login()
    a_name, b_name = new_name("a"), new_name("b")
    a_account = admin.create_account(a_name, "pa")
    admin.create_account(b_name, "pb")
    tenant_a = production_stack.login(a_name, "pa")
    tenant_b = production_stack.login(b_name, "pb")

    location = tenant_a.request("POST", "/v1/debug/sleep", json={"params": {"seconds": 5}}).json()[
        "location"
    ]
    uuid = location.rsplit("/", 1)[1]

    assert tenant_b.get(f"/v1/api-jobs/{uuid}").status_code == 404
    assert tenant_b.get(f"/v1/api-jobs/{uuid}/inventory").status_code == 404
    listed = tenant_b.get("/v1/api-jobs", params={"q": f"uuid={uuid}"}).json()["inventories"]
    assert listed == []
    all_b = tenant_b.get("/v1/api-jobs").json()["inventories"]
    assert uuid not in json.dumps(all_b)
    cancel = tenant_b.request("PUT", f"/v1/api-jobs/{uuid}/actions", json={"cancelApiJob": {}})
    assert cancel.status_code == 404
    # Tenant A, and the admin, do see it.
    assert tenant_a.get(f"/v1/api-jobs/{uuid}").status_code in (200, 202)
    assert admin.get("/v1/api-jobs", params={"q": f"uuid={uuid}"}).json()["inventories"]
    # Another tenant's account and secret are 404 too.
    assert tenant_b.get(f"/v1/accounts/{a_account['uuid']}").status_code == 404
    assert tenant_b.get(f"/v1/accounts/{a_account['uuid']}/webhook-secret").status_code == 404
    assert (
        tenant_a.request(
            "PUT", f"/v1/api-jobs/{uuid}/actions", json={"cancelApiJob": {}}
        ).status_code
        == 200
    )


def test_tenants_read_but_do_not_manage_zones(production_stack: Stack) -> None:
    admin = production_stack.login()
    zone = admin.create_zone()
    name = new_name("t")
    admin.create_account(name, "p")
    tenant = production_stack.login(name, "p")
    assert tenant.get(f"/v1/zones/{zone['uuid']}").status_code == 200
    refused = tenant.request("POST", "/v1/zones", json={"params": {"name": "mine"}})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "VOLPLANE.AUTH.1005"
    assert (
        tenant.request(
            "POST", "/v1/accounts", json={"params": {"name": "x", "password": "y"}}
        ).status_code
        == 403
    )
