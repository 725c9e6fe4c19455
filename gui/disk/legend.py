"""The treemap's legend: one coloured swatch and name per state, its meaning as the tooltip."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from . import states

SWATCH = 12
COLUMNS = 3


class Legend(QWidget):
    def __init__(self, shown: tuple[str, ...] = states.ORDER, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("diskLegend")
        layout = QGridLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setHorizontalSpacing(4)
        layout.setVerticalSpacing(2)
        self.labels: dict[str, QLabel] = {}
        for i, state in enumerate(shown):
            swatch = QLabel(self)
            pix = QPixmap(SWATCH, SWATCH)
            pix.fill(states.colour(state))
            swatch.setPixmap(pix)
            text = QLabel(states.name(state), self)
            text.setTextFormat(Qt.TextFormat.PlainText)
            for w in (swatch, text):
                w.setToolTip(states.meaning(state))
            row, col = divmod(i, COLUMNS)
            layout.addWidget(swatch, row, 2 * col)
            layout.addWidget(text, row, 2 * col + 1)
            self.labels[state] = text
        layout.setColumnStretch(2 * COLUMNS - 1, 1)


__all__ = ["Legend"]
