"""Tables of the infrastructure: clusters, hosts (agents), primary and backup storage."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from schemas.states import HostStatus, ResourceState
from schemas.tables import Base, utcnow

__all__ = ["HostStatus"]  # where the other areas first found it


class Cluster(Base):
    __tablename__ = "clusters"

    uuid: Mapped[str] = mapped_column(String(32), primary_key=True)
    zone_uuid: Mapped[str] = mapped_column(ForeignKey("zones.uuid"), index=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    state: Mapped[str] = mapped_column(String(16), default=ResourceState.ENABLED, index=True)
    hypervisor_type: Mapped[str] = mapped_column(String(32), default="KVM")
    type: Mapped[str] = mapped_column(String(32), default="zstack")
    create_date: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_op_date: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Host(Base):
    """A storage host: the agent at ``management_ip:agent_port``."""

    __tablename__ = "hosts"

    uuid: Mapped[str] = mapped_column(String(32), primary_key=True)
    zone_uuid: Mapped[str] = mapped_column(ForeignKey("zones.uuid"), index=True)
    cluster_uuid: Mapped[str] = mapped_column(ForeignKey("clusters.uuid"), index=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    management_ip: Mapped[str] = mapped_column(String(255))
    agent_port: Mapped[int] = mapped_column(Integer, default=7070)
    agent_token: Mapped[str] = mapped_column(String(512))  # never shown in inventories
    # Hosts added over SSH (their agent deployed by volplane); None for token-added ones.
    ssh_username: Mapped[str | None] = mapped_column(String(255), default=None)
    ssh_port: Mapped[int | None] = mapped_column(Integer, default=None)
    state: Mapped[str] = mapped_column(String(16), default=ResourceState.ENABLED, index=True)
    status: Mapped[str] = mapped_column(String(16), default=HostStatus.CONNECTING, index=True)
    hypervisor_type: Mapped[str] = mapped_column(String(32), default="KVM")
    facts: Mapped[dict[str, object] | None] = mapped_column(JSON, default=None)
    last_heartbeat: Mapped[datetime | None] = mapped_column(default=None)
    # Round trip of the last heartbeat's health call: the agent latency metric.
    heartbeat_latency_ms: Mapped[float | None] = mapped_column(Float, default=None)
    create_date: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_op_date: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (UniqueConstraint("management_ip", "agent_port"),)

    @property
    def agent_url(self) -> str:
        host = f"[{self.management_ip}]" if ":" in self.management_ip else self.management_ip
        return f"http://{host}:{self.agent_port}"


class ManagementKey(Base):
    """The management node's SSH key: authorized on hosts at deploy, so that reconnecting
    a host (redeploying its agent) needs no password."""

    __tablename__ = "management_keys"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    private_key: Mapped[str] = mapped_column(Text)  # never shown
    public_key: Mapped[str] = mapped_column(Text)
    create_date: Mapped[datetime] = mapped_column(default=utcnow)


class PrimaryStorage(Base):
    """A pool: a directory on a host (or on every host of its clusters) holding volumes."""

    __tablename__ = "primary_storage"
    __tenant_list__ = "avail_tenants"  # volplane.tenancy

    uuid: Mapped[str] = mapped_column(String(32), primary_key=True)
    zone_uuid: Mapped[str] = mapped_column(ForeignKey("zones.uuid"), index=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    type: Mapped[str] = mapped_column(String(32), index=True)  # local-storage|smp|disk|nfs|samba
    url: Mapped[str] = mapped_column(String(1024))  # path, device, server:/export, //srv/share
    mount_path: Mapped[str] = mapped_column(String(1024))  # the directory volumes live in
    host_uuid: Mapped[str | None] = mapped_column(
        ForeignKey("hosts.uuid"), default=None, index=True
    )  # local-storage and disk: the one host that has it
    state: Mapped[str] = mapped_column(String(16), default=ResourceState.ENABLED, index=True)
    status: Mapped[str] = mapped_column(String(16), default=HostStatus.CONNECTING, index=True)
    total_capacity: Mapped[int] = mapped_column(BigInteger, default=0)
    available_capacity: Mapped[int] = mapped_column(BigInteger, default=0)
    total_physical_capacity: Mapped[int] = mapped_column(BigInteger, default=0)
    available_physical_capacity: Mapped[int] = mapped_column(BigInteger, default=0)
    allocated_capacity: Mapped[int] = mapped_column(BigInteger, default=0)  # sum of virtual sizes
    over_allocation_threshold: Mapped[float] = mapped_column(Float, default=1.0)
    avail_tenants: Mapped[list[str] | None] = mapped_column(JSON, default=None)  # None = all
    # How every host reaches a network pool: its mount options (samba: username=...) and
    # a share's password (never shown in inventories).
    mount_options: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    password: Mapped[str | None] = mapped_column(Text, default=None)
    create_date: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_op_date: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def is_cluster_local(self) -> bool:
        """ZStack's local storage: the same directory on every host of the attached
        clusters, each host holding its own volumes (``LocalStorageHostRef``)."""
        return self.type == "local-storage" and self.host_uuid is None

    # Loaded with the pool, so inventories built after the session closed still have them.
    cluster_refs: Mapped[list[ClusterPrimaryStorage]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", passive_deletes=True
    )


class LocalStorageHostRef(Base):
    """One host's share of a cluster-wide ``local-storage`` pool (ZStack's
    LocalStorageHostRefVO): the pool's directory on that host and its capacity. The
    pool's own capacity is the sum over its hosts."""

    __tablename__ = "local_storage_host_refs"

    primary_storage_uuid: Mapped[str] = mapped_column(
        ForeignKey("primary_storage.uuid", ondelete="CASCADE"), primary_key=True
    )
    host_uuid: Mapped[str] = mapped_column(
        ForeignKey("hosts.uuid", ondelete="CASCADE"), primary_key=True, index=True
    )
    total_capacity: Mapped[int] = mapped_column(BigInteger, default=0)
    available_capacity: Mapped[int] = mapped_column(BigInteger, default=0)
    total_physical_capacity: Mapped[int] = mapped_column(BigInteger, default=0)
    available_physical_capacity: Mapped[int] = mapped_column(BigInteger, default=0)
    create_date: Mapped[datetime] = mapped_column(default=utcnow)
    last_op_date: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ClusterPrimaryStorage(Base):
    __tablename__ = "cluster_primary_storage"

    cluster_uuid: Mapped[str] = mapped_column(
        ForeignKey("clusters.uuid", ondelete="CASCADE"), primary_key=True
    )
    primary_storage_uuid: Mapped[str] = mapped_column(
        ForeignKey("primary_storage.uuid", ondelete="CASCADE"), primary_key=True, index=True
    )


class BackupStorage(Base):
    """An image store: a directory on a host with an agent, holding backup chunks."""

    __tablename__ = "backup_storage"

    uuid: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    type: Mapped[str] = mapped_column(String(32), default="ImageStoreBackupStorage")
    url: Mapped[str] = mapped_column(String(1024))
    host_uuid: Mapped[str] = mapped_column(ForeignKey("hosts.uuid"), index=True)
    state: Mapped[str] = mapped_column(String(16), default=ResourceState.ENABLED, index=True)
    status: Mapped[str] = mapped_column(String(16), default=HostStatus.CONNECTING, index=True)
    total_capacity: Mapped[int] = mapped_column(BigInteger, default=0)
    available_capacity: Mapped[int] = mapped_column(BigInteger, default=0)
    used_capacity: Mapped[int] = mapped_column(BigInteger, default=0)  # stored bytes after dedup
    create_date: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_op_date: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    zone_refs: Mapped[list[ZoneBackupStorage]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", passive_deletes=True
    )


class ZoneBackupStorage(Base):
    __tablename__ = "zone_backup_storage"

    zone_uuid: Mapped[str] = mapped_column(
        ForeignKey("zones.uuid", ondelete="CASCADE"), primary_key=True
    )
    backup_storage_uuid: Mapped[str] = mapped_column(
        ForeignKey("backup_storage.uuid", ondelete="CASCADE"), primary_key=True, index=True
    )
