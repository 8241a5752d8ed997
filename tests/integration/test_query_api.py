"""The query language through the gateway, on real resources made by real jobs."""

from __future__ import annotations

from pathlib import Path

from tests.agents import running_agent
from tests.infra import infrastructure
from tests.stack import Stack, new_name
from tests.storage import snapshot, volume


def names(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    return sorted(inv["name"] for inv in response.json()["inventories"])


def test_joins_tags_paging_and_tenant_isolation(production_stack: Stack, tmp_path: Path) -> None:
    admin = production_stack.login()
    with running_agent(tmp_path / "agent") as agent:
        # Given infrastructure, and two tenants each with a volume and a snapshot
        infra = infrastructure(admin, agent, tmp_path)
        zone, pool = infra.zone, infra.pool
        a_name, b_name = new_name("qa"), new_name("qb")
        admin.create_account(a_name, "pa")
        admin.create_account(b_name, "pb")
        tenant_a = production_stack.login(a_name, "pa")
        tenant_b = production_stack.login(b_name, "pb")
        vol_a = volume(tenant_a, pool["uuid"], name=new_name("va"))
        vol_b = volume(tenant_b, pool["uuid"], name=new_name("vb"))
        snap_a = snapshot(tenant_a, vol_a["uuid"], new_name("sa"))
        snapshot(tenant_b, vol_b["uuid"], new_name("sb"))

        # Depth 1: volumes by their pool's name
        by_pool = tenant_a.get("/v1/volumes", params={"q": f"primaryStorage.name={pool['name']}"})
        assert names(by_pool) == [vol_a["name"]]
        # Depth 3: snapshots by their volume's pool's zone
        deep = tenant_a.get(
            "/v1/volume-snapshots", params={"q": f"volume.primaryStorage.zone.name={zone['name']}"}
        )
        assert names(deep) == [snap_a["name"]]
        # Depth 2 from the zone side; admin sees both tenants' volumes through joins
        zones = admin.get("/v1/zones", params={"q": f"primaryStorage.volumes.name={vol_b['name']}"})
        assert names(zones) == [zone["name"]]

        # Tenant isolation holds through joins: B learns nothing about A's rows
        for query in (
            f"volume.accountUuid={vol_a['accountUuid']}",
            f"volume.name={vol_a['name']}",
            f"volume.uuid={vol_a['uuid']}",
        ):
            assert tenant_b.get("/v1/volume-snapshots", params={"q": query}).json() == {
                "inventories": []
            }
        leak = tenant_b.get(
            "/v1/zones", params={"q": f"primaryStorage.volumes.name={vol_a['name']}"}
        )
        assert names(leak) == []
        assert tenant_b.get(f"/v1/volumes/{vol_a['uuid']}").status_code == 404

    # Tags given at creation are stored and queryable
    tagged = admin.call(
        "POST",
        "/v1/zones",
        json={
            "params": {"name": new_name("tagged")},
            "userTags": ["gold"],
            "systemTags": ["tier::1"],
        },
    ).json()["inventory"]
    assert tagged["name"] in names(admin.get("/v1/zones", params={"q": "__userTag__=gold"}))
    assert tagged["name"] in names(admin.get("/v1/zones", params={"q": "__systemTag__~=tier::%"}))
    assert tagged["name"] not in names(admin.get("/v1/zones", params={"q": "__userTag__!=gold"}))


def test_paging_counts_sorting_fields_and_errors(production_stack: Stack) -> None:
    admin = production_stack.login()
    prefix = new_name("page")
    for index in range(5):
        admin.create_zone(f"{prefix}-{index}")
    q = {"q": f"name~={prefix}-%"}
    assert admin.get("/v1/zones", params={**q, "count": "true"}).json() == {"total": 5}
    page = admin.get(
        "/v1/zones",
        params={**q, "sort": "-name", "limit": "2", "start": "1", "replyWithCount": "true"},
    ).json()
    assert page["total"] == 5
    assert [z["name"] for z in page["inventories"]] == [f"{prefix}-3", f"{prefix}-2"]
    only = admin.get("/v1/zones", params={**q, "fields": "uuid,name", "limit": "1"}).json()
    assert set(only["inventories"][0]) == {"uuid", "name"}
    in_list = admin.get("/v1/zones", params={"q": f"name?={prefix}-1,{prefix}-4"})
    assert names(in_list) == [f"{prefix}-1", f"{prefix}-4"]

    unknown = admin.get("/v1/zones", params={"q": "colour=red"})
    assert unknown.status_code == 400
    error = unknown.json()["error"]
    assert error["code"] == "VOLPLANE.ARG.1007"
    assert "colour" in error["details"] and "name" in error["details"]
    hostile = admin.get("/v1/zones", params={"q": "name='; drop table zones; --"})
    assert hostile.status_code == 200 and hostile.json()["inventories"] == []
    assert admin.get("/v1/zones", params={"limit": "-1"}).status_code == 400
    # Parameters a call does not know are ignored, as ZStack's server ignores them
    # (its SDKs add sessionId=); the query language's own keep their checks.
    ignored = admin.get("/v1/zones", params={**q, "bogus": "1", "sessionId": admin.session})
    assert ignored.status_code == 200 and len(ignored.json()["inventories"]) == 5


def test_fields_keeps_every_queryable_field(production_stack: Stack) -> None:
    """``fields=webhookState`` on jobs answers the state, not null (issue's example)."""
    from tests.stack import free_port, job_uuid

    admin = production_stack.login()
    job = job_uuid()
    hook = f"http://127.0.0.1:{free_port()}/hook"  # nobody listens: the delivery is retried
    accepted = admin.request(
        "POST",
        "/v1/zones",
        json={"params": {"name": new_name("z")}},
        headers={"X-Job-UUID": job, "X-Web-Hook": hook},
    )
    assert accepted.status_code == 202, accepted.text
    admin.wait(accepted.json()["location"])
    record = admin.get(f"/v1/api-jobs/{job}/inventory").json()["inventories"][0]
    state = record["webhook"]["state"]
    assert state is not None and record["webhookState"] == state
    found = admin.get(
        f"/v1/api-jobs?q=webhookState={state}&q=uuid={job}&fields=uuid,apiName,webhookState"
    ).json()["inventories"]
    assert found == [{"uuid": job, "apiName": "CreateZone", "webhookState": state}]
