"""How the Disk tab names a node: kinds and the groups of no namespace translated, records as they are."""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from .disk_tree import (
    CONTAINERS,
    CONTENT,
    IMAGES,
    INGESTS,
    KIND_GROUP,
    LEASES,
    METADATA,
    NO_NAMESPACE,
    SNAPSHOTS,
    DiskNode,
)

_KINDS = {
    CONTENT: QT_TRANSLATE_NOOP("DiskNames", "Content"),
    INGESTS: QT_TRANSLATE_NOOP("DiskNames", "Ingests"),
    METADATA: QT_TRANSLATE_NOOP("DiskNames", "Metadata"),
    IMAGES: QT_TRANSLATE_NOOP("DiskNames", "Images"),
    CONTAINERS: QT_TRANSLATE_NOOP("DiskNames", "Containers"),
    LEASES: QT_TRANSLATE_NOOP("DiskNames", "Leases"),
}
_SNAPSHOTS = QT_TRANSLATE_NOOP("DiskNames", "Snapshots ({snapshotter})")
_NO_NAMESPACE = QT_TRANSLATE_NOOP("DiskNames", "(no namespace)")


def _tr(text) -> str:
    return QCoreApplication.translate("DiskNames", str(text))  # thread-safe: the treemap is drawn on a worker


def display_name(node: DiskNode) -> str:
    if node.kind != KIND_GROUP:
        return node.name
    if node.parent is not None and node.parent.parent is None:  # a kind
        if node.category == SNAPSHOTS:
            return _tr(_SNAPSHOTS).format(snapshotter=node.name.partition("(")[2].rstrip(")"))
        return _tr(_KINDS.get(node.category, node.name))
    if node.parent is not None and node.parent.paged:  # a page: "1,001–2,000"
        return node.name
    if node.namespace == NO_NAMESPACE:
        return _tr(_NO_NAMESPACE)
    return node.name


__all__ = ["display_name"]
