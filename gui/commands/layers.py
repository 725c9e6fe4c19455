"""actionBrowseLayer: the file list of the one selected layer; and opening a blob (double-click
or Enter), which browses a layer and edits the labels of anything else; in the Images tab an
image (index or manifest) opens its Image Layers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import fmt
from ..images.layer_browser import LayerBrowserDialog
from .base import Command, CommandContext

if TYPE_CHECKING:
    from ..images.image_graph import ImageGraph
    from .image_layers import ExploreImageLayers
    from .labels import EditLabels
    from .select import SelectBlob


class BrowseLayer(Command):
    action = "actionBrowseLayer"

    def __init__(self, ctx: CommandContext, graph: ImageGraph):
        super().__init__(ctx)
        self.graph = graph
        self.dialog: LayerBrowserDialog | None = None  # the one layer browser open, if any

    def enabled(self) -> bool:
        return self.selected_blobs() == 1

    def trigger(self) -> None:
        ctx = self.ctx
        rows = ctx.selection.blob_rows()
        store = self.store
        if len(rows) != 1 or store is None:
            return
        if self.dialog is not None:
            self.dialog.close()
            self.dialog.deleteLater()
        row = rows[0]
        about = ", ".join(x for x in (self.graph.media_type(row.digest), fmt.size(row.size)) if x)
        dlg = LayerBrowserDialog(store, row.digest, ctx.runner, ctx.parent, about=about)
        self.dialog = dlg
        dlg.show()
        dlg.start()


class OpenBlob(Command):
    """Double-click or Enter on a blob: a layer opens its file list; anything else its labels."""

    def __init__(self, ctx: CommandContext, graph: ImageGraph, browse: BrowseLayer, labels: EditLabels,
                 select: SelectBlob, images: ExploreImageLayers | None = None):
        super().__init__(ctx)
        self.graph, self._browse, self._labels, self._select = graph, browse, labels, select
        self._images = images

    def trigger(self) -> None:
        rows = self.ctx.selection.blob_rows()
        if len(rows) == 1 and self.graph.is_layer(rows[0]):
            self._browse.trigger()
        else:
            self._labels.trigger()

    def from_images(self, digest: str) -> None:
        """Double-click in the Images tab: a layer opens its files, an image its layers; anything
        else is only selected."""
        if self._select.run(digest):
            row = self.ctx.blobs.get(digest)
            if row is not None and self.graph.is_layer(row):
                self._browse.trigger()
            elif self._images is not None and self._images.enabled():
                self._images.trigger()
