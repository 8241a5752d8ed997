"""Infrastructure that holds volumes is not deleted from under them (unless enforced)."""

from __future__ import annotations

from pathlib import Path

from tests.agents import running_agent
from tests.infra import infrastructure
from tests.stack import Stack
from tests.storage import error_code, snapshot, volume


def test_pool_and_host_holding_volumes_refuse_deletion(
    production_stack: Stack, tmp_path: Path
) -> None:
    admin = production_stack.login()
    with running_agent(tmp_path / "agent") as agent:
        # Given a pool holding a volume with a snapshot
        infra = infrastructure(admin, agent, tmp_path)
        pool, host, cluster = infra.pool, infra.host, infra.cluster
        vol = volume(admin, pool["uuid"])
        snapshot(admin, vol["uuid"])

        # Then deleting the pool, detaching it or deleting its host is refused
        assert error_code(admin.call("DELETE", f"/v1/primary-storage/{pool['uuid']}")) == (
            "VOLPLANE.RESOURCE.1004"
        )
        detach = admin.call(
            "DELETE", f"/v1/clusters/{cluster['uuid']}/primary-storage/{pool['uuid']}"
        )
        assert error_code(detach) == "VOLPLANE.RESOURCE.1004"
        assert error_code(admin.call("DELETE", f"/v1/hosts/{host['uuid']}")) == (
            "VOLPLANE.RESOURCE.1004"
        )
        assert admin.get(f"/v1/volumes/{vol['uuid']}").status_code == 200

        # When the deletion is enforced, the records go and the image files stay
        enforced = admin.call(
            "DELETE", f"/v1/primary-storage/{pool['uuid']}", params={"deleteMode": "Enforcing"}
        )
        assert enforced.status_code == 200, enforced.text
        assert admin.get(f"/v1/volumes/{vol['uuid']}").status_code == 404
        assert admin.get(f"/v1/primary-storage/{pool['uuid']}").status_code == 404
        assert Path(vol["installPath"]).exists()
