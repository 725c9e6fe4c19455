"""What the window's actions do, as small command objects (design.md §5.3).

Each command gets a :class:`~gui.commands.base.CommandContext` (models, job runner, dialogs,
the current store, selection, reporter) and whatever it alone needs; the window builds them,
keeps them in :class:`Commands` and connects each QAction of gui/actions.py to one.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from .abort import AbortIngests
from .about import About
from .base import Command, CommandContext, Reporter, Selection, Translated
from .clipboard import CopyDigests
from .delete import DeleteBlobs
from .disk import AnalyseDisk, CopyWhyChain
from .disk_actions import DeleteOrphanDir, RemoveGcRoot, RemoveLease, RunGarbageCollection
from .export import ExportBlob
from .image_layers import ExploreImageLayers
from .importer import ImportFiles
from .labels import EditLabels
from .layers import BrowseLayer, OpenBlob
from .open import OpenStore, OpenTarget, RecentStores, Refresh
from .select import SelectBlob, SelectUnreferenced
from .verify import Verify

if TYPE_CHECKING:
    from PySide6.QtGui import QAction

    from store.api import BlobscopeStore


@dataclass
class Commands(Translated):
    """Every command of one window, by what it does."""

    opener: OpenTarget
    open_store: OpenStore
    recent: RecentStores
    refresh: Refresh
    importer: ImportFiles
    export: ExportBlob
    delete: DeleteBlobs
    abort: AbortIngests
    labels: EditLabels
    verify: Verify
    copy: CopyDigests
    about: About
    select_blob: SelectBlob
    select_unreferenced: SelectUnreferenced
    browse_layer: BrowseLayer
    open_blob: OpenBlob
    analyse_disk: AnalyseDisk
    copy_why: CopyWhyChain
    remove_lease: RemoveLease
    remove_gc_root: RemoveGcRoot
    run_gc: RunGarbageCollection
    delete_orphan: DeleteOrphanDir
    image_layers: ExploreImageLayers

    def with_actions(self) -> list[Command]:
        """The commands behind a QAction, in the order above."""
        out = [getattr(self, f.name) for f in fields(self)]
        return [c for c in out if isinstance(c, Command) and c.action is not None]

    def connect(self, actions: dict[str, QAction]) -> None:
        for command in self.with_actions():
            assert command.action is not None  # with_actions() keeps only those
            actions[command.action].triggered.connect(lambda _checked=False, c=command: c.trigger())

    def update(self, actions: dict[str, QAction], store: BlobscopeStore | None) -> None:
        """Enable each action as its command says; one that writes is off on a read-only store,
        and its tooltip says why."""
        read_only = bool(getattr(store, "read_only", False))
        reason = getattr(store, "read_only_reason", None) or ""
        for command in self.with_actions():
            assert command.action is not None
            act = actions[command.action]
            why_not = command.disabled_reason()  # the command's own reason first: it says more
            if why_not:
                act.setEnabled(False)
                act.setToolTip(why_not)
            elif command.writes and read_only:
                act.setEnabled(False)
                act.setToolTip(self.tr("The store is read-only: {reason}").format(reason=reason))
            else:
                act.setEnabled(command.enabled())
                act.setToolTip(act.property("baseToolTip"))


__all__ = ["About", "AbortIngests", "AnalyseDisk", "CopyWhyChain", "DeleteOrphanDir", "RemoveGcRoot", "RemoveLease",
           "RunGarbageCollection", "BrowseLayer", "Command", "CommandContext", "Commands", "CopyDigests",
           "DeleteBlobs", "EditLabels", "ExploreImageLayers", "ExportBlob", "ImportFiles", "OpenBlob", "OpenStore", "OpenTarget",
           "RecentStores", "Refresh", "Reporter", "SelectBlob", "SelectUnreferenced", "Selection", "Verify"]
