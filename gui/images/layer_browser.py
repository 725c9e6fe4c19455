"""A layer's files (tar entries, streamed in batches from the gzip/zstd/plain blob): listed in
archive order while they arrive, then shown as a tree of directories (built on the job runner;
"Show as a tree" switches back to the list), and a plain-text preview of one file inside it.
Everything is read on the window's job runner."""

from __future__ import annotations

import logging
import stat

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from .. import fmt
from ..blobs.table_model import RowTableModel
from ..headings import heading
from ..jobs import Job
from . import graph_ops
from .change_tree import type_text

log = logging.getLogger(__name__)

COL_PATH, COL_TYPE, COL_SIZE, COL_MODE, COL_MTIME = range(5)
ENTRY_ROLE = Qt.ItemDataRole.UserRole + 1


class LayerEntriesModel(RowTableModel):
    """The entries of one layer, in archive order (not sortable), appended as batches arrive."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.total_bytes = 0
        self._headers = [self.tr("Path"), self.tr("Type"), self.tr("Size"), self.tr("Mode"),
                         self.tr("Modified")]

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        e = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == COL_PATH:
                text = "/" + e.path
                if e.linkname:
                    text += f" → {e.linkname}"
                return text
            if col == COL_TYPE:
                return self.tr("whiteout") if e.whiteout else type_text(e.type)
            if col == COL_SIZE:
                return fmt.size(e.size) if e.type == "file" else ""
            if col == COL_MODE:
                return stat.filemode(e.mode & 0o7777 | _TYPE_BITS.get(e.type, 0))
            if col == COL_MTIME:
                return fmt.local_time(e.mtime * 1_000_000_000)
            return None
        if role == Qt.ItemDataRole.ToolTipRole and col in (COL_PATH, COL_SIZE):
            return "/" + e.path if col == COL_PATH else fmt.exact_size(e.size)
        if role == Qt.ItemDataRole.TextAlignmentRole and col == COL_SIZE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == ENTRY_ROLE:
            return e
        return None

    def append(self, entries: list) -> None:
        if not entries:
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(entries) - 1)
        self._rows.extend(entries)
        self.endInsertRows()
        self.total_bytes += sum(e.size for e in entries)

    def clear(self) -> None:
        self.beginResetModel()
        self._rows = []
        self.total_bytes = 0
        self.endResetModel()

    def entry(self, row: int):
        return self._rows[row]

    def entries(self) -> list:
        return list(self._rows)

    def paths(self) -> list[str]:
        return [e.path for e in self._rows]


_TYPE_BITS = {"file": stat.S_IFREG, "dir": stat.S_IFDIR, "symlink": stat.S_IFLNK, "hardlink": stat.S_IFREG,
              "char": stat.S_IFCHR, "block": stat.S_IFBLK, "fifo": stat.S_IFIFO}


class LayerBrowserDialog(QDialog):
    """Lists the tar entries of ``digest`` and previews a selected file; nothing read on this thread."""

    def __init__(self, store, digest: str, runner, parent: QWidget | None = None, *, about: str = ""):
        super().__init__(parent)
        self.setObjectName("layerBrowser")
        self.store = store
        self.digest = str(digest)
        self.runner = runner
        short = fmt.short_digest(self.digest)
        self.setWindowTitle(self.tr("Files in layer {short}").format(short=short))
        self.resize(980, 640)
        layout = QVBoxLayout(self)
        self.heading = heading(self, "layerHeading", self.tr("Layer {digest}").format(digest=self.digest) + (f"  ({about})" if about else ""))
        layout.addWidget(self.heading)
        top = QHBoxLayout()
        self.status = QLabel(self)
        self.status.setObjectName("layerStatus")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        top.addWidget(self.status, 1)
        self.as_tree = QCheckBox(self.tr("Show as a tree"), self)
        self.as_tree.setObjectName("layerTreeToggle")
        self.as_tree.setChecked(True)
        self.as_tree.toggled.connect(lambda _on: self._show_tree_or_list())
        top.addWidget(self.as_tree)
        self.stop_button = QPushButton(self.tr("Stop"), self)
        self.stop_button.setObjectName("layerStop")
        self.stop_button.clicked.connect(self.stop)
        top.addWidget(self.stop_button)
        layout.addLayout(top)

        self.model = LayerEntriesModel(self)
        self.view = QTableView(self)
        self.view.setObjectName("layerEntries")
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setWordWrap(False)
        self.view.setShowGrid(False)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.view.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.view.horizontalHeader().setStretchLastSection(True)
        for col, width in ((COL_PATH, 380), (COL_TYPE, 70), (COL_SIZE, 80), (COL_MODE, 95)):
            self.view.setColumnWidth(col, width)

        self.preview = QPlainTextEdit(self)
        self.preview.setObjectName("layerPreview")
        self.preview.setReadOnly(True)
        self.preview.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.preview.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.preview.setPlaceholderText(self.tr("Select a file to see its text."))
        self.preview_title = QLabel(self)
        self.preview_title.setObjectName("layerPreviewTitle")
        self.preview_title.setTextFormat(Qt.TextFormat.PlainText)
        preview_box = QWidget(self)
        pl = QVBoxLayout(preview_box)
        pl.setContentsMargins(0, 0, 0, 0)
        pl.addWidget(self.preview_title)
        pl.addWidget(self.preview, 1)
        from .change_tree import COL_NAME, ChangeTreeModel
        self.tree_model = ChangeTreeModel(self)
        self.tree = QTreeView(self)
        self.tree.setObjectName("layerTree")
        self.tree.setModel(self.tree_model)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setColumnHidden(4, True)  # the layer column: this is one layer
        self.tree.header().setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setStretchLastSection(False)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.tree)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.stack)
        split.addWidget(preview_box)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout.addWidget(split, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

        self.view.selectionModel().currentRowChanged.connect(self._on_current)
        self.tree.selectionModel().currentChanged.connect(self._on_tree_current)
        self._by_path: dict = {}
        self._tree_job: Job | None = None
        self.tree_ready = False
        self._list_job: Job | None = None
        self._preview_job: Job | None = None
        self._preview_path: str | None = None
        self.finished_listing = False
        self.error: str | None = None
        self.finished.connect(lambda _r: self._abandon())

    # ---- listing
    def start(self) -> None:
        self.model.clear()
        self.tree_ready = False
        self.stack.setCurrentWidget(self.view)
        self.finished_listing = False
        self.error = None
        self.status.setText(self.tr("Reading the layer…"))
        self.stop_button.setEnabled(True)
        store, digest = self.store, self.digest
        job: Job
        job = self.runner.start(f"list layer {digest}", lambda j: graph_ops.list_layer(store, digest, j),
                                on_partial=lambda entries: self._on_batch(job, entries),
                                on_done=lambda n: self._on_listed(job, n),
                                on_error=lambda e: self._on_list_failed(job, e))
        self._list_job = job

    def _on_batch(self, job, entries: list) -> None:
        if job is not self._list_job:
            return  # a stale listing (the dialog restarted or stopped it)
        self.model.append(entries)
        self.status.setText(self.tr("Reading the layer… {n} entries so far").format(n=f"{self.model.rowCount():,}"))

    def _on_listed(self, job, count: int) -> None:
        if job is not self._list_job:
            return
        self._list_job = None
        self.finished_listing = True
        self.stop_button.setEnabled(False)
        self.status.setText(self.tr("{n} entries, {size} in files.").format(
            n=f"{count:,}", size=fmt.size(self.model.total_bytes)))
        self._build_tree()

    def _on_list_failed(self, job, error) -> None:
        if job is not self._list_job:
            return
        from store import errors
        self._list_job = None
        self.stop_button.setEnabled(False)
        if isinstance(error, errors.Cancelled):
            self.status.setText(self.tr("Stopped after {n} entries; the list is incomplete.").format(
                n=f"{self.model.rowCount():,}"))
            self._build_tree()
            return
        self.error = str(error)
        log.warning("listing layer %s failed: %s", self.digest, error)
        self.status.setText(self.tr("Could not list the files of layer {digest}: {error}").format(
            digest=self.digest, error=error))

    # ---- the tree
    def _build_tree(self) -> None:
        """Build the tree of what was listed on the job runner; it replaces the list when it lands."""
        from .change_tree import entries_tree
        entries = self.model.entries()
        self._by_path = {e.path: e for e in entries}
        job: Job
        job = self.runner.start(f"tree of layer {self.digest}", lambda _j: entries_tree(entries),
                                on_done=lambda root: self._on_tree(job, root),
                                on_error=lambda e: log.warning("building the tree of %s failed: %s", self.digest, e))
        self._tree_job = job

    def _on_tree(self, job, root) -> None:
        if job is not self._tree_job:
            return
        self._tree_job = None
        self.tree_model.set_root(root)
        self.tree_ready = True
        self.tree.setColumnHidden(1, not any(e.whiteout for e in self._by_path.values()))  # the Change column
        if root.count() <= 500:
            self.tree.expandAll()
        else:
            self.tree.expandToDepth(0)
        self._show_tree_or_list()

    def _show_tree_or_list(self) -> None:
        """The tree when it is wanted and built; the list otherwise. The selected path carries over."""
        want = self.tree if self.as_tree.isChecked() and self.tree_ready else self.view
        if self.stack.currentWidget() is want:
            return
        self.stack.setCurrentWidget(want)
        if self._preview_path is not None:
            self.select_path(self._preview_path)

    def _on_tree_current(self, current: QModelIndex, _previous=None) -> None:
        from .change_tree import PATH_ROLE
        entry = self._by_path.get(current.data(PATH_ROLE)) if current.isValid() else None
        if entry is None and current.isValid():  # a directory the archive did not list itself
            self._preview_entry(None, "/" + str(current.data(PATH_ROLE)))
            return
        self._preview_entry(entry)

    def stop(self) -> None:
        """Stop the listing (what was listed stays) and any preview being read."""
        if self._list_job is not None:
            self._list_job.cancel()
        if self._preview_job is not None:
            self._preview_job.cancel()
            self._preview_job = None

    def _abandon(self) -> None:
        """Closed: stop the jobs and drop whatever they still send."""
        self.stop()
        self._list_job = None

    # ---- preview
    def select_path(self, path: str) -> bool:
        """Select ``path`` in the view shown (the tree or the list); False when the layer has none."""
        if self.stack.currentWidget() is self.tree:
            index = self.tree_model.find(path)
            if not index.isValid():
                return False
            self.tree.scrollTo(index)
            self.tree.setCurrentIndex(index)
            return True
        try:
            row = self.model.paths().index(path.lstrip("/"))
        except ValueError:
            return False
        self.view.selectRow(row)
        return True

    def _on_current(self, current: QModelIndex, _previous=None) -> None:
        self._preview_entry(self.model.entry(current.row()) if current.isValid() else None)

    def _preview_entry(self, entry, title: str = "") -> None:
        if entry is not None and entry.path == self._preview_path and \
                (self._preview_job is not None or self.preview.toPlainText()):
            return  # the same path, selected again in the other view: its preview stands
        if self._preview_job is not None:
            self._preview_job.cancel()
            self._preview_job = None
        if entry is None:
            self._preview_path = None
            self.preview.setPlainText("")
            self.preview_title.setText(title)
            return
        self._preview_path = entry.path
        self.preview_title.setText(f"/{entry.path}" + (f"  ({fmt.size(entry.size)})" if entry.type == "file" else ""))
        if entry.type not in ("file", "hardlink"):
            self.preview.setPlainText(self.tr("/{path} is a {type}; only files have a preview.").format(
                path=entry.path, type=type_text(entry.type)))
            return
        self.preview.setPlainText(self.tr("Reading /{path}…").format(path=entry.path))
        store, digest, path = self.store, self.digest, entry.path
        job: Job
        job = self.runner.start(f"preview {path} in {digest}",
                                lambda j: graph_ops.read_layer_file(store, digest, path, j),
                                on_done=lambda f: self._on_preview(job, path, f),
                                on_error=lambda e: self._on_preview_failed(job, path, e))
        self._preview_job = job

    def _on_preview(self, job, path: str, f) -> None:
        if job is not self._preview_job or path != self._preview_path:
            return  # the selection moved on
        self._preview_job = None
        if not f.data:
            self.preview.setPlainText(self.tr("(empty file)"))
        elif not f.is_text:
            self.preview.setPlainText(self.tr("/{path} is binary ({size}); only text is previewed.").format(
                path=path, size=fmt.size(f.size)))
        else:
            text = f.text()
            if f.truncated:
                text += "\n\n" + self.tr("(preview shows the first {shown} of {size})").format(
                    shown=fmt.size(len(f.data)), size=fmt.size(f.size))
            self.preview.setPlainText(text)

    def _on_preview_failed(self, job, path: str, error) -> None:
        if job is not self._preview_job or path != self._preview_path:
            return
        self._preview_job = None
        from store import errors
        if isinstance(error, errors.Cancelled):
            return
        self.preview.setPlainText(self.tr("Could not read /{path}: {error}").format(path=path, error=error))
