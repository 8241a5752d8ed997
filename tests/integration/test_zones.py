"""The zone lifecycle over HTTP through real workers, in both deployment modes."""

from __future__ import annotations

from tests.stack import Stack, new_name


def test_zone_lifecycle(stack: Stack) -> None:
    # Given an admin session
    admin = stack.login()
    name = new_name("zone")

    # When a zone is created, the call is accepted with a job location
    accepted = admin.request(
        "POST", "/v1/zones", json={"params": {"name": name, "description": "d"}}
    )
    assert accepted.status_code == 202, accepted.text
    location = accepted.json()["location"]
    assert location.startswith(stack.url + "/v1/api-jobs/")
    assert accepted.headers["Location"] == location
    assert accepted.headers["X-Job-UUID"] == location.rsplit("/", 1)[1]
    assert accepted.headers["Retry-After"] == "1"
    assert accepted.json()["apiTimeout"] > 0

    # Then polling gives the created zone
    done = admin.wait(location)
    assert done.status_code == 200, done.text
    zone = done.json()["inventory"]
    assert zone["name"] == name and zone["state"] == "Enabled" and zone["description"] == "d"
    assert zone["createDate"].endswith("Z")

    got = admin.get(f"/v1/zones/{zone['uuid']}")
    assert got.status_code == 200
    assert got.json()["inventories"] == [zone]
    found = admin.get("/v1/zones", params={"q": f"name={name}"})
    assert [z["uuid"] for z in found.json()["inventories"]] == [zone["uuid"]]

    updated = admin.call(
        "PUT", f"/v1/zones/{zone['uuid']}/actions", json={"updateZone": {"name": name + "-2"}}
    )
    assert updated.status_code == 200 and updated.json()["inventory"]["name"] == name + "-2"

    disabled = admin.call(
        "PUT",
        f"/v1/zones/{zone['uuid']}/actions",
        json={"changeZoneState": {"stateEvent": "disable"}},
    )
    assert disabled.json()["inventory"]["state"] == "Disabled"

    deleted = admin.call("DELETE", f"/v1/zones/{zone['uuid']}")
    assert deleted.status_code == 200 and deleted.json() == {}
    missing = admin.get(f"/v1/zones/{zone['uuid']}")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "VOLPLANE.RESOURCE.1001"


def test_zstack_prefix_keeps_prefix_in_location(stack: Stack) -> None:
    admin = stack.login()
    accepted = admin.request("POST", "/zstack/v1/zones", json={"params": {"name": new_name()}})
    assert accepted.status_code == 202
    assert accepted.json()["location"].startswith(stack.url + "/zstack/v1/api-jobs/")
    assert admin.wait(accepted.json()["location"]).status_code == 200


def test_operation_on_missing_zone_fails_with_resource_code(stack: Stack) -> None:
    admin = stack.login()
    failed = admin.call(
        "PUT", "/v1/zones/" + "0" * 32 + "/actions", json={"updateZone": {"name": "x"}}
    )
    assert failed.status_code == 503
    assert failed.json()["error"]["code"] == "VOLPLANE.RESOURCE.1001"


def test_a_uuid_in_the_query_string_cannot_redirect_a_delete(stack: Stack) -> None:
    admin = stack.login()
    target, bystander = admin.create_zone(), admin.create_zone()
    refused = admin.request(
        "DELETE", f"/v1/zones/{target['uuid']}", params={"uuid": bystander["uuid"]}
    )
    assert refused.status_code == 400, refused.text
    deleted = admin.call("DELETE", f"/v1/zones/{target['uuid']}", params={"uuid": target["uuid"]})
    assert deleted.status_code == 200, deleted.text
    assert admin.get(f"/v1/zones/{target['uuid']}").status_code == 404
    assert admin.get(f"/v1/zones/{bystander['uuid']}").status_code == 200
