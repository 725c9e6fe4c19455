"""SIGTERM and SIGINT as Qt signals, so that they close the window like its close button.

While Qt's event loop runs, Python's own signal handlers wait for the next Python
bytecode, which may be minutes away on an idle window.  The C-level handler that
Python installs does write the signal number to a wakeup file descriptor at once; a
QSocketNotifier on the other end of a socket pair turns that byte into ``received``
on the GUI thread.  After the first signal the kernel's default action comes back,
so a second Ctrl+C or SIGTERM ends a shutdown that hangs at once.
"""

from __future__ import annotations

import logging
import signal
import socket

from PySide6.QtCore import QObject, QSocketNotifier, Signal, Slot

log = logging.getLogger(__name__)

HANDLED = (signal.SIGTERM, signal.SIGINT)


def _ignore_here(_signum, _frame) -> None:
    """The Python-level handler: the wakeup byte has been written already, nothing is left to do."""


class SignalBridge(QObject):
    received = Signal(int)  # the signal number, on the GUI thread

    def __init__(self, parent: QObject | None = None, signums: tuple[int, ...] = HANDLED):
        super().__init__(parent)
        self._read, self._write = socket.socketpair()
        self._read.setblocking(False)
        self._write.setblocking(False)
        self._old_wakeup = signal.set_wakeup_fd(self._write.fileno(), warn_on_full_buffer=False)
        self._old_handlers = {s: signal.signal(s, _ignore_here) for s in signums}
        self._notifier = QSocketNotifier(self._read.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._on_readable)
        self._active = True

    @Slot()
    def _on_readable(self) -> None:
        try:
            data = self._read.recv(64)
        except BlockingIOError:
            return
        for signum in data:
            if signum in self._old_handlers:
                log.info("%s received: closing", signal.Signals(signum).name)
                for s in self._old_handlers:
                    signal.signal(s, signal.SIG_DFL)  # a second one ends the process, whatever it waits for
                self.received.emit(signum)
                return

    def restore(self) -> None:
        """Give the signals back to the handlers they had before."""
        if not self._active:
            return
        self._active = False
        for s, old in self._old_handlers.items():
            signal.signal(s, old if old is not None else signal.SIG_DFL)
        signal.set_wakeup_fd(self._old_wakeup)
        self._notifier.setEnabled(False)

    def close(self) -> None:
        self.restore()
        self._read.close()
        self._write.close()
