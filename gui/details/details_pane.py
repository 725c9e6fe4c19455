"""The details pane: everything about the selected blob, and a preview of its bytes."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from .. import fmt
from ..rows import BlobRow
from .references import ReferencesBox


def _plain_label(parent: QWidget, selectable: bool = True) -> QLabel:
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)  # digests, labels, refs never render as HTML
    label.setWordWrap(True)
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                      | Qt.TextInteractionFlag.TextSelectableByKeyboard)
    return label


CLIP = 200  # a 4 KiB label value cannot wrap; show its start, the tooltip has the rest


def _clip(text: str) -> str:
    return text if len(text) <= CLIP else text[:CLIP] + "…"


class DetailsPane(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("detailsPane")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.title = _plain_label(self, selectable=False)
        self.title.setObjectName("detailsTitle")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        layout.addWidget(self.title)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.digest = _plain_label(self)
        self.digest.setObjectName("detailsDigest")
        self.digest.setFont(mono)
        self.size_label = _plain_label(self)
        self.created = _plain_label(self)
        self.updated = _plain_label(self)
        self.media_type = _plain_label(self)
        self.media_type.setObjectName("detailsMediaType")
        self.labels = _plain_label(self)
        self.labels.setObjectName("detailsLabels")
        self.namespaces = _plain_label(self)
        self.namespaces.setObjectName("detailsNamespaces")
        form.addRow(self.tr("Digest:"), self.digest)
        form.addRow(self.tr("Size:"), self.size_label)
        form.addRow(self.tr("Created:"), self.created)
        form.addRow(self.tr("Updated:"), self.updated)
        form.addRow(self.tr("Media type:"), self.media_type)
        form.addRow(self.tr("Labels:"), self.labels)
        form.addRow(self.tr("Namespaces:"), self.namespaces)
        self._form = form
        for i in range(form.rowCount()):  # even our own captions never interpret markup
            item = form.itemAt(i, QFormLayout.ItemRole.LabelRole)
            caption = item.widget() if item is not None else None
            if isinstance(caption, QLabel):
                caption.setTextFormat(Qt.TextFormat.PlainText)
        layout.addLayout(form)
        self.refs = ReferencesBox(self)
        layout.addWidget(self.refs, 2)

        box = QGroupBox(self.tr("Preview"), self)
        box_layout = QVBoxLayout(box)
        self.preview = QPlainTextEdit(box)
        self.preview.setObjectName("detailsPreview")
        self.preview.setReadOnly(True)
        self.preview.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.preview.setFont(mono)
        box_layout.addWidget(self.preview)
        layout.addWidget(box, 3)
        self.current: str | None = None
        self.show_nothing()

    def show_nothing(self, text: str = "") -> None:
        self.current = None
        self.title.setText(text or self.tr("No blob selected"))
        for w in (self.digest, self.size_label, self.created, self.updated, self.media_type, self.labels,
                  self.namespaces):
            w.setText("")
        self.refs.clear()
        self.preview.setPlainText("")

    def show_row(self, row: BlobRow, referenced_by: list[tuple[str, str]]) -> None:
        self.current = row.digest
        self.title.setText(self.tr("Blob {short}").format(short=row.short))
        self.digest.setText(row.digest)
        self.size_label.setText(f"{fmt.exact_size(row.size)}  ({fmt.size(row.size)})")
        self.created.setText(fmt.local_time(row.created_ns))
        self.updated.setText(fmt.local_time(row.updated_ns))
        self.media_type.setText(row.media_type or self.tr("unknown"))
        if row.labels:
            self.labels.setText("\n".join(f"{_clip(k)} = {_clip(v)}" for k, v in sorted(row.labels.items())))
            self.labels.setToolTip("\n".join(f"{k} = {v}" for k, v in sorted(row.labels.items()))[:8000])
        else:
            self.labels.setText(self.tr("(none)"))
        self.namespaces.setText(self.tr("looking up…") if self.namespaces_shown() else "")
        self.refs.show_pending(row.digest, referenced_by)
        if row.verified is False:
            self.title.setText(self.tr("Blob {short} — content does not match its digest!")
                               .format(short=row.short))
        self.preview.setPlainText(self.tr("Reading…"))

    def show_preview(self, digest: str, text: str, note: str = "") -> None:
        if digest != self.current:
            return  # the selection moved on while the preview was being read
        self.preview.setPlainText(text + (("\n\n" + note) if note else ""))

    def show_namespaces_row(self, shown: bool) -> None:
        """Only containerd sources have namespaces; a plain local store hides the row."""
        self._form.setRowVisible(self.namespaces, shown)

    def namespaces_shown(self) -> bool:
        return self._form.isRowVisible(self.namespaces)

    def show_namespaces(self, digest: str, names: list[str] | None, error: str = "") -> None:
        """The namespaces holding ``digest`` (a worker's answer), or a short note when the lookup failed."""
        if digest != self.current:
            return  # the selection moved on while the namespaces were being looked up
        if error:
            self.namespaces.setText(self.tr("Could not look up the namespaces: {error}").format(error=_clip(error.splitlines()[0] if error.strip() else error)))
        elif names:
            self.namespaces.setText(", ".join(names))
        else:
            self.namespaces.setText(self.tr("(none)"))
