"""ZStack's names for what volplane stores under its own (the ZStack dialect's values).

volplane keeps its own spellings in the database (``local-storage``, ``block``): the
share-storage and Cinder dialects and the drivers speak them. ZStack's programs read
and query ZStack's (``LocalStorage``, ``Data``). Each vocabulary maps stored → shown;
inventories show through it and the query language compares through it, so
``q=type=LocalStorage`` finds local pools. A stored value missing from a vocabulary is
shown as stored.

Facts from ZStack's public source: primary storage types are named by each storage
plugin (``LocalStorage``, ``NFS``, ``SharedMountPoint``, ``Ceph``, ``SharedBlock``, ...),
the image-store backup storage is ``ImageStoreBackupStorage``, volume types are
``Root | Data | Memory | Cache``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

Vocabulary = Mapping[str, str]

POOL_TYPE_NAMES: Vocabulary = MappingProxyType(
    {
        "local-storage": "LocalStorage",
        "smp": "SharedMountPoint",
        "nfs": "NFS",
        "ceph": "Ceph",
        "rbd": "Ceph",
        # No ZStack counterpart: volplane's own kinds, named in ZStack's style.
        "disk": "LocalDisk",
        "samba": "Samba",
        "iscsi": "iSCSI",
        "fc": "FibreChannel",
    }
)
BACKUP_STORAGE_TYPE_NAMES: Vocabulary = MappingProxyType({"image-store": "ImageStoreBackupStorage"})
# Every volplane volume is a data volume to ZStack; its own kind stays in ``kind``.
VOLUME_TYPE_NAMES: Vocabulary = MappingProxyType({"block": "Data", "share": "Data", "fs": "Data"})


def shown(vocabulary: Vocabulary, stored: str | None) -> str | None:
    """The ZStack name of a stored value (the value itself when it has none)."""
    if stored is None:
        return None
    return vocabulary.get(stored, stored)
