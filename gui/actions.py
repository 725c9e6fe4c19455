"""The window's actions: names (DESIGN.md), texts, icons, shortcuts, and whether they write."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from .resources import icon

# object name -> (text, icon, shortcut, status tip, writes to the store)
SPECS: dict[str, tuple[str, str, str | QKeySequence.StandardKey, str, bool]] = {
    "actionOpenStore": ("Open &Store…", "open-store", QKeySequence.StandardKey.Open,
                        "Open another content store directory", False),
    "actionImport": ("&Import Files…", "import", "Ctrl+I",
                     "Add files to the store as new content", True),
    "actionExport": ("&Export Blob…", "export", "Ctrl+E",
                     "Save the selected blob's bytes to a file", False),
    "actionDelete": ("&Delete Blobs…", "delete", QKeySequence.StandardKey.Delete,
                     "Delete the selected blobs from the store", True),
    "actionAbort": ("&Abort Ingests…", "abort", "Shift+Del",
                    "Abort the selected ingests and remove their data", True),
    "actionEditLabels": ("Edit &Labels…", "labels", "Ctrl+L",
                         "Edit the labels of the selected blob", True),
    "actionVerify": ("&Verify", "verify", "Ctrl+Shift+V",
                     "Re-hash the selected blobs (all blobs when none is selected)", False),
    "actionRefresh": ("&Refresh", "refresh", QKeySequence.StandardKey.Refresh,
                      "Read the store again", False),
    "actionCopyDigest": ("&Copy Digest", "copy", "Ctrl+Shift+C",
                         "Copy the selected digests to the clipboard", False),
    "actionFindFilter": ("&Filter…", "filter", QKeySequence.StandardKey.Find,
                         "Jump to the filter box", False),
    "actionSelectUnreferenced": ("Select &Unreferenced", "unreferenced", "Ctrl+Shift+U",
                                 "Select the blobs no image or gc.root label reaches (reclaimable)", False),
    "actionBrowseLayer": ("&Browse Layer Files…", "browse-layer", "Ctrl+B",
                          "List the files inside the selected layer and preview their text", False),
    "actionQuit": ("&Quit", "", QKeySequence.StandardKey.Quit, "Close Blobscope", False),
    "actionAbout": ("&About Blobscope", "", "", "Version and license", False),
}


def _tr(text: str) -> str:
    return QCoreApplication.translate("Actions", text)


# Marked for lupdate, which cannot see through the table above.
_TRANSLATABLE = [
    QCoreApplication.translate("Actions", "Open &Store…"),
    QCoreApplication.translate("Actions", "&Import Files…"),
    QCoreApplication.translate("Actions", "&Export Blob…"),
    QCoreApplication.translate("Actions", "&Delete Blobs…"),
    QCoreApplication.translate("Actions", "&Abort Ingests…"),
    QCoreApplication.translate("Actions", "Edit &Labels…"),
    QCoreApplication.translate("Actions", "&Verify"),
    QCoreApplication.translate("Actions", "&Refresh"),
    QCoreApplication.translate("Actions", "&Copy Digest"),
    QCoreApplication.translate("Actions", "&Filter…"),
    QCoreApplication.translate("Actions", "Select &Unreferenced"),
    QCoreApplication.translate("Actions", "&Browse Layer Files…"),
    QCoreApplication.translate("Actions", "Select the blobs no image or gc.root label reaches (reclaimable)"),
    QCoreApplication.translate("Actions", "List the files inside the selected layer and preview their text"),
    QCoreApplication.translate("Actions", "&Quit"),
    QCoreApplication.translate("Actions", "&About Blobscope"),
    QCoreApplication.translate("Actions", "Open another content store directory"),
    QCoreApplication.translate("Actions", "Add files to the store as new content"),
    QCoreApplication.translate("Actions", "Save the selected blob's bytes to a file"),
    QCoreApplication.translate("Actions", "Delete the selected blobs from the store"),
    QCoreApplication.translate("Actions", "Abort the selected ingests and remove their data"),
    QCoreApplication.translate("Actions", "Edit the labels of the selected blob"),
    QCoreApplication.translate("Actions", "Re-hash the selected blobs (all blobs when none is selected)"),
    QCoreApplication.translate("Actions", "Read the store again"),
    QCoreApplication.translate("Actions", "Copy the selected digests to the clipboard"),
    QCoreApplication.translate("Actions", "Jump to the filter box"),
    QCoreApplication.translate("Actions", "Close Blobscope"),
    QCoreApplication.translate("Actions", "Version and license"),
]


def make_actions(parent: QWidget) -> dict[str, QAction]:
    actions: dict[str, QAction] = {}
    for name, (text, icon_name, shortcut, tip, _writes) in SPECS.items():
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
    return SPECS[name][4]
