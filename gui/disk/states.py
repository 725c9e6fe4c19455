"""The owner states an item on disk can be in, their colours and their names (the legend's order).

The states are store/disk's (``owners.STATE_*``, ``df.STATE_*``) plus two of the tab's own: the
files of ``meta.db`` and the snapshotters' databases, and the content of a plain Blobscope store
(no containerd metadata says who keeps it).
"""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication
from PySide6.QtGui import QColor

from store.disk import df, owners

IN_USE = owners.STATE_IN_USE
IMAGE = owners.STATE_IMAGE
LEASE = owners.STATE_LEASE
COLLECTABLE = owners.STATE_COLLECTABLE
ORPHAN = owners.STATE_ORPHAN
NOT_UNDERSTOOD = df.STATE_NOT_UNDERSTOOD
OTHER = owners.STATE_OTHER
METADATA = "metadata"
PLAIN = "plain"
NONE = ""  # records that take no bytes of their own (images, containers, leases) and groups

# state -> (colour, name, what it means); QT_TRANSLATE_NOOP marks the texts, name()/meaning() translate
_STATES: dict[str, tuple[str, object, object]] = {
    IN_USE: ("#2e9e4f", QT_TRANSLATE_NOOP("DiskStates", "in use by a container"),
             QT_TRANSLATE_NOOP("DiskStates", "a container's snapshot, or a parent of one")),
    IMAGE: ("#3d7fd9", QT_TRANSLATE_NOOP("DiskStates", "image only"),
            QT_TRANSLATE_NOOP("DiskStates", "part of an image; no container uses it")),
    LEASE: ("#e0a21b", QT_TRANSLATE_NOOP("DiskStates", "held only by a lease"),
            QT_TRANSLATE_NOOP("DiskStates", "no image or container keeps it; a lease does")),
    COLLECTABLE: ("#d64541", QT_TRANSLATE_NOOP("DiskStates", "collectable"),
                  QT_TRANSLATE_NOOP("DiskStates", "containerd's next garbage collection removes it")),
    ORPHAN: ("#9b59b6", QT_TRANSLATE_NOOP("DiskStates", "orphan"),
             QT_TRANSLATE_NOOP("DiskStates", "a directory without a record, or a record without its directory")),
    NOT_UNDERSTOOD: ("#8d6e63", QT_TRANSLATE_NOOP("DiskStates", "not understood"),
                     QT_TRANSLATE_NOOP("DiskStates", "a snapshotter Blobscope cannot read")),
    OTHER: ("#17a2a2", QT_TRANSLATE_NOOP("DiskStates", "kept for another reason"),
            QT_TRANSLATE_NOOP("DiskStates", "a gc.root label, another record's label, an unexpired ingest")),
    METADATA: ("#7f8c8d", QT_TRANSLATE_NOOP("DiskStates", "metadata"),
               QT_TRANSLATE_NOOP("DiskStates", "containerd's and the snapshotters' databases")),
    PLAIN: ("#5c7c99", QT_TRANSLATE_NOOP("DiskStates", "in the store"),
            QT_TRANSLATE_NOOP("DiskStates", "a plain store: no containerd metadata says who keeps it")),
}

ORDER = tuple(_STATES)
GROUP_COLOUR = "#3a3f44"
MORE_COLOUR = "#95a5a6"


def colour(state: str) -> QColor:
    entry = _STATES.get(state)
    return QColor(entry[0] if entry else MORE_COLOUR)


def name(state: str) -> str:
    entry = _STATES.get(state)
    return QCoreApplication.translate("DiskStates", str(entry[1])) if entry else ""


def meaning(state: str) -> str:
    entry = _STATES.get(state)
    return QCoreApplication.translate("DiskStates", str(entry[2])) if entry else ""


__all__ = ["ORDER", "colour", "name", "meaning", "IN_USE", "IMAGE", "LEASE", "COLLECTABLE", "ORPHAN",
           "NOT_UNDERSTOOD", "OTHER", "METADATA", "PLAIN", "NONE"]
