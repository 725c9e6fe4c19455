"""The images tab: a tree of every image in the store with its platforms, config, layers and sizes."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTreeView, QVBoxLayout, QWidget

from .. import fmt
from .images_model import (
    COL_DIGEST,
    COL_MEDIA,
    COL_NAME,
    COL_SHARED,
    COL_SIZE,
    COL_TOTAL,
    COL_UNIQUE,
    DIGEST_ROLE,
    ImagesTreeModel,
)


class ImagesPanel(QWidget):
    """``blobRequested(digest)`` when the user selects a node."""

    blobRequested = Signal(str)
    blobOpened = Signal(str)  # double-click or Enter on a node

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("imagesPanel")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.summary = QLabel(self)
        self.summary.setObjectName("imagesSummary")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.model = ImagesTreeModel(self)
        self.view = QTreeView(self)
        self.view.setObjectName("imagesView")
        self.view.setModel(self.model)
        self.view.setUniformRowHeights(True)
        self.view.setAlternatingRowColors(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        hh = self.view.header()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        hh.setStretchLastSection(False)
        # the name column fits a registry name with its tag (docker.io/library/x:1.0); media types elide anyway
        for col, width in ((COL_NAME, 300), (COL_DIGEST, 100), (COL_MEDIA, 70), (COL_SIZE, 75),
                           (COL_TOTAL, 70), (COL_SHARED, 65), (COL_UNIQUE, 70)):
            self.view.setColumnWidth(col, width)
        self.view.setMinimumHeight(36)  # a small window stays small; the tree scrolls
        layout.addWidget(self.view, 1)
        # selection, not the current index: a view that gets focus makes its first row current
        # (without selecting it), and that must not move the blobs table
        self.view.selectionModel().selectionChanged.connect(self._selection_changed)
        self.view.activated.connect(self._activated)
        self._revealing = False
        self.show_state(self.tr("No image graph yet."))

    def show_state(self, text: str) -> None:
        self.summary.setText(text)

    def set_graph(self, images: list, space, tree=None) -> None:
        """``images``: (ImageSpace, TreeNode or None) pairs; ``space``: the store's StoreSpace;
        ``tree``: makes an image's TreeNode from its digest when first shown."""
        self.model.set_images(images, tree)
        text = self.tr("{n} image(s); {shared} shared between images; {count} unreferenced blob(s), "
                       "{reclaimable} reclaimable.").format(
            n=len(images), shared=fmt.size(space.image_shared_bytes), count=space.reclaimable_count,
            reclaimable=fmt.size(space.reclaimable_bytes))
        self.summary.setText(text)
        for row in range(min(self.model.rowCount(), 20)):  # the first images open, a big store stays folded
            self.view.expandRecursively(self.model.index(row, 0), 1)

    def _selection_changed(self, selected, _deselected) -> None:
        indexes = selected.indexes()
        if indexes and not self._revealing:
            digest = indexes[0].data(DIGEST_ROLE)
            if digest:
                self.blobRequested.emit(digest)

    def _activated(self, index) -> None:
        digest = index.data(DIGEST_ROLE) if index.isValid() else None
        if digest:
            self.blobOpened.emit(digest)

    def reveal(self, digest: str) -> bool:
        """Make ``digest`` current in the tree without asking for its selection again."""
        idx = self.model.find(digest)
        if not idx.isValid():
            return False
        cur = self.view.currentIndex()
        if cur.isValid() and cur.data(DIGEST_ROLE) == digest:
            return True
        self._revealing = True  # following the blobs table: do not ask it to select again
        try:
            self.view.setCurrentIndex(idx)
        finally:
            self._revealing = False
        self.view.scrollTo(idx)
        return True
