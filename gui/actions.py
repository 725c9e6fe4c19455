"""The window's actions: names (design.md §5.1), texts, icons, shortcuts, and whether they write."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from .resources import icon

# object name -> (text, icon, shortcut, status tip, writes to the store); QT_TRANSLATE_NOOP marks the
# texts for lupdate and returns them unchanged, make_actions translates them.
# (QT_TRANSLATE_NOOP is typed as returning object in PySide6's stubs; it returns the str it is given.)
SPECS: dict[str, tuple[Any, str, str | QKeySequence.StandardKey, Any, bool]] = {
    "actionOpenStore": (QT_TRANSLATE_NOOP("Actions", "Open &Store…"), "open-store", QKeySequence.StandardKey.Open,
                        QT_TRANSLATE_NOOP("Actions", "Open another content store directory"), False),
    "actionImport": (QT_TRANSLATE_NOOP("Actions", "&Import Files…"), "import", "Ctrl+I",
                     QT_TRANSLATE_NOOP("Actions", "Add files to the store as new content"), True),
    "actionExport": (QT_TRANSLATE_NOOP("Actions", "&Export Blob…"), "export", "Ctrl+E",
                     QT_TRANSLATE_NOOP("Actions", "Save the selected blob's bytes to a file"), False),
    "actionDelete": (QT_TRANSLATE_NOOP("Actions", "&Delete Blobs…"), "delete", QKeySequence.StandardKey.Delete,
                     QT_TRANSLATE_NOOP("Actions", "Delete the selected blobs from the store"), True),
    "actionAbort": (QT_TRANSLATE_NOOP("Actions", "&Abort Ingests…"), "abort", "Shift+Del",
                    QT_TRANSLATE_NOOP("Actions", "Abort the selected ingests and remove their data"), True),
    "actionEditLabels": (QT_TRANSLATE_NOOP("Actions", "Edit &Labels…"), "labels", "Ctrl+L",
                         QT_TRANSLATE_NOOP("Actions", "Edit the labels of the selected blob"), True),
    "actionVerify": (QT_TRANSLATE_NOOP("Actions", "&Verify"), "verify", "Ctrl+Shift+V",
                     QT_TRANSLATE_NOOP("Actions", "Re-hash the selected blobs (all blobs when none is selected)"), False),
    "actionRefresh": (QT_TRANSLATE_NOOP("Actions", "&Refresh"), "refresh", QKeySequence.StandardKey.Refresh,
                      QT_TRANSLATE_NOOP("Actions", "Read the store again"), False),
    "actionCopyDigest": (QT_TRANSLATE_NOOP("Actions", "&Copy Digest"), "copy", "Ctrl+Shift+C",
                         QT_TRANSLATE_NOOP("Actions", "Copy the selected digests to the clipboard"), False),
    "actionFindFilter": (QT_TRANSLATE_NOOP("Actions", "&Filter…"), "filter", QKeySequence.StandardKey.Find,
                         QT_TRANSLATE_NOOP("Actions", "Jump to the filter box"), False),
    "actionSelectUnreferenced": (QT_TRANSLATE_NOOP("Actions", "Select &Unreferenced"), "unreferenced", "Ctrl+Shift+U",
                                 QT_TRANSLATE_NOOP("Actions", "Select the blobs no image or gc.root label reaches (reclaimable)"), False),
    "actionBrowseLayer": (QT_TRANSLATE_NOOP("Actions", "&Browse Layer Files…"), "browse-layer", "Ctrl+B",
                          QT_TRANSLATE_NOOP("Actions", "List the files inside the selected layer and preview their text"), False),
    "actionAnalyseDisk": (QT_TRANSLATE_NOOP("Actions", "&Analyse Disk"), "disk", "F6",
                          QT_TRANSLATE_NOOP("Actions", "Measure the containerd root's content, snapshots, ingests and "
                                                       "metadata, and predict its garbage collector (Disk tab)"), False),
    "actionCopyWhyChain": (QT_TRANSLATE_NOOP("Actions", "Copy &Why-Chain"), "copy", "Ctrl+Shift+Y",
                           QT_TRANSLATE_NOOP("Actions", "Copy why the selected Disk item is alive, from a root, "
                                                        "one link a line"), False),
    "actionRemoveLease": (QT_TRANSLATE_NOOP("Actions", "Remove &Lease…"), "delete", "",
                          QT_TRANSLATE_NOOP("Actions", "End the selected lease (or the one keeping the selected item) "
                                                       "through the running daemon"), True),
    "actionRemoveGcRoot": (QT_TRANSLATE_NOOP("Actions", "Remove &gc.root Label…"), "labels", "",
                           QT_TRANSLATE_NOOP("Actions", "Remove containerd.io/gc.root from the blob the selected "
                                                        "item's chain starts at, through the running daemon"), True),
    "actionRunGc": (QT_TRANSLATE_NOOP("Actions", "Run &Garbage Collection Now…"), "refresh", "",
                    QT_TRANSLATE_NOOP("Actions", "Ask the running daemon for a garbage collection: the freed bytes "
                                                 "are predicted first and measured after"), True),
    "actionDeleteOrphanDir": (QT_TRANSLATE_NOOP("Actions", "Delete &Orphaned Snapshot Directory…"), "delete", "",
                              QT_TRANSLATE_NOOP("Actions", "Delete a snapshot directory no record names, on a "
                                                           "stopped containerd root"), False),
    "actionImageLayers": (QT_TRANSLATE_NOOP("Actions", "Image &Layers…"), "browse-layer", "Ctrl+Shift+L",
                          QT_TRANSLATE_NOOP("Actions", "Show the selected image's layers: each one's changes, the "
                                                       "squashed files, wasted space and efficiency"), False),
    "actionQuit": (QT_TRANSLATE_NOOP("Actions", "&Quit"), "", QKeySequence.StandardKey.Quit,
                   QT_TRANSLATE_NOOP("Actions", "Close Blobscope"), False),
    "actionAbout": (QT_TRANSLATE_NOOP("Actions", "&About Blobscope"), "", "",
                    QT_TRANSLATE_NOOP("Actions", "Version and license"), False),
}

# The Fleet tab's own actions (gui/fleet/fleet_tab.py), made by the tab when a fleet is opened;
# their commands are in gui/commands/fleet.py.  None writes to a node.
FLEET_SPECS: dict[str, tuple[Any, str, str | QKeySequence.StandardKey, Any, bool]] = {
    "actionFleetRefresh": (QT_TRANSLATE_NOOP("Actions", "Refresh"), "refresh", "",
                           QT_TRANSLATE_NOOP("Actions", "Query again the nodes whose daemon reported a change or "
                                                        "whose event stream is down; the others keep their listing"),
                           False),
    "actionFleetRefreshSelected": (QT_TRANSLATE_NOOP("Actions", "Refresh Selected"), "refresh", "",
                                   QT_TRANSLATE_NOOP("Actions", "Query the selected nodes again, whatever their "
                                                                "events said"), False),
    "actionFleetRefreshAll": (QT_TRANSLATE_NOOP("Actions", "Refresh All"), "refresh", "",
                              QT_TRANSLATE_NOOP("Actions", "Query every node of the fleet file again (a blob written "
                                                           "on a node publishes no event)"), False),
    "actionFleetCancel": (QT_TRANSLATE_NOOP("Actions", "Cancel"), "abort", "",
                          QT_TRANSLATE_NOOP("Actions", "Stop the query: nodes still running are dropped"), False),
    "actionFleetDrift": (QT_TRANSLATE_NOOP("Actions", "Drift only"), "filter", "",
                         QT_TRANSLATE_NOOP("Actions", "Only digests present on some nodes and not on others"), False),
    "actionFleetImages": (QT_TRANSLATE_NOOP("Actions", "Image Drift"), "", "",
                          QT_TRANSLATE_NOOP("Actions", "Image names present on some nodes and not on others, or on "
                                                       "different digests on different nodes"), False),
    "actionFleetDelete": (QT_TRANSLATE_NOOP("Actions", "Delete on Nodes…"), "delete", "",
                          QT_TRANSLATE_NOOP("Actions", "Delete the selected digests on the selected nodes (all nodes "
                                                       "when none is selected), after one confirmation"), True),
    "actionFleetAbort": (QT_TRANSLATE_NOOP("Actions", "Abort Stalled…"), "abort", "",
                         QT_TRANSLATE_NOOP("Actions", "Abort the ingests idle for 15 minutes or more on the selected "
                                                      "nodes, after one confirmation"), True),
    "actionFleetImport": (QT_TRANSLATE_NOOP("Actions", "Import on Nodes…"), "import", "",
                          QT_TRANSLATE_NOOP("Actions", "Import a file on the selected nodes, after one confirmation"),
                          True),
    "actionFleetLeaseRm": (QT_TRANSLATE_NOOP("Actions", "Remove Lease…"), "", "",
                           QT_TRANSLATE_NOOP("Actions", "Remove a lease by id on the selected nodes, after one "
                                                        "confirmation"), True),
}


def _tr(text: str) -> str:
    return QCoreApplication.translate("Actions", text)


def make_actions(parent: QWidget, specs: dict | None = None) -> dict[str, QAction]:
    """The actions of ``specs`` (the window's :data:`SPECS` by default), parented to ``parent``."""
    actions: dict[str, QAction] = {}
    for name, (text, icon_name, shortcut, tip, _writes) in (SPECS if specs is None else specs).items():
        act = QAction(_tr(text), parent)
        act.setObjectName(name)
        if icon_name:
            act.setIcon(icon(icon_name))
        if shortcut:
            act.setShortcut(QKeySequence(shortcut))
        act.setStatusTip(_tr(tip))
        act.setToolTip(_tr(tip))
        act.setProperty("baseToolTip", _tr(tip))
        actions[name] = act
    return actions


def writes(name: str) -> bool:
    return (SPECS[name] if name in SPECS else FLEET_SPECS[name])[4]
