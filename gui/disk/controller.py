"""The Disk tab's analysis of the open store: started on the job runner when the tab is first
shown for a store (or asked for), reported step by step, partial trees shown as they arrive;
a result for another store, or older than the latest start, is dropped (design.md §5.2)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QObject, Signal

from store import errors

from .. import fmt
from . import analysis
from .disk_tab import DiskTab
from .disk_tree import DiskTree

if TYPE_CHECKING:
    from ..jobs import Job, JobRunner

log = logging.getLogger(__name__)


class DiskAnalysis(QObject):
    treeShown = Signal(bool)  # a tree is in the tab: complete (True) or partial (False)
    changed = Signal()        # whether an analysis can run, or runs, may have changed

    def __init__(self, tab: DiskTab, *, runner: JobRunner, current_store: Callable[[], object],
                 closing: Callable[[], bool], parent: QObject | None = None):
        super().__init__(parent)
        self.tab = tab
        self._runner, self._store, self._closing = runner, current_store, closing
        self._job: Job | None = None
        self.target = analysis.Target(analysis.NONE, None, "no-store")
        self.analysed_store: object | None = None  # the store the shown tree (or the running job) is of
        self._steps = {
            "metadata": self.tr("Reading meta.db…"), "dry-run": self.tr("Predicting the garbage collector…"),
            "files": self.tr("Measuring content and ingests…"),
            "snapshots": self.tr("Measuring snapshots (du)… content is shown already"),
        }

    @property
    def running(self) -> bool:
        return self._job is not None

    def can_analyse(self) -> bool:
        return self.target.kind != analysis.NONE and not self._closing()

    def reset(self) -> None:
        """Another store: drop what is shown and running, say what this store offers."""
        if self._job is not None:
            self._job.cancel()
            self._job = None
        self.analysed_store = None
        self.tab.set_progress(None)
        self.target = analysis.disk_target(self._store())
        kind = self.target.kind
        if kind == analysis.NONE:
            if self.target.reason == "live":
                text = self.tr("A running daemon is open: its disk can only be read from its root directory. "
                               "Stop the daemon (or copy its root) and open the root to see where its disk space "
                               "went; live disk views come later.")
            else:
                text = self.tr("Open a containerd root to see where its disk space went.")
            self.tab.show_message(text)
            self.tab.set_notice("")
        else:
            self.tab.show_message(self.tr("Analyse Disk (F6) measures {path}.").format(path=str(self.target.path)))
            if kind == analysis.ROOT:
                self.tab.set_notice(self.tr("An offline containerd root is read-only: nothing can be deleted from "
                                            "here. Removing leases, gc.root labels or orphaned snapshots will come "
                                            "with the live actions."))
            else:
                self.tab.set_notice(self.tr("A plain Blobscope store has no containerd metadata: only its content "
                                            "and ingests are shown, without owners."))
        self.changed.emit()

    def ensure_started(self) -> None:
        """The tab became visible: analyse this store once."""
        if self.analysed_store is not self._store() and self._job is None:
            self.start()

    def start(self) -> None:
        store = self._store()
        if store is None or not self.can_analyse():
            return
        if self._job is not None:
            self._job.cancel()
        target = self.target
        self.analysed_store = store
        self.tab.set_progress(0, analysis.STEPS)
        self.tab.status.setText(self.tr("Analysing {path}…").format(path=str(target.path)))

        def work(job):
            return analysis.analyse(target, progress=lambda step, what: job.partial(("step", step, what)),
                                    partial=lambda tree: job.partial(("tree", tree)),
                                    cancelled=lambda: job.cancelled)

        def partial(value):
            if job is not self._job or store is not self._store():
                return
            if value[0] == "step":
                self.tab.set_progress(value[1], analysis.STEPS)
                self.tab.status.setText(self._steps.get(value[2], ""))
            else:
                self._show(value[1], complete=False)

        def done(tree: DiskTree):
            if job is not self._job or store is not self._store():
                return  # a newer analysis or another store: stale
            self._job = None
            self.tab.set_progress(None)
            self._show(tree, complete=True)
            self.changed.emit()

        def failed(error):
            if job is not self._job:
                return
            self._job = None
            self.tab.set_progress(None)
            if isinstance(error, errors.Cancelled):
                self.tab.status.setText(self.tr("The analysis was stopped."))
            else:
                log.warning("analysing the disk failed: %s", error)
                self.tab.show_message(self.tr("The disk could not be analysed: {error}").format(error=error))
            self.changed.emit()

        job = self._runner.start("disk analysis", work, on_partial=partial, on_done=done, on_error=failed)
        self._job = job
        self.changed.emit()

    def _show(self, tree: DiskTree, *, complete: bool) -> None:
        self.tab.set_tree(tree)
        root = tree.root
        if complete:
            text = self.tr("{size} in {n} items.").format(size=fmt.size(root.bytes), n=f"{root.count:,}")
            if tree.reclaimable_bytes is not None:
                text += " " + self.tr("The next garbage collection would free {size}.").format(
                    size=fmt.size(tree.reclaimable_bytes))
            if tree.problems:
                text += " " + self.tr("{n} problem(s): {first}").format(n=len(tree.problems), first=tree.problems[0])
            self.tab.status.setText(text)
        self.treeShown.emit(complete)


__all__ = ["DiskAnalysis"]
