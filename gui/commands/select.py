"""Selecting blobs for the person: one asked for by digest (a click in the references or the
Images tab), or every blob the image graph finds unreachable (actionSelectUnreferenced)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import fmt
from .base import Command, CommandContext

if TYPE_CHECKING:
    from ..images.image_graph import ImageGraph


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
    """Select every blob the graph finds unreachable, so actionDelete can remove them."""

    action = "actionSelectUnreferenced"

    def __init__(self, ctx: CommandContext, graph: ImageGraph):
        super().__init__(ctx)
        self.graph = graph
        self._pending: list[str] = []

    def enabled(self) -> bool:
        return self.store is not None and self.graph.graph is not None

    def trigger(self) -> None:
        ctx = self.ctx
        graph = self.graph.graph
        if graph is None:
            ctx.report.status(self.tr("The image graph is still being built; try again in a moment."), 5000)
            return
        m = ctx.blobs
        cols = m.columns
        # row numbers straight from the columns: a million blobs, 100k unreferenced, no row objects
        wanted = [d for d in map(str, graph.reclaimable()) if cols.find(d) >= 0]
        if not wanted:
            ctx.selection.clear_blobs()
            ctx.report.status(self.tr("No unreferenced blobs: every blob is reachable from an image "
                                      "or a gc.root label."), 8000)
            return
        rows = m.visible_rows_of(wanted)
        if len(rows) < len(wanted):
            ctx.selection.clear_filter()  # the filter hides some of them
            rows = m.visible_rows_of(wanted)
        if not rows:  # the filter is being cleared on a worker: select once the rows are back
            m.viewApplied.connect(self._select_later)
            self._pending = wanted
            return
        self._select(rows, wanted)

    def _select_later(self) -> None:
        m = self.ctx.blobs
        m.viewApplied.disconnect(self._select_later)
        wanted, self._pending = self._pending, []
        rows = m.visible_rows_of(wanted)
        if rows:
            self._select(rows, wanted)

    def _select(self, rows: list[int], wanted: list[str]) -> None:
        ctx = self.ctx
        cols = ctx.blobs.columns
        ctx.selection.select_blob_rows(rows)
        size = sum(cols.sizes[cols.find(d)] for d in wanted)
        ctx.report.status(self.tr("Selected {n} unreferenced blob(s), {size}. Delete removes them.")
                          .format(n=len(rows), size=fmt.size(size)), 15000)
