"""Route Qt's own messages into Python logging (and so into the log dock), like qutebrowser does."""

from __future__ import annotations

import logging

from PySide6.QtCore import QtMsgType, qInstallMessageHandler

log = logging.getLogger("qt")

# Messages that say something about the platform, not about Blobscope.
_QUIET = ("This plugin does not support propagateSizeHints",)

_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


def _handler(msg_type, context, message: str) -> None:
    level = _LEVELS.get(msg_type, logging.WARNING)
    if message.startswith(_QUIET):
        level = logging.DEBUG
    log.log(level, "%s", message)


def install() -> None:
    """Only for a QApplication Blobscope owns: a test harness keeps its own handler."""
    qInstallMessageHandler(_handler)
