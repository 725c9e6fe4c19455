"""A dialog that edits a blob's labels as a key/value table, validated like containerd."""

from __future__ import annotations

from datetime import datetime, timezone

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStyledItemDelegate,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from store.labels import MAX_LABEL_BYTES  # containerd's labels.Validate: len(key) + len(value) in bytes

from ..rows import GC_ROOT

WELL_KNOWN_KEYS = [
    GC_ROOT,
    "containerd.io/gc.ref.content",
    "containerd.io/gc.ref.content.config",
    "containerd.io/gc.ref.content.l.0",
    "containerd.io/gc.ref.content.m.0",
    "containerd.io/gc.ref.snapshot.overlayfs",
    "containerd.io/uncompressed",
    "containerd.io/distribution.source.docker.io",
    "containerd.io/gc.bref.content",
]


def validate_labels(pairs: list[tuple[str, str]]) -> str | None:
    """The first problem with these rows as a sentence, or None when they can be stored."""
    seen: set[str] = set()
    for i, (key, value) in enumerate(pairs, start=1):
        if not key:
            return QCoreApplication.translate("LabelEditorDialog", "Row {n}: the key is empty.").format(n=i)
        if key in seen:
            return QCoreApplication.translate("LabelEditorDialog", "Row {n}: the key {key} appears twice.").format(n=i, key=key)
        seen.add(key)
        if not value:
            return QCoreApplication.translate(
                "LabelEditorDialog", "Row {n}: the value is empty (remove the row to delete the label).").format(n=i)
        size = len(key.encode()) + len(value.encode())
        if size > MAX_LABEL_BYTES:
            return QCoreApplication.translate(
                "LabelEditorDialog", "Row {n}: key and value are {size} bytes; containerd allows at most {max}.").format(
                    n=i, size=size, max=MAX_LABEL_BYTES)
    return None


class _KeyDelegate(QStyledItemDelegate):
    """Key cells edit with a completer of containerd's well-known label keys."""

    def createEditor(self, parent: QWidget, option, index):
        editor = QLineEdit(parent)
        if index.column() == 0:
            completer = QCompleter(WELL_KNOWN_KEYS, editor)
            completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            completer.setFilterMode(Qt.MatchFlag.MatchContains)
            editor.setCompleter(completer)
        return editor


class LabelEditorDialog(QDialog):
    def __init__(self, labels: dict[str, str], parent: QWidget | None = None, title: str = "",
                 intro: str = ""):
        super().__init__(parent)
        self.setObjectName("labelEditorDialog")
        self.setWindowTitle(title or self.tr("Edit labels"))
        self.resize(640, 360)
        layout = QVBoxLayout(self)
        if intro:
            label = QLabel(intro, self)
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setWordWrap(True)
            layout.addWidget(label)
        self.table = QTableWidget(0, 2, self)
        self.table.setObjectName("labelEditor")
        self.table.setHorizontalHeaderLabels([self.tr("Key"), self.tr("Value")])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setColumnWidth(0, 300)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setItemDelegate(_KeyDelegate(self.table))
        layout.addWidget(self.table)

        buttons = QHBoxLayout()
        self.add_button = QPushButton(self.tr("&Add label"), self)
        self.add_button.setObjectName("addLabelButton")
        self.remove_button = QPushButton(self.tr("&Remove"), self)
        self.remove_button.setObjectName("removeLabelButton")
        self.root_button = QPushButton(self.tr("Mark as GC &root"), self)
        self.root_button.setObjectName("gcRootButton")
        self.root_button.setToolTip(self.tr("Add containerd.io/gc.root so containerd's garbage "
                                            "collector keeps this blob"))
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addWidget(self.root_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)

        self.error_label = QLabel(self)
        self.error_label.setObjectName("labelError")
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #b3261e;")
        layout.addWidget(self.error_label)

        self.box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                    | QDialogButtonBox.StandardButton.Cancel, self)
        self.box.accepted.connect(self.accept)
        self.box.rejected.connect(self.reject)
        layout.addWidget(self.box)

        for k, v in sorted(labels.items()):
            self._append(k, v)
        self.add_button.clicked.connect(lambda: self.add_row())
        self.remove_button.clicked.connect(self.remove_selected)
        self.root_button.clicked.connect(self.mark_gc_root)
        self.table.itemChanged.connect(self._revalidate)
        self._revalidate()

    def _append(self, key: str, value: str) -> int:
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.table.setItem(row, 0, QTableWidgetItem(key))
        self.table.setItem(row, 1, QTableWidgetItem(value))
        return row

    def add_row(self, key: str = "", value: str = "") -> int:
        row = self._append(key, value)
        self.table.setCurrentCell(row, 0 if not key else 1)
        item = self.table.item(row, 0)
        if not key and item is not None:
            self.table.editItem(item)
        self._revalidate()
        return row

    def remove_selected(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True)
        if not rows and self.table.currentRow() >= 0:
            rows = [self.table.currentRow()]
        for r in rows:
            self.table.removeRow(r)
        self._revalidate()

    def mark_gc_root(self) -> None:
        if any(key == GC_ROOT for key, _ in self.pairs()):
            return
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.add_row(GC_ROOT, now)

    def pairs(self) -> list[tuple[str, str]]:
        out = []
        for r in range(self.table.rowCount()):
            k = self.table.item(r, 0)
            v = self.table.item(r, 1)
            out.append(((k.text() if k else "").strip(), v.text() if v else ""))
        return out

    def labels(self) -> dict[str, str]:
        return dict(self.pairs())

    def problem(self) -> str | None:
        return validate_labels(self.pairs())

    def _revalidate(self, *_args) -> None:
        problem = self.problem()
        self.error_label.setText(problem or "")
        self.box.button(QDialogButtonBox.StandardButton.Ok).setEnabled(problem is None)

    def accept(self) -> None:
        if self.problem() is None:
            super().accept()
