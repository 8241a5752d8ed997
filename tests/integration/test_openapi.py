"""``/openapi.json`` describes the routes of all three dialects, and the live stack keeps
to it: schemathesis (property-based, bounded) finds no 500 and no answer outside the
schema."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.stack import Stack

EXAMPLES_PER_OPERATION = 6
# Requests naming a network address (a host's managementIp, an NFS or samba url, a backup
# storage hostname) would have workers reach addresses the generator made up: never fuzzed.
ADDRESS_FIELDS = ('"managementIp"', '"url"', '"hostname"')
# Calls that change the whole deployment (its settings, its database's backups): the
# stack is shared with other tests, so they are not fuzzed.
DEPLOYMENT_WIDE = ("/v1/cluster/set/global/config", "/v1/cluster/data/snapshot/")
UUID = r"^[0-9a-f]{32}$"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def names_an_address(definition: dict[str, Any]) -> bool:
    text = json.dumps(definition)
    return any(field in text for field in ADDRESS_FIELDS)


def fetch_spec(stack: Stack) -> dict[str, Any]:
    response = httpx.get(f"{stack.url}/openapi.json", timeout=30)
    assert response.status_code == 200
    spec: dict[str, Any] = response.json()
    return spec


def test_spec_covers_the_routes_with_models(production_stack: Stack) -> None:
    spec = fetch_spec(production_stack)
    assert spec["openapi"].startswith("3.1")
    paths = spec["paths"]
    # Creating calls carry their operation's pydantic model inside the ZStack envelope
    create = paths["/v1/zones"]["post"]
    params = create["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert params["params"]["properties"]["name"]["maxLength"] == 255
    assert params["params"]["additionalProperties"] is False
    assert "202" in create["responses"]
    # Actions are one object per action name; the uuid comes from the path
    actions = paths["/v1/zones/{uuid}/actions"]["put"]["requestBody"]["content"]
    choices = actions["application/json"]["schema"]["oneOf"]
    assert {next(iter(c["properties"])) for c in choices} == {"updateZone", "changeZoneState"}
    assert all("uuid" not in next(iter(c["properties"].values()))["properties"] for c in choices)
    # Deletes are asynchronous and take their operation's options from the query string
    delete = paths["/v1/zones/{uuid}"]["delete"]
    assert "202" in delete["responses"]
    assert "deleteMode" in {p["name"] for p in delete["parameters"]}
    # Collections take the query language and answer inventories
    listing = paths["/v1/zones"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {"q", "limit", "sort", "count"}
    inventory = spec["components"]["schemas"]["ZoneInventory"]
    assert {"uuid", "name", "state", "createDate"} <= set(inventory["properties"])
    assert paths["/v1/accounts/login"]["put"]["security"] == []
    assert "/v1/debug/sleep" not in paths  # test-only routes are not the API


def test_path_uuids_carry_the_pattern_the_server_enforces(production_stack: Stack) -> None:
    paths = fetch_spec(production_stack)["paths"]

    def path_schema(path: str, method: str, name: str) -> dict[str, Any]:
        parameters = paths[path][method]["parameters"]
        return dict(
            next(p for p in parameters if p["name"] == name and p["in"] == "path")["schema"]
        )

    assert path_schema("/v1/zones/{uuid}/actions", "put", "uuid")["pattern"] == UUID
    assert path_schema("/v1/volume-snapshots/{uuid}/actions", "put", "uuid")["pattern"] == UUID
    # Placeholders carry ZStack's field names (its SDKs repeat them in bodies).
    snapshots = "/v1/volumes/{volumeUuid}/volume-snapshots"
    assert path_schema(snapshots, "post", "volumeUuid")["pattern"] == UUID
    attach = "/v1/clusters/{clusterUuid}/primary-storage/{primaryStorageUuid}"
    assert path_schema(attach, "post", "clusterUuid")["pattern"] == UUID
    assert path_schema(attach, "post", "primaryStorageUuid")["pattern"] == UUID
    # and the server does refuse what the pattern refuses
    admin = production_stack.login()
    refused = admin.request("PUT", "/v1/zones/not-a-uuid/actions", json={"updateZone": {}})
    assert refused.status_code == 400, refused.text


def test_the_share_and_cinder_dialects_are_described(production_stack: Stack) -> None:
    spec = fetch_spec(production_stack)
    paths = spec["paths"]
    # share-storage: the model that validates the request, and the envelope
    create = paths["/v1/volume/share/create"]["post"]
    body = create["requestBody"]["content"]["application/json"]["schema"]
    assert {"cluster_uuid", "pool_uuid", "volume_name", "snap_capacity"} <= set(body["required"])
    assert "pattern" in body["properties"]["pool_uuid"]
    assert create["responses"]["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ShareEnvelope"
    }
    progress = {p["name"] for p in paths["/v1/volume/share/clone/progress"]["get"]["parameters"]}
    assert {"volume_uuid", "tenant", "cluster_uuid"} <= progress
    assert {"/v1/pool/share/create", "/v1/cluster/add"} <= set(paths)
    # Cinder: the manage body, the listing query, its own token and fault shape
    manage = paths["/v3/{project_id}/manageable_volumes"]["post"]
    volume = manage["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert {"host", "cluster", "ref", "name"} <= set(volume["volume"]["properties"])
    assert manage["security"] == [{"cinderToken": []}]
    listing = paths["/v3/{project_id}/manageable_volumes"]["get"]["parameters"]
    assert {"host", "sort", "limit", "offset", "marker"} <= {p["name"] for p in listing}
    assert "cinderToken" in spec["components"]["securitySchemes"]


def test_docs_page_is_self_contained(production_stack: Stack) -> None:
    page = httpx.get(f"{production_stack.url}/docs", timeout=30)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "openapi.json" in page.text
    assert "https://" not in page.text and "http://" not in page.text  # no CDN


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_live_stack_conforms_to_its_schema(production_stack: Stack, mode: GenerationMode) -> None:
    # Given the published schema and an admin session
    spec = fetch_spec(production_stack)
    schema = schemathesis.openapi.from_dict(spec)
    admin = production_stack.login()
    headers = {"Authorization": f"OAuth {admin.session}"}
    operations = [
        result.ok()
        for result in schema.get_all_operations()
        # Event streams never end by themselves; they have their own tests.
        if not result.ok().definition.raw.get("x-stream")
        and not names_an_address(result.ok().definition.raw)
        and not result.ok().path.startswith(DEPLOYMENT_WIDE)
    ]
    assert len(operations) > 10

    # When each operation is called with generated requests, bounded per operation
    failures: list[str] = []
    for operation in operations:

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case: Any) -> None:
            case.call_and_validate(
                base_url=production_stack.url, headers=headers, checks=CHECKS, timeout=30
            )

        try:
            run()
        except Exception as exc:  # collect all, so one run shows every mismatch
            failures.append(f"{operation.label}: {exc}"[:2000])

    # Then no answer was a 500 or outside the schema
    assert not failures, "\n\n".join(failures)


def test_every_path_under_v3_answers_in_cinders_shape(production_stack: Stack) -> None:
    # a newline in the project id (found by schemathesis) once fell out of the mount
    for path in ["/v3/a%0Ab/manageable_volumes", "/v3/nothing/here"]:
        response = httpx.get(f"{production_stack.url}{path}", timeout=30)
        assert response.status_code in (401, 404), response.text
        assert "error" not in response.json()
        assert next(iter(response.json().values()))["code"] == response.status_code
