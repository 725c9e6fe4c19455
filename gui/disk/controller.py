"""The Disk tab's analysis of the open store: started on the job runner when the tab is first
shown for a store (or asked for), reported step by step, partial trees shown as they arrive;
a result for another store, or older than the latest start, is dropped (design.md §5.2)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QObject, Signal

from store import containerd_root, errors

from .. import fmt
from . import analysis
from .disk_tab import DiskTab
from .disk_tree import DiskTree
from .live_analysis import LIVE_STEPS

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
        #: for an offline root: why nothing may be deleted from it now (a running daemon owns it), or ""
        self.root_busy = ""
        self._steps = {
            "metadata": self.tr("Reading meta.db…"), "dry-run": self.tr("Predicting the garbage collector…"),
            "files": self.tr("Measuring content and ingests…"),
            "snapshots": self.tr("Measuring snapshots (du)… content is shown already"),
            "live-records": self.tr("Reading the daemon's records and snapshot usage…"),
            "owners": self.tr("Reading the images' manifests and configs…"),
        }

    @property
    def running(self) -> bool:
        return self._job is not None

    @property
    def live(self) -> bool:
        return self.target.kind == analysis.LIVE

    def label(self) -> str:
        """What is analysed, for messages: the root's path or the daemon's address."""
        return self.target.shown if self.live else str(self.target.path)

    def check_root(self) -> None:
        """Whether a running containerd owns the offline root shown (one lock probe of its meta.db)."""
        self.root_busy = ""
        if self.target.kind == analysis.ROOT and self.target.path is not None:
            running = containerd_root.live_daemon(self.target.path)
            if running is not None:
                pid, address = running
                self.root_busy = self.tr("a running containerd (process {pid}, {address}) owns this root").format(
                    pid=pid or "?", address=address or "?")

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
        self.check_root()
        kind = self.target.kind
        if kind == analysis.NONE:
            if self.target.reason == "live":
                text = self.tr("This source has no directory and no daemon address whose disk use Blobscope "
                               "can read.")
            else:
                text = self.tr("Open a containerd root to see where its disk space went.")
            self.tab.show_message(text)
            self.tab.set_notice("")
        elif kind == analysis.LIVE:
            self.tab.show_message(self.tr("Analyse Disk (F6) reads the records of containerd at {address} "
                                          "through its services.").format(address=self.label()))
            self.tab.set_notice(self.tr("live: the picture can move. Read through the daemon service by service "
                                        "while it runs; a pull, a delete or a garbage collection meanwhile can "
                                        "change it. Leases and gc.root labels can be removed and a collection "
                                        "asked for from the item's menu."))
        else:
            self.tab.show_message(self.tr("Analyse Disk (F6) measures {path}.").format(path=str(self.target.path)))
            if kind == analysis.ROOT:
                self.tab.set_notice(self.tr("An offline containerd root: only an orphaned snapshot directory can be "
                                            "deleted here, and only while no daemon runs on the root. Leases and "
                                            "gc.root labels are removed through a running daemon."))
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
        steps = LIVE_STEPS if target.kind == analysis.LIVE else analysis.STEPS
        self.tab.set_progress(0, steps)
        self.tab.status.setText(self.tr("Analysing {path}…").format(path=self.label()))

        def work(job):
            return analysis.analyse(target, progress=lambda step, what: job.partial(("step", step, what)),
                                    partial=lambda tree: job.partial(("tree", tree)),
                                    cancelled=lambda: job.cancelled)

        def partial(value):
            if job is not self._job or store is not self._store():
                return
            if value[0] == "step":
                self.tab.set_progress(value[1], steps)
                self.tab.status.setText(self._steps.get(value[2], ""))
            else:
                self._show(value[1], complete=False)

        def done(tree: DiskTree):
            if job is not self._job or store is not self._store():
                return  # a newer analysis or another store: stale
            self._job = None
            self.tab.set_progress(None)
            self.check_root()
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
            if tree.live:
                text = self.tr("live:") + " " + text
            self.tab.status.setText(text)
        self.treeShown.emit(complete)


__all__ = ["DiskAnalysis"]
