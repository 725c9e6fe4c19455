"""A dialog's heading: one bold line of plain text that can be selected and copied (a digest
or an image name an operator pastes elsewhere)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget


def heading(parent: QWidget, object_name: str, text: str = "") -> QLabel:
    label = QLabel(parent)
    label.setObjectName(object_name)
    label.setTextFormat(Qt.TextFormat.PlainText)  # names and labels are never markup
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    label.setText(text)
    return label


__all__ = ["heading"]
