"""Notice changes on disk: a coalesced QFileSystemWatcher plus ingest polling.

Directory events only say *that* ``blobs/<alg>`` or ``ingest/`` changed, and an
ingest's ``data`` growing changes no directory, so active ingests are polled.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal, Slot

log = logging.getLogger(__name__)

COALESCE_MS = 300
POLL_MS = 1000


class StoreWatcher(QObject):
    changed = Signal(object)  # the set of watched paths that changed (coalesced)
    pollIngests = Signal()  # time to re-read ingest progress

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._fs = QFileSystemWatcher(self)
        self._fs.directoryChanged.connect(self._on_event)
        self._fs.fileChanged.connect(self._on_event)
        self._coalesce = QTimer(self)
        self._coalesce.setSingleShot(True)
        self._coalesce.setInterval(COALESCE_MS)
        self._coalesce.timeout.connect(self._flush)
        self._changed: set[str] = set()
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self.pollIngests)
        self.enabled = True

    def watch(self, paths: list[str]) -> None:
        """Watch exactly these existing paths (the scanner found them on its thread)."""
        current = set(self._fs.directories()) | set(self._fs.files())
        wanted = set(paths)
        gone = sorted(current - wanted)
        new = sorted(wanted - current)
        if gone:
            self._fs.removePaths(gone)
        if new:
            failed = self._fs.addPaths(new)
            if failed:
                log.info("cannot watch %s; F5 rescans by hand", ", ".join(failed))

    def watched(self) -> list[str]:
        return sorted(self._fs.directories()) + sorted(self._fs.files())

    def set_polling(self, active: bool) -> None:
        if active and self.enabled and not self._poll.isActive():
            self._poll.start()
        elif not active and self._poll.isActive():
            self._poll.stop()

    def stop(self) -> None:
        self.enabled = False
        self._poll.stop()
        self._coalesce.stop()
        paths = self.watched()
        if paths:
            self._fs.removePaths(paths)

    @Slot(str)
    def _on_event(self, path: str) -> None:
        if not self.enabled:
            return
        self._changed.add(path)
        if not self._coalesce.isActive():
            self._coalesce.start()

    def _flush(self) -> None:
        changed, self._changed = self._changed, set()
        if changed and self.enabled:
            self.changed.emit(changed)
