"""The Disk tab: the treemap, the tree list and the details, one selection between the three.

Selecting anywhere goes through :meth:`DiskTab.select_node`, which makes the node current in
the tree; the tree's selection then moves the treemap's outline and fills the details.  The
treemap is laid out and painted on the job runner (gui/disk/treemap_render.py), never here.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QProgressBar,
    QSplitter,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from . import treemap_render
from .details import DiskDetails
from .disk_model import COL_ITEMS, COL_NAME, COL_SIZE, COL_STATE, NODE_ROLE, DiskTreeModel
from .disk_tree import DiskNode, DiskTree
from .legend import Legend
from .treemap_widget import TreemapWidget

if TYPE_CHECKING:
    from ..jobs import Job, JobRunner

log = logging.getLogger(__name__)

TEARDOWN_DELAY_MS = 2000
MAX_ROOTS = 50  # roots listed under a why chain
ROOTS_DELAY_MS = 400  # the selection rests this long before every root is looked for


class DiskTab(QWidget):
    nodeSelected = Signal(object)  # the DiskNode now selected (None: nothing)
    pictureReady = Signal()        # a treemap picture of the current tree is shown
    rootsShown = Signal()          # every root keeping the selected item is listed

    def __init__(self, runner: JobRunner, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("diskTab")
        self._runner = runner
        self._layout_job: Job | None = None
        self._roots_job: Job | None = None
        self._roots_timer = QTimer(self)
        self._roots_timer.setSingleShot(True)
        self._roots_timer.setInterval(ROOTS_DELAY_MS)
        self._roots_timer.timeout.connect(self._start_roots)
        self._stopped = False
        self.tree: DiskTree | None = None

        self.status = QLabel(self)
        self.status.setObjectName("diskStatus")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        self.progress = QProgressBar(self)
        self.progress.setObjectName("diskProgress")
        self.progress.setMaximumHeight(14)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.notice = QLabel(self)
        self.notice.setObjectName("diskNotice")
        self.notice.setTextFormat(Qt.TextFormat.PlainText)
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet("color: #6b5b00;")
        self.notice.hide()

        self.treemap = TreemapWidget(self)
        self.hover = QLabel(self)
        self.hover.setObjectName("diskHover")
        self.hover.setTextFormat(Qt.TextFormat.PlainText)
        self.hover.setMinimumWidth(50)
        self.legend = Legend(parent=self)
        left = QWidget(self)
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.setSpacing(2)
        ll.addWidget(self.treemap, 1)
        ll.addWidget(self.hover)
        ll.addWidget(self.legend)

        self.model = DiskTreeModel(self)
        self.view = QTreeView(self)
        self.view.setObjectName("diskTree")
        self.view.setModel(self.model)
        self.view.setUniformRowHeights(True)
        self.view.setAlternatingRowColors(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        hh = self.view.header()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        hh.setStretchLastSection(True)
        for col, width in ((COL_NAME, 230), (COL_SIZE, 75), (COL_ITEMS, 60), (COL_STATE, 120)):
            self.view.setColumnWidth(col, width)
        self.details = DiskDetails(self)

        right = QSplitter(Qt.Orientation.Vertical, self)
        right.setObjectName("diskRightSplitter")
        right.addWidget(self.view)
        right.addWidget(self.details)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 2)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("diskSplitter")
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([720, 560])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.status)
        layout.addWidget(self.progress)
        layout.addWidget(self.notice)
        layout.addWidget(self.splitter, 1)
        # a small window stays small: the treemap and the tree shrink, the tab does not set
        # the window's minimum (its layout's sum would, and the Blobs tab's is lower)
        self.setMinimumSize(100, 100)

        self.view.selectionModel().selectionChanged.connect(self._tree_selection)
        self.treemap.nodeClicked.connect(self.select_node)
        self.treemap.hovered.connect(self.hover.setText)
        self.treemap.layoutWanted.connect(self._lay_out)
        self.details.linkActivated.connect(self.select_ident)
        self.show_message(self.tr("Open a containerd root to see where its disk space went."))

    # ------------------------------------------------------------------ state
    def show_message(self, text: str) -> None:
        """No tree: say why (plain text)."""
        self.set_tree(None)
        self.status.setText(text)
        self.treemap.set_placeholder(text)

    def set_notice(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setVisible(bool(text))

    def set_progress(self, step: int | None, total: int = 1) -> None:
        if step is None:
            self.progress.hide()
            return
        self.progress.setRange(0, total)
        self.progress.setValue(step)
        self.progress.show()

    def set_tree(self, tree: DiskTree | None) -> None:
        """Show ``tree`` (a partial one too), keeping the selected item when it is still there;
        the tree it replaces is taken apart on the job runner."""
        keep = self.current_node()
        old, self.tree = self.tree, tree
        if old is not None and old is not tree and not self._stopped:
            # later, not beside the new tree's first picture: two Python workers at once make
            # the GUI thread wait longer for the GIL
            QTimer.singleShot(TEARDOWN_DELAY_MS, self, lambda: self._tear_down(old))
        self.details.set_tree(tree)
        self.model.set_tree(tree)
        self.treemap.set_selected(None)
        self.treemap.set_root(tree.root if tree is not None else None)
        if tree is None:
            self.details.show_node(None)
            return
        self.view.expand(self.model.index_of(tree.root))
        again = tree.same(keep) if keep is not None else None
        if again is not None:
            self.select_node(again)
        else:
            self.details.show_node(None)

    # ------------------------------------------------------------------ selection
    def current_node(self) -> DiskNode | None:
        rows = self.view.selectionModel().selectedRows()
        return rows[0].data(NODE_ROLE) if rows else None

    def select_node(self, node: DiskNode | None) -> None:
        if node is None or self.tree is None:
            return
        if self.tree.find(node.ident) is not node and node.path()[0] is not self.tree.root:
            node = self.tree.same(node)  # a click on the picture of the tree shown before this one
            if node is None:
                return
        index = self.model.index_of(node)
        self.view.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.view.scrollTo(index)

    def select_ident(self, ident: str) -> bool:
        node = self.tree.find(ident) if self.tree is not None else None
        if node is None:
            return False
        self.select_node(node)
        return True

    def _tree_selection(self, *_args) -> None:
        node = self.current_node()
        self.treemap.set_selected(node)
        self.details.show_node(node)
        self._find_roots(node)
        self.nodeSelected.emit(node)

    def _find_roots(self, node: DiskNode | None) -> None:
        """Every root keeping ``node``, once the selection has rested (the walk is long)."""
        if self._roots_job is not None:
            self._roots_job.cancel()
            self._roots_job = None
        self._roots_timer.stop()
        if node is not None and node.verdict is not None:
            self._roots_timer.start()

    def _start_roots(self) -> None:
        """A backward walk over the node's namespace (DryRun.every_chain), on the job runner."""
        node = self.current_node()
        tree = self.tree
        run = tree.run if tree is not None else None
        verdict = node.verdict if node is not None else None
        if node is None or run is None or verdict is None or self._stopped:
            return

        def done(chains):
            if job is self._roots_job:
                self._roots_job = None
                self.details.show_roots(node, chains)
                self.rootsShown.emit()

        def failed(error):
            if job is self._roots_job:
                self._roots_job = None
                log.info("finding every root of %s failed: %s", node.ident, error)

        job = self._runner.start("disk roots", lambda job: run.every_chain(verdict, limit=MAX_ROOTS),
                                 on_done=done, on_error=failed)
        self._roots_job = job

    def _tear_down(self, old: DiskTree) -> None:
        if not self._stopped:
            self._runner.start("disk tree teardown", lambda job: old.dispose())

    # ------------------------------------------------------------------ treemap pictures
    def stop(self) -> None:
        """The window closes: no more pictures (the runner is being waited for)."""
        self._stopped = True
        self._roots_timer.stop()
        self.treemap.stop()
        if self._layout_job is not None:
            self._layout_job.cancel()

    def _lay_out(self, width: int, height: int) -> None:
        tree = self.tree
        if tree is None or self._stopped:
            return
        if self._layout_job is not None:
            self._layout_job.cancel()
        root = tree.root
        font = self.treemap.font()
        dpr = self.treemap.devicePixelRatioF()

        def work(job):
            return treemap_render.render(root, width, height, font, dpr=dpr, cancelled=lambda: job.cancelled)

        def done(picture):
            if job is self._layout_job:
                self._layout_job = None
                self.treemap.set_picture(picture, root)
                if root is self.treemap.root:
                    self.pictureReady.emit()

        def failed(error):
            if job is self._layout_job:
                self._layout_job = None
                log.warning("drawing the treemap failed: %s", error)

        job = self._runner.start("disk treemap", work, on_done=done, on_error=failed)
        self._layout_job = job


__all__ = ["DiskTab"]
