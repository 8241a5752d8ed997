"""Inventories of clusters, hosts, primary and backup storage (ZStack camelCase).

A host's agent token is never part of any of them.
"""

from __future__ import annotations

from typing import Any

from schemas.infra import BackupStorage, Cluster, Host, PrimaryStorage
from schemas.inventories import iso
from schemas.zstack_wire import BACKUP_STORAGE_TYPE_NAMES, POOL_TYPE_NAMES, shown


def cluster_inventory(cluster: Cluster) -> dict[str, Any]:
    return {
        "uuid": cluster.uuid,
        "name": cluster.name,
        "description": cluster.description,
        "zoneUuid": cluster.zone_uuid,
        "state": cluster.state,
        "hypervisorType": cluster.hypervisor_type,
        "type": cluster.type,
        "architecture": None,
        "createDate": iso(cluster.create_date),
        "lastOpDate": iso(cluster.last_op_date),
    }


def host_inventory(host: Host) -> dict[str, Any]:
    facts = host.facts or {}
    return {
        "uuid": host.uuid,
        "name": host.name,
        "description": host.description,
        "zoneUuid": host.zone_uuid,
        "clusterUuid": host.cluster_uuid,
        "managementIp": host.management_ip,
        "agentPort": host.agent_port,
        "hypervisorType": host.hypervisor_type,
        "username": host.ssh_username,
        "sshPort": host.ssh_port,
        "cpuNum": facts.get("cpuNum"),
        "totalCpuCapacity": facts.get("cpuNum"),
        "availableCpuCapacity": facts.get("cpuNum"),
        "totalMemoryCapacity": facts.get("totalMemoryCapacity"),
        "availableMemoryCapacity": facts.get("availableMemoryCapacity"),
        "osDistribution": facts.get("os"),
        "state": host.state,
        "status": host.status,
        "hostname": facts.get("hostname"),
        "qemuImg": facts.get("qemuImg"),
        "poolTypes": facts.get("poolTypes", []),
        "unsupportedPoolTypes": facts.get("unsupportedPoolTypes", {}),
        "blockDevices": facts.get("blockDevices", []),
        "lastHeartbeat": iso(host.last_heartbeat),
        "createDate": iso(host.create_date),
        "lastOpDate": iso(host.last_op_date),
    }


def primary_storage_inventory(pool: PrimaryStorage) -> dict[str, Any]:
    return {
        "uuid": pool.uuid,
        "name": pool.name,
        "description": pool.description,
        "zoneUuid": pool.zone_uuid,
        "type": shown(POOL_TYPE_NAMES, pool.type),
        "poolType": pool.type,
        "url": pool.url,
        "mountPath": pool.mount_path,
        "hostUuid": pool.host_uuid,
        "state": pool.state,
        "status": pool.status,
        "totalCapacity": pool.total_capacity,
        "availableCapacity": pool.available_capacity,
        "totalPhysicalCapacity": pool.total_physical_capacity,
        "availablePhysicalCapacity": pool.available_physical_capacity,
        "systemUsedCapacity": max(
            0, pool.total_physical_capacity - pool.available_physical_capacity
        ),
        "allocatedCapacity": pool.allocated_capacity,
        "overAllocationThreshold": pool.over_allocation_threshold,
        "availTenants": list(pool.avail_tenants or []),
        "attachedClusterUuids": sorted(ref.cluster_uuid for ref in pool.cluster_refs),
        "createDate": iso(pool.create_date),
        "lastOpDate": iso(pool.last_op_date),
    }


def backup_storage_inventory(storage: BackupStorage) -> dict[str, Any]:
    return {
        "uuid": storage.uuid,
        "name": storage.name,
        "description": storage.description,
        "type": shown(BACKUP_STORAGE_TYPE_NAMES, storage.type),
        "storageType": storage.type,
        "url": storage.url,
        "hostUuid": storage.host_uuid,
        "state": storage.state,
        "status": storage.status,
        "totalCapacity": storage.total_capacity,
        "availableCapacity": storage.available_capacity,
        "usedCapacity": storage.used_capacity,
        "attachedZoneUuids": sorted(ref.zone_uuid for ref in storage.zone_refs),
        "createDate": iso(storage.create_date),
        "lastOpDate": iso(storage.last_op_date),
    }
