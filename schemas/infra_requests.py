"""Request models of clusters, hosts, primary and backup storage (ZStack §4.2-4.5)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from schemas.requests import Description, Name, RequestModel, ResourceRef, Tagged, Uuid

Url = Annotated[str, StringConstraints(min_length=1, max_length=1024, strip_whitespace=True)]
Address = Annotated[str, StringConstraints(min_length=1, max_length=255, strip_whitespace=True)]
Port = Annotated[int, Field(ge=1, le=65535)]
Threshold = Annotated[float, Field(gt=0, le=100)]

PoolType = Literal["local-storage", "smp", "disk", "nfs", "samba"]
POOL_TYPES: tuple[PoolType, ...] = ("local-storage", "smp", "disk", "nfs", "samba")
# Types that live on exactly one host (the rest are shared by a cluster's hosts).
HOST_POOL_TYPES = frozenset({"local-storage", "disk"})


# --- clusters ----------------------------------------------------------------


class CreateCluster(Tagged):
    zoneUuid: Uuid
    name: Name
    description: Description | None = None
    hypervisorType: Literal["KVM", "Simulator"] = "KVM"
    type: Literal["zstack"] = "zstack"
    resourceUuid: Uuid | None = None


class UpdateCluster(ResourceRef):
    name: Name | None = None
    description: Description | None = None


class ChangeClusterState(ResourceRef):
    stateEvent: Literal["enable", "disable"]


# --- hosts ---------------------------------------------------------------------


class AddKvmHost(Tagged):
    """What the job records. The password (or agent token) travels as a job secret,
    never in here.

    ``username`` set: volplane reaches the host over SSH at ``managementIp:sshPort``
    and deploys its agent (ZStack's AddKVMHost). Otherwise the agent already runs at
    ``managementIp:agentPort`` and its token was given (volplane's extension).
    """

    clusterUuid: Uuid
    name: Name
    description: Description | None = None
    managementIp: Address
    agentPort: Port | None = None
    username: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = None
    sshPort: Port = 22
    resourceUuid: Uuid | None = None


class AddKvmHostParams(AddKvmHost):
    """What a client sends: ZStack's ``username``/``password``/``sshPort``, or an
    ``agentToken`` of an agent already running."""

    agentToken: Annotated[str, StringConstraints(min_length=1, max_length=512)] | None = None
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)] | None = None

    @model_validator(mode="after")
    def _credentials(self) -> AddKvmHostParams:
        if self.agentToken is None and (self.username is None or self.password is None):
            raise ValueError(
                "give username and password (volplane deploys the agent over SSH), "
                "or the agentToken of an agent already running"
            )
        return self


class UpdateHost(ResourceRef):
    name: Name | None = None
    description: Description | None = None


class ChangeHostState(ResourceRef):
    stateEvent: Literal["enable", "disable", "maintain"]


class ReconnectHost(ResourceRef):
    pass


# --- primary storage -----------------------------------------------------------


class AddPrimaryStorage(Tagged):
    """One model for every pool type; ``type`` comes from the path
    (``POST /v1/primary-storage/<type>``).

    ``hostUuid`` names the host of a ``local-storage`` or ``disk`` pool (its zone is
    the host's). ``clusterUuid`` attaches the new pool to a cluster at once.
    ``force`` lets a ``disk`` pool overwrite a device holding unknown data.
    """

    type: PoolType
    name: Name
    url: Url
    zoneUuid: Uuid | None = None
    hostUuid: Uuid | None = None
    clusterUuid: Uuid | None = None
    description: Description | None = None
    overAllocationThreshold: Threshold = 1.0
    availTenants: list[Uuid] | None = None
    mountOptions: list[Annotated[str, StringConstraints(max_length=255)]] = Field(
        default_factory=list, max_length=32
    )
    force: bool = False
    resourceUuid: Uuid | None = None


class AttachPrimaryStorage(RequestModel):
    clusterUuid: Uuid
    primaryStorageUuid: Uuid


class ReconnectPrimaryStorage(ResourceRef):
    pass


class ChangePrimaryStorageState(ResourceRef):
    stateEvent: Literal["enable", "disable", "maintain"]


class SyncPrimaryStorageCapacity(ResourceRef):
    pass


class UpdatePrimaryStorage(ResourceRef):
    """``availTenants``: ``[]`` opens the pool to every tenant again."""

    name: Name | None = None
    description: Description | None = None
    overAllocationThreshold: Threshold | None = None
    availTenants: list[Uuid] | None = None


# --- backup storage ------------------------------------------------------------


class AddImageStoreBackupStorage(Tagged):
    """``hostUuid``, or ``hostname`` (a registered host's managementIp), names the agent."""

    name: Name
    url: Url
    hostUuid: Uuid | None = None
    hostname: Address | None = None
    description: Description | None = None
    resourceUuid: Uuid | None = None
    # ZStack's ssh fields, accepted and ignored (the host's agent is used).
    username: str | None = None
    password: str | None = None
    sshPort: Port | None = None
    importImages: bool | None = None


class AttachBackupStorage(RequestModel):
    zoneUuid: Uuid
    backupStorageUuid: Uuid


class ReconnectBackupStorage(ResourceRef):
    pass


class ChangeBackupStorageState(ResourceRef):
    stateEvent: Literal["enable", "disable"]


class UpdateBackupStorage(ResourceRef):
    name: Name | None = None
    description: Description | None = None


# The allocator strategies a pool may name (``GET /v1/primary-storage/allocators/strategies``).
ALLOCATOR_STRATEGIES = ["DefaultPrimaryStorageAllocationStrategy", "LocalStorageAllocatorStrategy"]
