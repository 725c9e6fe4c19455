"""What every command is handed (:class:`CommandContext`) and what they share: the base
:class:`Command`, the :class:`Selection` they act on and the :class:`Reporter` that tells the
person how it went.  design.md §5.3.

A command never sees the window: the window builds one context and hands it, plus whatever a
single command needs on top (the verify progress bar, a way to poll ingests), to each command.
"""

from __future__ import annotations

import logging
from array import array
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, ClassVar, Iterable

from PySide6.QtCore import QCoreApplication, QItemSelection, QItemSelectionModel

from ..actions import writes

if TYPE_CHECKING:
    from PySide6.QtWidgets import QLabel, QStatusBar, QTableView, QWidget

    from store.api import BlobscopeStore

    from ..blobs.blob_model import BlobTableModel
    from ..blobs.filtering import Query
    from ..blobs.referrers import ReferrerIndex
    from ..context import AppContext
    from ..dialogs import DialogService
    from ..ingests.ingest_model import IngestTableModel
    from ..jobs import JobRunner
    from ..rows import BlobRow, IngestRow

log = logging.getLogger(__name__)


class Translated:
    """``self.tr`` for plain (non-QObject) classes, looked up as PySide's own ``QObject.tr`` does:
    under the class's name, then its bases' (pyside6-lupdate files a string under the class that
    contains the call)."""

    def tr(self, text: str) -> str:
        for cls in type(self).__mro__:
            translated = QCoreApplication.translate(cls.__name__, text)
            if translated != text:
                return translated
        return text


class Selection:
    """The rows the person selected in the blobs and ingests tables, and selecting blobs for them."""

    def __init__(self, blobs: BlobTableModel, blob_view: QTableView, ingests: IngestTableModel,
                 ingest_view: QTableView, clear_filter: Callable[[], None],
                 show_only: Callable[[Query], None] | None = None):
        self._blobs, self._blob_view = blobs, blob_view
        self._ingests, self._ingest_view = ingests, ingest_view
        self._clear_filter = clear_filter
        self._show_only = show_only
        # bumped whenever the selected blobs may differ (a work prepared for a selection is stale)
        self._generation = 0
        blob_view.selectionModel().selectionChanged.connect(self._bump)
        blobs.modelAboutToBeReset.connect(self._bump)

    def _bump(self, *_args) -> None:
        self._generation += 1

    def blob_generation(self) -> int:
        """A number that changes whenever the selected blobs may have changed (the person or the
        program selected others, rows went, the table was reset)."""
        return self._generation

    def blob_rows(self) -> list[BlobRow]:
        columns = self._blobs.columns
        return [columns.row(rid) for rid in self.blob_rids()]

    def blob_rids(self) -> array:
        """Row numbers (gui/blobs/columns.py) of the selected blobs: one slice per selection range
        (an array: a million selected rows are one memcpy, not a million ints)."""
        rids = array("l")
        for rng in self._blob_view.selectionModel().selection():  # type: ignore[attr-defined]  # iterable in PySide6
            rids.extend(self._blobs.rids_in(rng.top(), rng.bottom()))
        return rids

    def blob_count(self) -> int:
        return sum(r.height() for r in self._blob_view.selectionModel().selection())  # type: ignore[attr-defined]

    def ingest_rows(self) -> list[IngestRow]:
        return [self._ingests.row_at(i.row()) for i in self._ingest_view.selectionModel().selectedRows()]

    def ingest_count(self) -> int:
        return len(self._ingest_view.selectionModel().selectedRows())

    def clear_filter(self) -> None:
        """Empty the filter box and show every blob (a blob asked for was hidden)."""
        self._clear_filter()

    def show_only(self, query: Query) -> None:
        """Show only the blobs ``query`` matches, the filter box emptied (typing or Enter there shows
        the rest again); on a worker for a big table (the model's ``viewApplied`` follows)."""
        if self._show_only is not None:
            self._show_only(query)
        else:
            self._blobs.set_filter(query)

    def select_all_blobs(self) -> None:
        """Select every visible blob: one range, whatever their number."""
        m = self._blobs
        if m.rowCount():
            sm = self._blob_view.selectionModel()
            last = m.index(m.rowCount() - 1, m.columnCount() - 1)
            sm.select(QItemSelection(m.index(0, 0), last), QItemSelectionModel.SelectionFlag.ClearAndSelect)
            sm.setCurrentIndex(m.index(0, 0), QItemSelectionModel.SelectionFlag.NoUpdate)
            self._blob_view.scrollTo(m.index(0, 0))

    def select_blob_row(self, i: int) -> None:
        """Make row ``i`` of the blobs table the only selected and current one, scrolled into view."""
        index = self._blobs.index(i, 0)
        self._blob_view.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self._blob_view.scrollTo(index)

    def select_blob_rows(self, rows: list[int]) -> None:
        """Select exactly these rows (sorted, not empty): one range per run of adjacent rows, cheap
        for thousands; the first becomes current and is scrolled to."""
        m = self._blobs
        selection = QItemSelection()
        last = m.columnCount() - 1
        start = prev = rows[0]
        for r in rows[1:] + [None]:
            if r is not None and r == prev + 1:
                prev = r
                continue
            selection.select(m.index(start, 0), m.index(prev, last))
            if r is not None:
                start = prev = r
        sm = self._blob_view.selectionModel()
        sm.select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        sm.setCurrentIndex(m.index(rows[0], 0), QItemSelectionModel.SelectionFlag.NoUpdate)
        self._blob_view.scrollTo(m.index(rows[0], 0))

    def clear_blobs(self) -> None:
        self._blob_view.clearSelection()


class Reporter(Translated):
    """Tells the person what happened: status-bar messages, the activity label beside it, and
    errors (what failed, why, what to do) in a dialog and in the log dock."""

    def __init__(self, parent: QWidget, app: AppContext, status_bar: QStatusBar, activity: QLabel,
                 closing: Callable[[], bool]):
        self._parent, self._app = parent, app
        self._status_bar, self._activity = status_bar, activity
        self._closing = closing  # while the window closes, errors go to the log only

    def status(self, text: str, timeout_ms: int = 0) -> None:
        self._status_bar.showMessage(text, timeout_ms)

    def activity(self, text: str) -> None:
        """What is going on right now ("Opening…"); an empty text clears it."""
        self._activity.setText(text)

    def error(self, what: str, error, hint: str = "") -> None:
        reason = str(error) or type(error).__name__
        log.error("%s %s", what, reason)
        text = what + "\n\n" + reason + (("\n\n" + hint) if hint else "")
        if not self._closing():
            self._app.dialogs.error(self._parent, self.tr("Blobscope"), text)

    def batch(self, what: str, failures: list[tuple[str, str]]) -> None:
        """Some items of a batch failed: each into the log, the first in the dialog, all in its details."""
        for item, reason in failures:
            log.error("%s: %s", item, reason)
        detail = "\n".join(f"{item}: {reason}" for item, reason in failures)
        if not self._closing():
            self._app.dialogs.error(self._parent, self.tr("Blobscope"), what + "\n\n" + failures[0][1], detail)


@dataclass(frozen=True)
class CommandContext:
    """What a command may use.  The window builds one and hands it to every command."""

    parent: QWidget                                        # the parent of every dialog a command opens
    app: AppContext                                        # dialogs (a test may swap them), settings, recent stores
    current_store: Callable[[], BlobscopeStore | None]     # asked at each use: the store changes under a command
    runner: JobRunner                                      # every store call runs here, never on the GUI thread
    blobs: BlobTableModel
    ingests: IngestTableModel
    selection: Selection
    report: Reporter
    referrers: ReferrerIndex
    actions_changed: Callable[[], None]                    # which actions are enabled may have changed
    blobs_changed: Callable[[Iterable[str]], None]         # these blobs' rows changed: the details pane follows

    @property
    def dialogs(self) -> DialogService:
        return self.app.dialogs


class Command(Translated):
    """One thing the person can do.  ``action`` names its QAction in gui/actions.py (None for a
    command reached otherwise, e.g. from the Images tab); the window connects the action's
    ``triggered`` to :meth:`trigger` and asks :meth:`enabled` whenever the selection or the
    store changes."""

    action: ClassVar[str | None] = None

    def __init__(self, ctx: CommandContext):
        self.ctx = ctx

    @property
    def store(self) -> BlobscopeStore | None:
        return self.ctx.current_store()

    def selected_blobs(self) -> int:
        return self.ctx.selection.blob_count() if self.store is not None else 0

    def enabled(self) -> bool:
        """Whether the action makes sense for the current store and selection (read-only aside)."""
        return True

    def disabled_reason(self) -> str:
        """When not :meth:`enabled`, why (the action's tooltip says it); "" keeps the usual tooltip."""
        return ""

    @property
    def writes(self) -> bool:
        return self.action is not None and writes(self.action)

    def allowed(self) -> bool:
        """Enabled, and not a write into a read-only store: what the action's enabled state shows."""
        return self.enabled() and not (self.writes and bool(getattr(self.store, "read_only", False)))

    def trigger(self) -> None:
        raise NotImplementedError
