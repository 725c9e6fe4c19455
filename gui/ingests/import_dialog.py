"""Progress of an import: file, bytes, speed, and a Cancel that leaves a resumable ingest."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QProgressBar, QVBoxLayout, QWidget

from .. import fmt


class ImportProgressDialog(QDialog):
    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("importProgressDialog")
        self.setWindowTitle(self.tr("Importing"))
        self.setModal(True)
        self.resize(480, 160)
        layout = QVBoxLayout(self)
        self.file_label = QLabel(self)
        self.file_label.setObjectName("importFileLabel")
        self.file_label.setTextFormat(Qt.TextFormat.PlainText)  # a file name is never HTML
        self.file_label.setWordWrap(True)
        layout.addWidget(self.file_label)
        self.bar = QProgressBar(self)
        self.bar.setObjectName("importProgressBar")
        self.bar.setRange(0, 1000)
        layout.addWidget(self.bar)
        self.bytes_label = QLabel(self)
        self.bytes_label.setObjectName("importBytesLabel")
        self.bytes_label.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.bytes_label)
        self.note = QLabel(self.tr("Cancel keeps what was written as an ingest; importing the "
                                   "same file again resumes it."), self)
        self.note.setWordWrap(True)
        self.note.setEnabled(False)
        layout.addWidget(self.note)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.buttons.rejected.connect(self._cancel)
        layout.addWidget(self.buttons)
        self._started = time.monotonic()
        self._file_started = self._started
        self.cancelled = False

    def start_file(self, name: str, index: int, count: int) -> None:
        self._file_started = time.monotonic()
        self.file_label.setText(self.tr("File {i} of {n}: {name}").format(i=index, n=count, name=name))
        self.bar.setValue(0)
        self.bytes_label.setText("")

    def set_progress(self, done: int, total: int) -> None:
        elapsed = max(1e-6, time.monotonic() - self._file_started)
        self.bar.setValue(int(1000 * done / total) if total else 0)
        self.bytes_label.setText(self.tr("{done} of {total} — {speed}").format(
            done=fmt.size(done), total=fmt.size(total), speed=fmt.speed(done / elapsed)))

    def _cancel(self) -> None:
        if not self.cancelled:
            self.cancelled = True
            self.bytes_label.setText(self.tr("Cancelling…"))
            self.buttons.setEnabled(False)
            self.cancelRequested.emit()

    def reject(self) -> None:  # Esc and the window's close button cancel, they do not hide
        self._cancel()
