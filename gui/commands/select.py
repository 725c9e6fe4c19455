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

    def enabled(self) -> bool:
        return self.store is not None and self.graph.graph is not None

    def trigger(self) -> None:
        ctx = self.ctx
        graph = self.graph.graph
        if graph is None:
            ctx.report.status(self.tr("The image graph is still being built; try again in a moment."), 5000)
            return
        m = ctx.blobs
        wanted = {d: r for d in map(str, graph.reclaimable()) if (r := m.get(d)) is not None}
        if not wanted:
            ctx.selection.clear_blobs()
            ctx.report.status(self.tr("No unreferenced blobs: every blob is reachable from an image "
                                      "or a gc.root label."), 8000)
            return
        rows = m.visible_rows_of(wanted)
        if len(rows) < len(wanted):
            ctx.selection.clear_filter()  # the filter hides some of them
            rows = m.visible_rows_of(wanted)
        ctx.selection.select_blob_rows(rows)
        size = sum(r.size for r in wanted.values())
        ctx.report.status(self.tr("Selected {n} unreferenced blob(s), {size}. Delete removes them.")
                          .format(n=len(rows), size=fmt.size(size)), 15000)
