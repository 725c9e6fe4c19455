"""Every question the application asks goes through one injectable object.

Tests pass their own service (or answer the real QMessageBox); nothing here is
a global, and the Qt dialogs never use native windows that a test cannot reach.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QWidget


class DialogService:
    """Modal Qt dialogs; each method returns the answer as plain data."""

    file_options = QFileDialog.Option.DontUseNativeDialog

    def confirm(self, parent: QWidget | None, title: str, text: str, detail: str = "",
                ok_text: str = "") -> bool:
        box = QMessageBox(QMessageBox.Icon.Warning, title, text,
                          QMessageBox.StandardButton.Ok | QMessageBox.StandardButton.Cancel, parent)
        box.setObjectName("confirmBox")
        box.setTextFormat(Qt.TextFormat.PlainText)
        if detail:
            box.setInformativeText(detail)
        if ok_text:
            box.button(QMessageBox.StandardButton.Ok).setText(ok_text)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        return box.exec() == QMessageBox.StandardButton.Ok

    def ask_text(self, parent: QWidget | None, title: str, label: str, text: str = "") -> str | None:
        """One line typed by the person, or None when cancelled."""
        dlg = QInputDialog(parent)
        dlg.setObjectName("askTextDialog")
        dlg.setWindowTitle(title)
        dlg.setLabelText(label)
        dlg.setTextValue(text)
        return dlg.textValue() if dlg.exec() else None

    def error(self, parent: QWidget | None, title: str, text: str, detail: str = "") -> None:
        box = QMessageBox(QMessageBox.Icon.Critical, title, text, QMessageBox.StandardButton.Ok, parent)
        box.setObjectName("errorBox")
        box.setTextFormat(Qt.TextFormat.PlainText)
        if detail:
            box.setDetailedText(detail)
        box.exec()

    def info(self, parent: QWidget | None, title: str, text: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, title, text, QMessageBox.StandardButton.Ok, parent)
        box.setObjectName("infoBox")
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.exec()

    def open_files(self, parent: QWidget | None, title: str, directory: str = "") -> list[str]:
        files, _ = QFileDialog.getOpenFileNames(parent, title, directory, "", "", self.file_options)
        return list(files)

    def save_file(self, parent: QWidget | None, title: str, suggested: str = "") -> str | None:
        path, _ = QFileDialog.getSaveFileName(parent, title, suggested, "", "", self.file_options)
        return path or None

    def open_directory(self, parent: QWidget | None, title: str, directory: str = "") -> str | None:
        path = QFileDialog.getExistingDirectory(
            parent, title, directory, self.file_options | QFileDialog.Option.ShowDirsOnly)
        return path or None

    def edit_labels(self, parent: QWidget | None, title: str, labels: dict[str, str],
                    intro: str = "") -> dict[str, str] | None:
        from .details.label_editor import LabelEditorDialog
        dlg = LabelEditorDialog(labels, parent=parent, title=title, intro=intro)
        if dlg.exec():
            return dlg.labels()
        return None
