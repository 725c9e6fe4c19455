"""actionDelete: delete the selected blobs, after one question for the whole selection that names
its size, the garbage-collection roots in it and the blobs whose labels point into it.

What the question says is worked out from the columns (gui/blobs/delete_plan.py).  Up to
``PLAN_ON_GUI`` rows named by few label sets that takes a few milliseconds and is done at once; a
bigger selection (100k rows, a million), or one that many blobs' labels name (shared layers in a
store of images), is planned on a worker from a snapshot of the columns while a "Preparing…" box
with a Cancel button shows, and the plan is dropped, nothing deleted, when the selection changed
in the meantime (design.md §5.3).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QProgressDialog

from .. import fmt, operations
from ..blobs.delete_plan import DeletePlan, plan_delete, referencing_in
from .base import Command, CommandContext

if TYPE_CHECKING:
    from ..jobs import Job

PLAN_ON_GUI = 5000      # selected rows planned on the GUI thread (about 3 ms); more go to a worker
SETS_ON_GUI = 2000      # label sets the referrer map may read first on the GUI thread
SEARCH_ON_GUI = 300_000  # label sets naming the selection x rows: each such set is a search of
                         # the label-set column (about 30 ms at a million rows)
RELEASE_CHUNK = 16384   # digests freed between two GIL hand-offs
PREPARING_SHOW_MS = 150  # a plan ready sooner never shows the "Preparing…" box


class DeleteBlobs(Command):
    action = "actionDelete"

    def __init__(self, ctx: CommandContext):
        super().__init__(ctx)
        self.preparing: Job | None = None        # the plan being worked out, or None
        self.preparing_box: QProgressDialog | None = None

    def enabled(self) -> bool:
        return self.selected_blobs() > 0

    def trigger(self) -> None:
        ctx = self.ctx
        self._end_preparing()  # Delete again: the newer selection is the one asked about
        rids = ctx.selection.blob_rids()
        if not rids or self.store is None or not self.allowed():
            return
        if self._quick(rids):
            plan = plan_delete(ctx.blobs.columns, rids, ctx.referrers.referencing)
            if plan is not None:
                self._ask(plan)
            return
        store, generation = self.store, ctx.selection.blob_generation()
        snap = ctx.blobs.columns_snapshot()  # immutable; usually the one the last filter or sort made

        def work(job: Job) -> DeletePlan | None:
            from store.gcpause import paused_gc
            stop = lambda: job.cancelled  # noqa: E731
            with paused_gc():  # a collection started here walks the whole heap holding the GIL
                return plan_delete(snap, rids, lambda ds: referencing_in(snap, ds, stop), stop)

        def done(plan: DeletePlan | None) -> None:
            if job is not self.preparing:
                return  # cancelled, or Delete pressed again
            cancelled = job.cancelled  # the window closing cancels every job
            self._end_preparing()
            if plan is None or cancelled or store is not self.store:
                return  # cancelled (Cancel, the window closing) or another store
            # a re-sort or a filter moves the selection without a selectionChanged, and can only
            # drop selected rows: the same number selected is the same selection
            if ctx.selection.blob_generation() != generation or ctx.selection.blob_count() != len(rids):
                ctx.report.status(self.tr("The selection changed while the delete was being prepared; "
                                          "nothing was deleted."), 8000)
                self._release(plan)
                return
            self._ask(plan)

        def failed(error) -> None:
            if job is not self.preparing:
                return
            self._end_preparing()
            ctx.report.error(self.tr("Preparing the delete failed."), error)

        job = ctx.runner.start("prepare delete", work, on_done=done, on_error=failed)
        self.preparing = job
        box = QProgressDialog(self.tr("Preparing to delete {n} blob(s)…").format(n=len(rids)),
                              self.tr("Cancel"), 0, 0, ctx.parent)
        box.setObjectName("deletePreparing")
        box.setWindowTitle(self.tr("Delete blobs"))
        box.setWindowModality(Qt.WindowModality.NonModal)  # the window stays live (and its selection changeable)
        box.setAutoClose(False)
        box.setAutoReset(False)
        box.setMinimumDuration(PREPARING_SHOW_MS)
        box.canceled.connect(self.cancel_preparing)
        self.preparing_box = box
        QTimer.singleShot(PREPARING_SHOW_MS, self._show_preparing)

    def _quick(self, rids) -> bool:
        """Whether the plan takes the GUI thread a few milliseconds: few rows, and few label sets
        naming them, for the size of the table (a layer that every manifest names costs a search
        of the label-set column per manifest)."""
        referrers = self.ctx.referrers
        if len(rids) > PLAN_ON_GUI or referrers.unread_sets() > SETS_ON_GUI:
            return False
        cols = self.ctx.blobs.columns
        return referrers.hits(cols.digests_of(rids)) * cols.n <= SEARCH_ON_GUI

    def _show_preparing(self) -> None:
        if self.preparing_box is not None:
            self.preparing_box.show()

    def cancel_preparing(self) -> None:
        """Stop working out a plan: nothing is asked, nothing deleted."""
        if self.preparing is not None:
            self._end_preparing()
            self.ctx.report.status(self.tr("Delete cancelled; nothing was deleted."), 5000)

    def _end_preparing(self) -> None:
        if self.preparing is not None:
            self.preparing.cancel()
        self.preparing = None
        box, self.preparing_box = self.preparing_box, None
        if box is not None:
            try:
                box.canceled.disconnect(self.cancel_preparing)
                box.hide()
                box.deleteLater()
            except RuntimeError:  # its parent, the window, is gone already
                pass

    def _release(self, plan: DeletePlan) -> None:
        """A plan not acted on: a million digests take 40 ms to free in one call (holding the GIL,
        whichever thread makes it), so a job frees them a slice at a time."""
        if plan.count > PLAN_ON_GUI:
            self.ctx.runner.start("release delete plan", partial(_release, plan.digests))

    def _ask(self, plan: DeletePlan) -> None:
        ctx = self.ctx
        text = self.tr("Delete {n} blob(s), {size} in total?").format(n=plan.count, size=fmt.size(plan.total_bytes))
        notes = [self.tr("This cannot be undone.")]
        if plan.roots:
            notes.append(self.tr("{n} of them are garbage-collection roots (containerd.io/gc.root): "
                                 "{list}").format(n=plan.roots, list=", ".join(
                                     fmt.short_digest(d) for d in plan.root_names)))
        if plan.referenced:
            notes.append(self.tr("{n} of them are referenced by other blobs' "
                                 "containerd.io/gc.ref.content labels, which will then point at "
                                 "missing content: {list}").format(
                n=plan.referenced, list=", ".join(f"{fmt.short_digest(d)} ← {fmt.short_digest(p)}"
                                                  for d, p in plan.referenced_names)))
        if not ctx.dialogs.confirm(ctx.parent, self.tr("Delete blobs"), text, "\n\n".join(notes),
                                   ok_text=self.tr("Delete")):
            self._release(plan)
            return
        store = self.store
        if store is None:
            return
        digests, asked = plan.digests, plan.count  # the list goes with the job: freed on its thread

        def done(result: operations.BatchResult):
            ctx.blobs.remove_digests(result.done)
            ctx.referrers.invalidate()
            ctx.report.status(self.tr("Deleted {n} blob(s).").format(n=len(result.done)), 5000)
            if result.failed:
                ctx.report.batch(self.tr("{n} of {total} blob(s) could not be deleted.").format(
                    n=len(result.failed), total=asked), result.failed)

        ctx.runner.start("delete", lambda job: operations.delete_blobs(store, digests, job),
                         on_done=done, on_error=lambda e: ctx.report.error(self.tr("Deleting failed."), e))


def _release(digests: list[str], _job=None) -> None:
    while digests:
        del digests[-RELEASE_CHUNK:]  # each slice a short hold of the GIL
