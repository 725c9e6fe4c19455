"""The window's image-graph features: the references section, the images tab, "Select
Unreferenced" and the layer browser.

A mixin of :class:`gui.main_window.MainWindow`.  The graph is (re)built on the job runner
after every scan, from the scan's own rows (no second walk) once the media-type pass has
warmed the cache; the GUI thread only queries the finished, immutable graph.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QTimer
from PySide6.QtWidgets import QLabel

from . import fmt, graph_ops
from .images_view import ImagesPanel
from .kinds import kind_of
from .layer_browser import LayerBrowserDialog
from .resources import icon

log = logging.getLogger(__name__)

GRAPH_DELAY_MS = 300  # a burst of model changes (a multi-delete, several imports) rebuilds once


class GraphActions:
    """Handlers behind actionSelectUnreferenced and actionBrowseLayer, the references links
    and the images tab."""

    def _build_graph_ui(self) -> None:
        self.graph = None           # the latest store.graph.Graph of this store, or None
        self._graph_job = None
        self.layer_browser: LayerBrowserDialog | None = None
        self.images_view = ImagesPanel(self)
        self.view_tabs.addTab(self.images_view, icon("images"), self.tr("Images"))
        self.graph_label = QLabel(self)
        self.graph_label.setObjectName("graphLabel")
        self.statusBar().addPermanentWidget(self.graph_label)
        self.images_view.blobRequested.connect(self.select_blob)
        self.images_view.blobOpened.connect(self._open_from_images)
        self.details.refs.blobRequested.connect(self.select_blob)
        self.mediaTypesDone.connect(self._start_graph)
        # deletes, label edits and imports change the graph even when no rescan follows
        self.graph_timer = QTimer(self)
        self.graph_timer.setSingleShot(True)
        self.graph_timer.setInterval(GRAPH_DELAY_MS)
        self.graph_timer.timeout.connect(self._start_graph)
        self.blob_model.totalsChanged.connect(self._graph_maybe_stale)
        self.storeOpened.connect(lambda _root: self._reset_graph())

    def _reset_graph(self) -> None:
        if self._graph_job is not None:
            self._graph_job.cancel()
            self._graph_job = None
        self.graph = None
        self.graph_timer.stop()
        self.images_view.model.clear()
        self.view_tabs.setTabText(self.view_tabs.indexOf(self.images_view), self.tr("Images"))
        self.images_view.show_state(self.tr("Working out the image graph…"))
        self.graph_label.setText("")
        self._update_graph_actions()

    # ------------------------------------------------------------------ building
    def _graph_maybe_stale(self) -> None:
        if self.graph is not None and not self._scanning:  # a scan rebuilds it when it ends anyway
            self.graph_timer.start()

    def _start_graph(self) -> None:
        store = self.store
        if store is None or self._closing:
            return
        if self._graph_job is not None:
            self._graph_job.cancel()
        rows = list(self.blob_model.all_rows())  # the scan's rows: the graph walks nothing again
        known, self._classified = self._classified, None  # what the media-type pass just recognised
        self.graph_label.setText(self.tr("Building the image graph…"))

        def work(job):
            g = graph_ops.build_graph(store, rows, job, known)
            # images, their space and trees are computed here too: the GUI thread only wraps them
            images = sorted(g.images(), key=lambda i: (i.name or "~", str(i.digest)))
            return g, [(i, g.tree(i.digest)) for i in images], g.space()

        def done(result):
            if job is not self._graph_job or store is not self.store:
                return  # a newer scan or another store: this graph is stale
            self._graph_job = None
            self._on_graph(*result)

        def failed(error):
            if job is not self._graph_job:
                return
            self._graph_job = None
            self.graph_label.setText("")
            from store import errors
            if not isinstance(error, errors.Cancelled):
                self.images_view.show_state(self.tr("The image graph could not be built: {error}").format(
                    error=error))
                log.warning("building the image graph failed: %s", error)

        job = self.runner.start("image graph", work, on_done=done, on_error=failed)
        self._graph_job = job

    def _on_graph(self, graph, images, space) -> None:
        self.graph = graph
        self.graph_label.setText(self.tr("{n} unreferenced ({size})").format(
            n=space.reclaimable_count, size=fmt.size(space.reclaimable_bytes)))
        self.graph_label.setToolTip(self.tr("Blobs no image or gc.root label reaches: containerd's garbage "
                                            "collector would remove them. Edit ▸ Select Unreferenced selects "
                                            "them."))
        self.images_view.set_graph(images, space)
        self.view_tabs.setTabText(self.view_tabs.indexOf(self.images_view),
                                  self.tr("Images ({n})").format(n=len(images)))
        if self.details.current is not None:
            self._show_graph_refs(self.details.current)
        self._update_graph_actions()
        self.graphBuilt.emit()

    def _show_graph_refs(self, digest: str) -> None:
        """The details pane's references from the graph (once there is one)."""
        if self.graph is None or digest not in self.graph.sizes:
            return  # no graph yet, or a blob newer than it: the label parents stay until the rebuild
        self.details.refs.show_refs(self.graph.refs(digest))
        if self.images_view.isVisible():
            self.images_view.reveal(digest)

    def _update_graph_actions(self) -> None:
        a = self.actions
        a["actionSelectUnreferenced"].setEnabled(self.store is not None and self.graph is not None)
        a["actionBrowseLayer"].setEnabled(self.store is not None and self.selected_blob_count() == 1)

    # ------------------------------------------------------------------ selecting blobs
    def select_blob(self, digest: str) -> bool:
        """Select ``digest`` in the blobs table (clearing a filter that hides it); say so when it is missing."""
        row = self.blob_model.get(digest)
        if row is None:
            self.statusBar().showMessage(self.tr("Blob {digest} is not in the store: something references it, "
                                                 "but its content is missing.").format(digest=digest), 8000)
            return False
        if self.blob_model.row_for(digest) < 0:
            self.filter_edit.clear()  # the filter hides the blob asked for
            self.apply_filter()
            self.statusBar().showMessage(self.tr("The filter was cleared to show {short}.").format(
                short=row.short), 5000)
        i = self.blob_model.row_for(digest)
        index = self.blob_model.index(i, 0)
        self.blob_view.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.blob_view.scrollTo(index)
        return True

    def select_unreferenced(self) -> None:
        """Select every blob the graph finds unreachable, so actionDelete can remove them."""
        if self.graph is None:
            self.statusBar().showMessage(self.tr("The image graph is still being built; try again in a moment."),
                                         5000)
            return
        m = self.blob_model
        wanted = {d: r for d in map(str, self.graph.reclaimable()) if (r := m.get(d)) is not None}
        if not wanted:
            self.blob_view.clearSelection()
            self.statusBar().showMessage(self.tr("No unreferenced blobs: every blob is reachable from an image "
                                                 "or a gc.root label."), 8000)
            return
        rows = m.visible_rows_of(wanted)
        if len(rows) < len(wanted):
            self.filter_edit.clear()  # the filter hides some of them
            self.apply_filter()
            rows = m.visible_rows_of(wanted)
        selection = QItemSelection()
        last = m.columnCount() - 1
        start = prev = rows[0]
        for r in rows[1:] + [None]:  # one range per run of adjacent rows: cheap for thousands
            if r is not None and r == prev + 1:
                prev = r
                continue
            selection.select(m.index(start, 0), m.index(prev, last))
            if r is not None:
                start = prev = r
        sm = self.blob_view.selectionModel()
        sm.select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        sm.setCurrentIndex(m.index(rows[0], 0), QItemSelectionModel.SelectionFlag.NoUpdate)
        self.blob_view.scrollTo(m.index(rows[0], 0))
        size = sum(r.size for r in wanted.values())
        self.statusBar().showMessage(self.tr("Selected {n} unreferenced blob(s), {size}. Delete removes them.")
                                     .format(n=len(rows), size=fmt.size(size)), 15000)

    # ------------------------------------------------------------------ layers
    def _open_selected(self) -> None:
        """Double-click or Enter: a layer opens its file list; anything else its labels."""
        rows = self.selected_blob_rows()
        if len(rows) == 1 and self._is_layer(rows[0]):
            self.browse_layer()
        else:
            self.edit_labels()

    def _open_from_images(self, digest: str) -> None:
        """Double-click in the Images tab: a layer opens its files; anything else is only selected."""
        if self.select_blob(digest):
            row = self.blob_model.get(digest)
            if row is not None and self._is_layer(row):
                self.browse_layer()

    def _is_layer(self, row) -> bool:
        kind = self.graph.kind(row.digest) if self.graph is not None else ""
        return (kind or kind_of(row.media_type, row.size)) == "layer"

    def browse_layer(self) -> None:
        rows = self.selected_blob_rows()
        if len(rows) != 1 or self.store is None:
            return
        if self.layer_browser is not None:
            self.layer_browser.close()
            self.layer_browser.deleteLater()
        row = rows[0]
        about = ", ".join(x for x in (self.graph.media_type(row.digest) if self.graph is not None else "",
                                      fmt.size(row.size)) if x)
        dlg = LayerBrowserDialog(self.store, row.digest, self.runner, self, about=about)
        self.layer_browser = dlg
        dlg.show()
        dlg.start()
