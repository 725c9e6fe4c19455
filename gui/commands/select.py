"""Selecting blobs for the person: one asked for by digest (a click in the references or the
Images tab), or every blob the image graph finds unreachable (actionSelectUnreferenced)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from .. import fmt
from .base import Command, CommandContext

if TYPE_CHECKING:
    from ..images.image_graph import ImageGraph
    from ..images.unreferenced import UnreferencedRows


class SelectBlob(Command):
    """Select ``digest`` in the blobs table (clearing a filter that hides it); say so when it is missing."""

    def run(self, digest: str) -> bool:
        ctx = self.ctx
        row = ctx.blobs.get(digest)
        if row is None:
            ctx.report.status(self.tr("Blob {digest} is not in the store: something references it, "
                                      "but its content is missing.").format(digest=digest), 8000)
            return False
        if ctx.blobs.row_for(digest) < 0:
            ctx.selection.clear_filter()  # the filter hides the blob asked for
            ctx.report.status(self.tr("The filter was cleared to show {short}.").format(short=row.short), 5000)
        ctx.selection.select_blob_row(ctx.blobs.row_for(digest))
        return True


class SelectUnreferenced(Command):
    """Select every blob the graph finds unreachable, so actionDelete can remove them.

    The graph's worker hands them over as row numbers (gui/images/unreferenced.py): nothing here
    makes a row or looks up a digest per blob.  Selected in place when they form few runs of
    adjacent rows; else (a million-blob store, most of it unreferenced and scattered) the table
    shows only them and selects them all as one range, since a Qt selection of hundreds of
    thousands of ranges takes seconds to make and seconds again at every repaint.
    """

    action = "actionSelectUnreferenced"
    MAX_RANGES = 2000  # runs of adjacent rows selected in place; beyond, only they are shown
    MAX_IN_PLACE = 100_000  # more blobs than this are shown alone without looking at their runs

    def __init__(self, ctx: CommandContext, graph: ImageGraph):
        super().__init__(ctx)
        self.graph = graph
        self._pending: Sequence[int] = []
        self._restricted: UnreferencedRows | None = None

    def enabled(self) -> bool:
        return self.store is not None and self.graph.graph is not None

    def trigger(self) -> None:
        ctx = self.ctx
        if self.graph.graph is None:
            ctx.report.status(self.tr("The image graph is still being built; try again in a moment."), 5000)
            return
        m = ctx.blobs
        unref = self.graph.unreferenced
        if unref is not None and unref.columns is m.columns:
            rids: Sequence[int] = unref.rids()  # worked out on the graph's worker (an array of the row numbers)
        else:  # the table was listed again since the graph: find the rows by digest
            cols = m.columns
            rids = sorted(r for r in map(cols.find, map(str, self.graph.graph.reclaimable())) if r >= 0)
            unref = None
        if not rids:
            ctx.selection.clear_blobs()
            ctx.report.status(self.tr("No unreferenced blobs: every blob is reachable from an image "
                                      "or a gc.root label."), 8000)
            return
        if unref is None or len(rids) <= self.MAX_IN_PLACE:  # else they cannot all be adjacent enough
            rows = m.visible_rows_at(rids)
            if len(rows) == len(rids) and _runs(rows, self.MAX_RANGES) <= self.MAX_RANGES:
                self._select(rows, rids)
                return
        if unref is not None and len(rids) > self.MAX_RANGES:
            self._restricted = unref  # many, scattered or hidden: show only them, then select all
            self._pending = rids
            ctx.selection.show_only(unref)
        else:
            ctx.selection.clear_filter()  # the filter hides some of them
            rows = m.visible_rows_at(rids)
            if len(rows) == len(rids):
                self._select(rows, rids)
                return
            self._restricted, self._pending = None, rids
        if self._restricted is not None and m.rowCount() == len(rids):  # applied at once (a small table)
            self._finish()
            return
        m.viewApplied.connect(self._select_later)  # the filter is worked out on a worker

    def _select_later(self) -> None:
        self.ctx.blobs.viewApplied.disconnect(self._select_later)
        self._finish()

    def _finish(self) -> None:
        m = self.ctx.blobs
        rids, self._pending = self._pending, []
        restricted, self._restricted = self._restricted, None
        if restricted is not None:
            if m.rowCount():
                self.ctx.selection.select_all_blobs()
                self._report(m.rowCount(), restricted.size, shown_only=True)
            return
        rows = m.visible_rows_at(rids)
        if rows:
            self._select(rows, rids)

    def _select(self, rows: list[int], rids: Sequence[int]) -> None:
        self.ctx.selection.select_blob_rows(rows)
        self._report(len(rows), self.ctx.blobs.total_rows_of(rids), shown_only=False)

    def _report(self, n: int, size: int, *, shown_only: bool) -> None:
        if shown_only:
            text = self.tr("Showing and selecting only the {n} unreferenced blob(s), {size}. Delete removes "
                           "them; Enter in the empty filter box shows every blob again.")
        else:
            text = self.tr("Selected {n} unreferenced blob(s), {size}. Delete removes them.")
        self.ctx.report.status(text.format(n=n, size=fmt.size(size)), 15000)


def _runs(rows: list[int], stop: int | None = None) -> int:
    """Runs of adjacent numbers in the ascending ``rows`` (the ranges a selection of them needs),
    counted up to ``stop`` + 1 at most."""
    if not rows:
        return 0
    runs = 1
    prev = rows[0]
    for r in rows:
        if r > prev + 1:
            runs += 1
            if stop is not None and runs > stop:
                break
        prev = r
    return runs
