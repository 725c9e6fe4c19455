"""An image's layers as dive shows them: the layer list (size and change counts) on the left, the
selected layer's changes against the layers below as a tree on the right, or the whole squashed
image, with the wasted space and the efficiency score.  The analysis (``store.squash``) and each
tree are built on the window's job runner; nothing is read on the GUI thread.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from .. import fmt
from ..headings import heading
from ..jobs import Job
from .change_tree import (
    COL_CHANGE,
    COL_LAYER,
    COL_NAME,
    COL_SIZE,
    COL_TYPE,
    ChangeTreeModel,
    change_icon,
    layer_tree,
    squashed_tree,
)

log = logging.getLogger(__name__)


def analyse(store, digest: str, job):
    """Worker thread: resolve the image and stack its layers (every change kept)."""
    from store import imagepick, squash
    image = imagepick.resolve(store, digest)
    return squash.analyse(store, image, keep_changes=True, cancel=lambda: job.cancelled,
                          progress=lambda done, total: job.progress(done, total))


class ImageLayersDialog(QDialog):
    """The layers of the image ``digest`` (an index or a manifest)."""

    def __init__(self, store, digest: str, runner, parent: QWidget | None = None, *, name: str = ""):
        super().__init__(parent)
        self.setObjectName("imageLayers")
        self.store, self.digest, self.runner = store, str(digest), runner
        self.setWindowTitle(self.tr("Layers of {image}").format(image=name or fmt.short_digest(self.digest)))
        self.resize(1100, 680)
        layout = QVBoxLayout(self)
        self.heading = heading(self, "imageLayersHeading", (name + "  " if name else "") + self.digest)
        layout.addWidget(self.heading)
        top = QHBoxLayout()
        self.summary = QLabel(self)
        self.summary.setObjectName("imageLayersSummary")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        top.addWidget(self.summary, 1)
        self.progress = QProgressBar(self)
        self.progress.setMaximumWidth(200)
        top.addWidget(self.progress)
        self.stop_button = QPushButton(self.tr("Stop"), self)
        self.stop_button.clicked.connect(self.stop)
        top.addWidget(self.stop_button)
        layout.addLayout(top)

        self.layer_list = QTableWidget(0, 4, self)
        self.layer_list.setObjectName("imageLayerList")
        self.layer_list.setHorizontalHeaderLabels([self.tr("#"), self.tr("Layer"), self.tr("Size"),
                                                   self.tr("Changes")])
        self.layer_list.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.layer_list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.layer_list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.layer_list.verticalHeader().setVisible(False)
        self.layer_list.setShowGrid(False)
        self.layer_list.horizontalHeader().setStretchLastSection(True)
        self.layer_list.currentCellChanged.connect(lambda row, _c, _pr, _pc: self._show_layer(row))

        right = QWidget(self)
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        self.squashed = QCheckBox(self.tr("Show the whole image (squashed)"), right)
        self.squashed.setObjectName("squashedToggle")
        self.squashed.toggled.connect(lambda _on: self._show_layer(self.layer_list.currentRow()))
        rl.addWidget(self.squashed)
        self.tree_title = QLabel(right)
        self.tree_title.setTextFormat(Qt.TextFormat.PlainText)
        rl.addWidget(self.tree_title)
        self.model = ChangeTreeModel(self)
        self.tree = QTreeView(right)
        self.tree.setObjectName("changeTree")
        self.tree.setModel(self.model)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.header().setStretchLastSection(False)
        self.tree.header().setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Stretch)
        for col, width in ((COL_CHANGE, 90), (COL_TYPE, 80), (COL_SIZE, 80), (COL_LAYER, 50)):
            self.tree.setColumnWidth(col, width)
        rl.addWidget(self.tree, 1)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(self.layer_list)
        split.addWidget(right)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        split.setSizes([440, 660])
        layout.addWidget(split, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

        self.analysis = None
        self.error: str | None = None
        self.shown: tuple[int, bool] | None = None   # (layer, squashed) the tree shows
        self._job: Job | None = None
        self._tree_job: Job | None = None
        self.finished.connect(lambda _r: self.stop())

    # ---- analysis
    def start(self) -> None:
        self.summary.setText(self.tr("Reading the layers…"))
        self.stop_button.setEnabled(True)
        store, digest = self.store, self.digest
        job: Job
        job = self.runner.start(f"layers of {digest}", lambda j: analyse(store, digest, j),
                                on_done=lambda a: self._on_done(job, a),
                                on_error=lambda e: self._on_error(job, e),
                                on_progress=lambda done, total: self._on_progress(job, done, total))
        self._job = job

    def stop(self) -> None:
        for job in (self._job, self._tree_job):
            if job is not None:
                job.cancel()
        self._job = self._tree_job = None

    def _on_progress(self, job, done: int, total: int) -> None:
        if job is self._job:
            self.progress.setRange(0, max(total, 1))
            self.progress.setValue(done)

    def _on_error(self, job, error) -> None:
        if job is not self._job:
            return
        from store import errors
        self._job = None
        self.stop_button.setEnabled(False)
        if isinstance(error, errors.Cancelled):
            self.summary.setText(self.tr("Stopped; nothing is shown."))
            return
        self.error = str(error)
        log.warning("analysing the layers of %s failed: %s", self.digest, error)
        self.summary.setText(self.tr("Could not read the layers of {digest}: {error}").format(
            digest=self.digest, error=error))

    def _on_done(self, job, a) -> None:
        if job is not self._job:
            return
        self._job = None
        self.analysis = a
        self.stop_button.setEnabled(False)
        self.progress.setValue(self.progress.maximum())
        text = self.tr("Files in all layers {total} · squashed image {squashed} · wasted {wasted} · "
                       "efficiency {efficiency}").format(
            total=fmt.size(a.total_bytes), squashed=fmt.size(a.squashed_bytes), wasted=fmt.size(a.wasted_bytes),
            efficiency=f"{a.efficiency * 100:.1f} %")
        if a.platform:
            text = a.platform + " · " + text
        text += "\n" + self.tr("By dive's own formula: efficiency {efficiency}, wasted {wasted}").format(
            efficiency=f"{a.dive_efficiency * 100:.1f} %", wasted=fmt.size(a.dive_wasted_bytes))
        if a.problem_count:
            text += "\n" + self.tr("{n} problems; the first: {first}").format(n=a.problem_count, first=a.problems[0])
        self.summary.setText(text)
        self.summary.setToolTip("\n".join(a.problems))
        self.layer_list.setRowCount(len(a.layers))
        for r, x in enumerate(a.layers):
            cells = [str(x.index), fmt.short_digest(x.digest), fmt.size(x.blob_size),
                     f"+{x.added}  ~{x.modified}  −{x.deleted}"]
            for c, value in enumerate(cells):
                item = QTableWidgetItem(value)
                if c in (0, 2):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if c == 1:
                    item.setToolTip(x.digest + (f"\n{x.error}" if x.error else ""))
                    if x.error:
                        item.setText(value + " ⚠")
                if c == 3:
                    item.setToolTip(self.tr("{added} added ({ab}), {modified} modified ({mb}), {deleted} deleted "
                                            "({db})").format(added=x.added, ab=fmt.size(x.added_bytes),
                                                             modified=x.modified, mb=fmt.size(x.modified_bytes),
                                                             deleted=x.deleted, db=fmt.size(x.deleted_bytes)))
                self.layer_list.setItem(r, c, item)
        self.layer_list.resizeColumnsToContents()
        self.layer_list.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        if a.layers:
            self.layer_list.setCurrentCell(0, 0)
        else:
            self._show_layer(-1)

    # ---- the tree
    def _show_layer(self, row: int) -> None:
        a = self.analysis
        if a is None:
            return
        squashed = self.squashed.isChecked()
        if self._tree_job is not None:
            self._tree_job.cancel()
        if squashed:
            self.tree_title.setText(self.tr("The squashed image: every path, with the layer it comes from"))
            build = lambda _j: squashed_tree(a)  # noqa: E731
        elif 0 <= row < len(a.layers):
            self.tree_title.setText(self.tr("Layer {i}: its changes against the layers below").format(i=row))
            build = lambda _j: layer_tree(a, row)  # noqa: E731
        else:
            return
        want = (row, squashed)
        job: Job
        job = self.runner.start(f"tree of {self.digest} {want}", build,
                                on_done=lambda root: self._on_tree(job, want, root),
                                on_error=lambda e: log.warning("building the tree failed: %s", e))
        self._tree_job = job

    def _on_tree(self, job, want: tuple[int, bool], root) -> None:
        if job is not self._tree_job:
            return
        self._tree_job = None
        self.model.set_root(root)
        self.shown = want
        if root.count() < 2000:
            self.tree.expandAll()
        else:
            self.tree.expandToDepth(0)


__all__ = ["ImageLayersDialog", "analyse", "change_icon"]
