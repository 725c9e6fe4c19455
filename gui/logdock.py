"""A dock that shows the application's log records (errors of background jobs included)."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QDockWidget, QPlainTextEdit, QWidget

MAX_LINES = 2000


class _Bridge(QObject):
    record = Signal(str)


class QtLogHandler(logging.Handler):
    """A logging handler that forwards formatted records through a queued signal."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.bridge = _Bridge()
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s",
                                            "%H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.bridge.record.emit(self.format(record))
        except RuntimeError:  # the dock is gone (window closed) while a thread still logs
            pass


class LogDock(QDockWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(self.tr("Log"), parent)
        self.setObjectName("logDock")
        self.text = QPlainTextEdit(self)
        self.text.setObjectName("logView")
        self.text.setReadOnly(True)
        self.text.setMaximumBlockCount(MAX_LINES)
        self.setWidget(self.text)
        self.handler = QtLogHandler()
        self.handler.bridge.record.connect(self.append, Qt.ConnectionType.QueuedConnection)
        logging.getLogger().addHandler(self.handler)
        if logging.getLogger().level > logging.INFO or logging.getLogger().level == logging.NOTSET:
            logging.getLogger("gui").setLevel(logging.INFO)
            logging.getLogger("store").setLevel(logging.INFO)

    @Slot(str)
    def append(self, line: str) -> None:
        self.text.appendPlainText(line)

    def detach(self) -> None:
        logging.getLogger().removeHandler(self.handler)
