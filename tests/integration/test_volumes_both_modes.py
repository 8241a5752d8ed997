"""The volume path works the same in embedded (SQLite) and production mode."""

from __future__ import annotations

from pathlib import Path

from tests.agents import running_agent
from tests.infra import infrastructure
from tests.stack import Stack
from tests.storage import holds, revert, snapshot, volume, write


def test_volume_snapshot_revert_delete(stack: Stack, tmp_path: Path) -> None:
    admin = stack.login()
    with running_agent(tmp_path / "agent") as agent:
        infra = infrastructure(admin, agent, tmp_path)
        vol = volume(admin, infra.pool["uuid"])
        write(vol["installPath"], 0x5A)
        snap = snapshot(admin, vol["uuid"])
        write(vol["installPath"], 0x00)
        assert revert(admin, snap["uuid"]).status_code == 200
        current = admin.get(f"/v1/volumes/{vol['uuid']}").json()["inventories"][0]
        assert holds(current["installPath"], 0x5A)
        deleted = admin.call("DELETE", f"/v1/volumes/{vol['uuid']}", params={"force": "true"})
        assert deleted.status_code == 200, deleted.text
        assert not Path(current["installPath"]).exists()
