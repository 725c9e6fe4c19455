"""actionImageLayers: the selected image's (index or manifest) layers as dive shows them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..images.image_layers import ImageLayersDialog
from .base import Command, CommandContext

if TYPE_CHECKING:
    from ..images.image_graph import ImageGraph


class ExploreImageLayers(Command):
    action = "actionImageLayers"

    def __init__(self, ctx: CommandContext, graph: ImageGraph):
        super().__init__(ctx)
        self.graph = graph
        self.dialog: ImageLayersDialog | None = None  # the one open, if any

    def _image(self) -> str | None:
        g = self.graph.graph
        if g is None or self.ctx.selection.blob_count() != 1:  # count first: 100k selected rows made 100k rows
            return None
        rows = self.ctx.selection.blob_rows()
        return rows[0].digest if g.kind(rows[0].digest) in ("index", "manifest") else None

    def enabled(self) -> bool:
        return self._image() is not None

    def trigger(self) -> None:
        digest = self._image()
        store = self.store
        if digest is None or store is None:
            return
        self.open(digest)

    def open(self, digest: str) -> ImageLayersDialog | None:
        store = self.store
        if store is None:
            return None
        if self.dialog is not None:
            self.dialog.close()
            self.dialog.deleteLater()
        g = self.graph.graph
        name = g.image_name(digest) if g is not None else ""
        dlg = ImageLayersDialog(store, digest, self.ctx.runner, self.ctx.parent, name=name)
        self.dialog = dlg
        dlg.show()
        dlg.start()
        return dlg
