"""Stored states shared by several tables (string enums: the database holds the words)."""

from __future__ import annotations

from enum import StrEnum


class ResourceState(StrEnum):
    """An administrator's switch on a zone, cluster, host or storage (``state``)."""

    ENABLED = "Enabled"
    DISABLED = "Disabled"
    MAINTENANCE = "Maintenance"


class HostStatus(StrEnum):
    """Whether a host's agent answers (``Host.status``; a storage's ``status`` too)."""

    CONNECTED = "Connected"
    DISCONNECTED = "Disconnected"
    CONNECTING = "Connecting"


# ZStack's ``stateEvent`` values and the state each one sets.
STATE_OF_EVENT = {
    "enable": ResourceState.ENABLED,
    "disable": ResourceState.DISABLED,
    "maintain": ResourceState.MAINTENANCE,
}
