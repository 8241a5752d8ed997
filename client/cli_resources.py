"""``volplane <resource> <verb>``: list/show/update/delete for every resource, and the
verbs that make or act on each (create, add, attach, snapshot, clone, backup, restore...).
Every reference to another resource takes its name or its uuid."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import click

from client.cli_base import (
    Options,
    UsageError,
    client_command,
    drop_none,
    parse_size,
    resolve,
    submit,
)
from client.sync import Client


@dataclass(frozen=True)
class Noun:
    name: str
    collection: str
    update_action: str | None
    columns: tuple[str, ...]
    label: str = ""
    force_delete: bool = False

    @property
    def what(self) -> str:
        return self.label or self.name.replace("-", " ")

    def uuid(self, client: Client, ref: str) -> str:
        return resolve(client, self.collection, self.what, ref)


ZONE = Noun("zone", "/v1/zones", "updateZone", ("uuid", "name", "state"))
CLUSTER = Noun("cluster", "/v1/clusters", "updateCluster", ("uuid", "name", "state"))
HOST = Noun("host", "/v1/hosts", "updateHost", ("uuid", "name", "status", "managementIp"))
POOL = Noun(
    "primary-storage",
    "/v1/primary-storage",
    "updatePrimaryStorage",
    ("uuid", "name", "type", "status", "totalCapacity", "availableCapacity"),
)
BACKUP_STORAGE = Noun(
    "backup-storage",
    "/v1/backup-storage",
    "updateBackupStorage",
    ("uuid", "name", "type", "status", "totalCapacity", "availableCapacity"),
)
VOLUME = Noun(
    "volume",
    "/v1/volumes",
    "updateVolume",
    ("uuid", "name", "status", "size", "primaryStorageUuid"),
    force_delete=True,
)
SNAPSHOT = Noun(
    "snapshot", "/v1/volume-snapshots", "updateVolumeSnapshot", ("uuid", "name", "volumeUuid")
)
OFFERING = Noun(
    "disk-offering",
    "/v1/disk-offerings",
    "updateDiskOffering",
    ("uuid", "name", "diskSize", "state"),
)
BACKUP = Noun("backup", "/v1/volume-backups", None, ("uuid", "name", "status", "volumeUuid"))
NOUNS = (ZONE, CLUSTER, HOST, POOL, BACKUP_STORAGE, OFFERING, VOLUME, SNAPSHOT, BACKUP)


def add_common_verbs(root: click.Group, noun: Noun) -> click.Group:
    group = click.Group(noun.name, help=f"{noun.what}s ({noun.collection})")
    root.add_command(group)

    @client_command(group, "list", help=f"list {noun.what}s", aliases=("ls",), columns=noun.columns)
    @click.option("-q", "conditions", multiple=True, help="condition, e.g. name=foo (repeatable)")
    @click.option("--limit", type=int, default=100, show_default=True)
    @click.option("--sort", help="+field or -field")
    def _list(
        opts: Options, client: Client, conditions: tuple[str, ...], limit: int, sort: str | None
    ) -> Any:
        return client.resource(noun.collection).query(list(conditions), limit=limit, sort=sort)

    @client_command(group, "show", help=f"show one {noun.what} (name or uuid)")
    @click.argument("ref")
    def _show(opts: Options, client: Client, ref: str) -> Any:
        return client.resource(noun.collection).get(noun.uuid(client, ref))

    force = (
        [click.option("--force", is_flag=True, help="delete even if it is in use or has data")]
        if noun.force_delete
        else []
    )

    def delete(opts: Options, client: Client, ref: str, force: bool = False) -> Any:
        uuid = noun.uuid(client, ref)
        params = [("force", "true")] if force else None
        return submit(
            opts,
            client,
            f"delete {noun.what} {ref}",
            "DELETE",
            f"{noun.collection}/{uuid}",
            params=params,
        )

    for option in force:
        delete = option(delete)
    client_command(
        group, "delete", help=f"delete a {noun.what}", asynchronous=True, aliases=("rm",)
    )(click.argument("ref")(delete))

    if noun.update_action is not None:
        action = noun.update_action

        @client_command(
            group, "update", help=f"rename or describe a {noun.what}", asynchronous=True
        )
        @click.argument("ref")
        @click.option("--name")
        @click.option("--description")
        def _update(
            opts: Options, client: Client, ref: str, name: str | None, description: str | None
        ) -> Any:
            uuid = noun.uuid(client, ref)
            body = {action: drop_none(name=name, description=description)}
            return submit(
                opts,
                client,
                f"update {noun.what} {ref}",
                "PUT",
                f"{noun.collection}/{uuid}/actions",
                body,
            )

    return group


def add_resource_commands(root: click.Group) -> None:
    groups = {noun.name: add_common_verbs(root, noun) for noun in NOUNS}
    _zone(groups["zone"])
    _cluster(groups["cluster"])
    _host(groups["host"])
    _pool(groups["primary-storage"])
    _backup_storage(groups["backup-storage"])
    _offering(groups["disk-offering"])
    _volume(groups["volume"])
    _snapshot(groups["snapshot"])
    _backup(groups["backup"])


def _zone(group: click.Group) -> None:
    @client_command(group, "create", help="create a zone", asynchronous=True)
    @click.argument("name")
    @click.option("--description")
    def _create(opts: Options, client: Client, name: str, description: str | None) -> Any:
        params = drop_none(name=name, description=description)
        return submit(opts, client, f"create zone {name}", "POST", "/v1/zones", {"params": params})


def _cluster(group: click.Group) -> None:
    @client_command(group, "create", help="create a cluster in a zone", asynchronous=True)
    @click.argument("name")
    @click.option("--zone", required=True, help="zone name or uuid")
    @click.option("--hypervisor", default="KVM", show_default=True)
    @click.option("--description")
    def _create(
        opts: Options,
        client: Client,
        name: str,
        zone: str,
        hypervisor: str,
        description: str | None,
    ) -> Any:
        params = drop_none(
            name=name,
            zoneUuid=ZONE.uuid(client, zone),
            hypervisorType=hypervisor,
            description=description,
        )
        return submit(
            opts, client, f"create cluster {name}", "POST", "/v1/clusters", {"params": params}
        )


def _host(group: click.Group) -> None:
    @client_command(
        group, "add", help="add a host: its agent's token, or SSH to deploy it", asynchronous=True
    )
    @click.argument("name")
    @click.option("--cluster", required=True, help="cluster name or uuid")
    @click.option("--ip", "management_ip", required=True, help="the host's management address")
    @click.option("--agent-port", type=int, help="the agent's port (default 7070)")
    @click.option("--agent-token", help="the running agent's token (no SSH)")
    @click.option("--username", help="SSH user, to deploy the agent")
    @click.option("--password", help="SSH password (only used to deploy)")
    @click.option("--ssh-port", type=int)
    def _add(
        opts: Options,
        client: Client,
        name: str,
        cluster: str,
        management_ip: str,
        agent_port: int | None,
        agent_token: str | None,
        username: str | None,
        password: str | None,
        ssh_port: int | None,
    ) -> Any:
        params = drop_none(
            name=name,
            clusterUuid=CLUSTER.uuid(client, cluster),
            managementIp=management_ip,
            agentPort=agent_port,
            agentToken=agent_token,
            username=username,
            password=password,
            sshPort=ssh_port,
        )
        return submit(opts, client, f"add host {name}", "POST", "/v1/hosts/kvm", {"params": params})

    @client_command(group, "reconnect", help="check the host's agent again", asynchronous=True)
    @click.argument("ref")
    def _reconnect(opts: Options, client: Client, ref: str) -> Any:
        uuid = HOST.uuid(client, ref)
        body: dict[str, Any] = {"reconnectHost": {}}
        return submit(
            opts, client, f"reconnect host {ref}", "PUT", f"/v1/hosts/{uuid}/actions", body
        )


def _pool(group: click.Group) -> None:
    @client_command(group, "add", help="add a pool (primary storage)", asynchronous=True)
    @click.argument("name")
    @click.option("--path", "url", required=True, help="its directory (a device for disk pools)")
    @click.option("--type", "kind", default="local-storage", show_default=True)
    @click.option("--host", help="host name or uuid (local-storage, disk)")
    @click.option("--zone", help="zone name or uuid")
    @click.option("--cluster", help="attach to this cluster (name or uuid)")
    def _add(
        opts: Options,
        client: Client,
        name: str,
        url: str,
        kind: str,
        host: str | None,
        zone: str | None,
        cluster: str | None,
    ) -> Any:
        params = drop_none(
            name=name,
            url=url,
            hostUuid=HOST.uuid(client, host) if host else None,
            zoneUuid=ZONE.uuid(client, zone) if zone else None,
            clusterUuid=CLUSTER.uuid(client, cluster) if cluster else None,
        )
        return submit(
            opts,
            client,
            f"add pool {name}",
            "POST",
            f"/v1/primary-storage/{kind}",
            {"params": params},
        )

    @client_command(group, "attach", help="attach a pool to a cluster", asynchronous=True)
    @click.argument("ref")
    @click.option("--cluster", required=True)
    def _attach(opts: Options, client: Client, ref: str, cluster: str) -> Any:
        pool, target = POOL.uuid(client, ref), CLUSTER.uuid(client, cluster)
        path = f"/v1/clusters/{target}/primary-storage/{pool}"
        return submit(opts, client, f"attach pool {ref}", "POST", path)


def _backup_storage(group: click.Group) -> None:
    @client_command(group, "add", help="add an image store on a host", asynchronous=True)
    @click.argument("name")
    @click.option("--path", "url", required=True, help="its directory on the host")
    @click.option("--host", required=True, help="host name or uuid")
    def _add(opts: Options, client: Client, name: str, url: str, host: str) -> Any:
        params = {"name": name, "url": url, "hostUuid": HOST.uuid(client, host)}
        return submit(
            opts,
            client,
            f"add backup storage {name}",
            "POST",
            "/v1/backup-storage/image-store",
            {"params": params},
        )

    @client_command(group, "attach", help="attach backup storage to a zone", asynchronous=True)
    @click.argument("ref")
    @click.option("--zone", required=True)
    def _attach(opts: Options, client: Client, ref: str, zone: str) -> Any:
        storage, target = BACKUP_STORAGE.uuid(client, ref), ZONE.uuid(client, zone)
        path = f"/v1/zones/{target}/backup-storage/{storage}"
        return submit(opts, client, f"attach backup storage {ref}", "POST", path)


def _offering(group: click.Group) -> None:
    @client_command(group, "create", help="a disk offering: a named volume size", asynchronous=True)
    @click.argument("name")
    @click.option("--size", required=True, help="bytes, or with a suffix: 10G, 512M")
    @click.option("--description")
    def _create(
        opts: Options, client: Client, name: str, size: str, description: str | None
    ) -> Any:
        params = drop_none(name=name, diskSize=parse_size(size), description=description)
        body = {"params": params}
        return submit(
            opts, client, f"create disk offering {name}", "POST", "/v1/disk-offerings", body
        )


def _volume(group: click.Group) -> None:
    @client_command(group, "create", help="create an empty data volume", asynchronous=True)
    @click.argument("name")
    @click.option("--size", help="bytes, or with a suffix: 10G, 512M")
    @click.option("--offering", help="disk offering name or uuid (instead of --size)")
    @click.option("--pool", required=True, help="primary storage name or uuid")
    @click.option("--description")
    def _create(
        opts: Options,
        client: Client,
        name: str,
        size: str | None,
        offering: str | None,
        pool: str,
        description: str | None,
    ) -> Any:
        if (size is None) == (offering is None):
            raise UsageError("give --size or --offering")
        params = drop_none(
            name=name,
            diskSize=parse_size(size) if size else None,
            diskOfferingUuid=OFFERING.uuid(client, offering) if offering else None,
            primaryStorageUuid=POOL.uuid(client, pool),
            description=description,
        )
        return submit(
            opts, client, f"create volume {name}", "POST", "/v1/volumes/data", {"params": params}
        )

    def volume_action(
        verb: str, label: str, body: Any, ref: str, opts: Options, client: Client
    ) -> Any:
        uuid = VOLUME.uuid(client, ref)
        return submit(opts, client, f"{label} {ref}", "PUT", f"/v1/volumes/{uuid}/actions", body)

    @client_command(group, "resize", help="grow a volume", asynchronous=True)
    @click.argument("ref")
    @click.option("--size", required=True)
    def _resize(opts: Options, client: Client, ref: str, size: str) -> Any:
        body = {"resizeDataVolume": {"size": parse_size(size)}}
        return volume_action("resize", "resize volume", body, ref, opts, client)

    @client_command(
        group, "flatten", help="copy its backing chain in: no longer linked", asynchronous=True
    )
    @click.argument("ref")
    def _flatten(opts: Options, client: Client, ref: str) -> Any:
        return volume_action("flatten", "flatten volume", {"flattenVolume": {}}, ref, opts, client)

    @client_command(group, "snapshot", help="snapshot a volume", asynchronous=True)
    @click.argument("ref")
    @click.option("--name", required=True)
    @click.option("--description")
    def _snapshot(
        opts: Options, client: Client, ref: str, name: str, description: str | None
    ) -> Any:
        uuid = VOLUME.uuid(client, ref)
        params = drop_none(name=name, description=description)
        return submit(
            opts,
            client,
            f"snapshot volume {ref}",
            "POST",
            f"/v1/volumes/{uuid}/volume-snapshots",
            {"params": params},
        )

    @client_command(group, "backup", help="back a volume up to backup storage", asynchronous=True)
    @click.argument("ref")
    @click.option("--name", required=True)
    @click.option("--storage", required=True, help="backup storage name or uuid")
    @click.option("--incremental", is_flag=True, help="only what changed since the last backup")
    def _backup(
        opts: Options, client: Client, ref: str, name: str, storage: str, incremental: bool
    ) -> Any:
        return create_backup(opts, client, ref, name, storage, incremental)


def create_backup(
    opts: Options, client: Client, ref: str, name: str, storage: str, incremental: bool
) -> Any:
    uuid = VOLUME.uuid(client, ref)
    params = {
        "name": name,
        "backupStorageUuid": BACKUP_STORAGE.uuid(client, storage),
        "mode": "incremental" if incremental else "full",
    }
    return submit(
        opts,
        client,
        f"back up volume {ref}",
        "POST",
        f"/v1/volumes/{uuid}/volume-backups",
        {"params": params},
    )


def _snapshot(group: click.Group) -> None:
    @client_command(group, "revert", help="revert its volume to this snapshot", asynchronous=True)
    @click.argument("ref")
    def _revert(opts: Options, client: Client, ref: str) -> Any:
        uuid = SNAPSHOT.uuid(client, ref)
        path = f"/v1/volume-snapshots/{uuid}/actions"
        body: dict[str, Any] = {"revertVolumeFromSnapshot": {}}
        return submit(opts, client, f"revert to snapshot {ref}", "PUT", path, body)

    @client_command(
        group,
        "clone",
        help="a new volume from a snapshot (full copy unless --linked)",
        asynchronous=True,
    )
    @click.argument("ref")
    @click.argument("name")
    @click.option("--linked", is_flag=True, help="share the snapshot's data (copy on write)")
    @click.option("--pool", help="primary storage name or uuid (default: the snapshot's)")
    def _clone(
        opts: Options, client: Client, ref: str, name: str, linked: bool, pool: str | None
    ) -> Any:
        uuid = SNAPSHOT.uuid(client, ref)
        params = drop_none(
            name=name, linked=linked, primaryStorageUuid=POOL.uuid(client, pool) if pool else None
        )
        return submit(
            opts,
            client,
            f"clone snapshot {ref}",
            "POST",
            f"/v1/volumes/data/from/volume-snapshots/{uuid}",
            {"params": params},
        )

    @client_command(group, "tree", help="a volume's snapshot tree")
    @click.argument("volume")
    def _tree(opts: Options, client: Client, volume: str) -> Any:
        uuid = VOLUME.uuid(client, volume)
        found = client.request("GET", f"/v1/volume-snapshots/trees/{uuid}")["inventories"]
        return found[0] if found else {}


def _backup(group: click.Group) -> None:
    @client_command(group, "create", help="back a volume up", asynchronous=True)
    @click.argument("volume")
    @click.option("--name", required=True)
    @click.option("--storage", required=True, help="backup storage name or uuid")
    @click.option("--incremental", is_flag=True)
    def _create(
        opts: Options, client: Client, volume: str, name: str, storage: str, incremental: bool
    ) -> Any:
        return create_backup(opts, client, volume, name, storage, incremental)

    @client_command(group, "restore", help="a new volume from a backup", asynchronous=True)
    @click.argument("ref")
    @click.argument("name")
    @click.option("--pool", help="primary storage name or uuid")
    def _restore(opts: Options, client: Client, ref: str, name: str, pool: str | None) -> Any:
        uuid = BACKUP.uuid(client, ref)
        params = drop_none(name=name, primaryStorageUuid=POOL.uuid(client, pool) if pool else None)
        return submit(
            opts,
            client,
            f"restore backup {ref}",
            "POST",
            f"/v1/volumes/data/from/volume-backups/{uuid}",
            {"params": params},
        )
