"""Notice changes on disk by name: inotify on a store's directories, read on the GUI thread.

``QFileSystemWatcher`` only says *that* ``blobs/<alg>`` changed, so every change cost a full
rescan (1.5 s of work at 100k blobs).  inotify names the entry (``inotify_simple``: a thin,
maintained ctypes wrapper; its descriptor goes to a ``QSocketNotifier``), so the watcher
reports which blobs, ingests and label files to read again and the scanner thread reads only
those (design.md §5.2).  Reading events is cheap and stays here; nothing is stat-ed here.

Watched: the root (``labels.db``, ``blobs/`` and ``ingest/`` appearing or going), ``blobs/``
(algorithm directories), each ``blobs/<alg>/`` and ``ingest/``.  An ingest's ``data``
growing changes no directory, so active ingests are still polled.  When the kernel's queue
overflows, or a watched directory is removed or replaced, names are not enough: the report
says ``rescan`` and why.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from inotify_simple import INotify, parse_events
from inotify_simple import flags as F
from PySide6.QtCore import QObject, QSocketNotifier, QTimer, Signal

from store.digest import ALGORITHMS

from .changes import DiskChanges

log = logging.getLogger(__name__)

COALESCE_MS = 50   # a burst of events becomes one report, at most this late
READ_BYTES = 64 * 1024  # events read a turn: whole events only (read(2) never splits one)
POLL_MS = 1000

_HEX = "0123456789abcdef"
_LOST = F.DELETE_SELF | F.MOVE_SELF | F.IGNORED | F.UNMOUNT
_ENTRY = F.CREATE | F.DELETE | F.MOVED_FROM | F.MOVED_TO
_BASE = F.ONLYDIR | F.DONT_FOLLOW | F.DELETE_SELF | F.MOVE_SELF
MASKS = {
    "root": _BASE | _ENTRY | F.MODIFY | F.CLOSE_WRITE,             # labels.db, labels.db-wal
    "blobs": _BASE | _ENTRY,                                         # blobs/<alg> coming and going
    "alg": _BASE | _ENTRY | F.ATTRIB | F.CLOSE_WRITE | F.EXCL_UNLINK,  # a blob (ATTRIB: labels' utime)
    "ingest": _BASE | _ENTRY | F.EXCL_UNLINK,                        # an ingest started, done, aborted
}
LABEL_FILES = ("labels.db", "labels.db-wal")


class StoreWatcher(QObject):
    changed = Signal(object)  # DiskChanges, coalesced
    pollIngests = Signal()    # time to re-read ingest progress
    _algsAdded = Signal(int, object)  # generation, [(alg, wd or -1, OSError or None)] from the adder thread

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._ino: INotify | None = None
        self._notifier: QSocketNotifier | None = None
        self._wds: dict[int, tuple[str, str]] = {}  # watch descriptor -> (kind, path)
        self._root: Path | None = None
        self._installed = False  # the first watches are in: a directory that cannot be watched now is new
        # blobs/<alg> watches are added on a short-lived thread: inotify_add_watch on a directory of
        # a million entries takes ~80 ms in the kernel (it marks every cached child dentry)
        self._gen = 0
        self._adder: threading.Thread | None = None
        self._early: list[tuple[int, int, str]] = []  # events of watches the adder has not handed over yet
        self.ready = threading.Event()  # set once the blobs/<alg> watches are in the kernel
        self.ready.set()
        self._algsAdded.connect(self._on_algs_added)
        self._pending = DiskChanges()
        self._coalesce = QTimer(self)
        self._coalesce.setSingleShot(True)
        self._coalesce.setInterval(COALESCE_MS)
        self._coalesce.timeout.connect(self._flush)
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self.pollIngests)
        self.enabled = True
        self.events_read = 0  # for tests and the log: how many inotify events came in

    # ------------------------------------------------------------------ installing
    def watch_store(self, root: Path | str | None) -> bool:
        """Watch the store at ``root`` afresh (None: nothing); a report pending from before is dropped.

        Called before each full listing, so a change after this call is either in the listing
        or reported.  False when inotify cannot be had at all (F5 rescans by hand then).
        """
        self._close()
        self._pending = DiskChanges()
        self._coalesce.stop()
        if root is None or not self.enabled:
            return True
        self._root = Path(root)
        try:
            self._ino = INotify(nonblocking=True)
        except OSError as e:
            log.warning("cannot watch %s (inotify: %s); F5 rescans by hand", root, e.strerror or e)
            return False
        self._notifier = QSocketNotifier(self._ino.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._read)
        self._installed = False
        ok = self._add("root", self._root)
        blobs = ok and self._add("blobs", self._root / "blobs")
        if ok:
            # before the thread below: an inotify instance adds one watch at a time, and this add
            # waited out the kernel's 80 ms on a million-entry blobs/<alg> on the GUI thread
            self._add("ingest", self._root / "ingest")
        if blobs:
            self._add_alg_dirs_aside()
        self._installed = True
        return ok

    def _add(self, kind: str, path: Path) -> bool:
        """One watch; False if the directory is not there (or cannot be watched, which is logged)."""
        assert self._ino is not None
        try:
            wd = self._ino.add_watch(path, MASKS[kind])
        except (FileNotFoundError, NotADirectoryError):
            return False
        except OSError as e:
            log.warning("cannot watch %s (%s); changes in it are seen on F5 only", path, e.strerror or e)
            if self._installed:
                # it appeared after the store was listed: listed once more, so it is at least shown
                self._pending.rescan = self._pending.rescan or f"{path} cannot be watched"
            return False
        self._wds[wd] = (kind, str(path))
        return True

    def _add_alg_dirs(self) -> list[str]:
        """Watch every blobs/<alg> there is now; the algorithms found."""
        assert self._root is not None
        found: list[str] = []
        try:
            names = os.listdir(self._root / "blobs")
        except OSError:
            return found
        for name in names:
            if name in ALGORITHMS and self._add("alg", self._root / "blobs" / name):
                found.append(name)
        return found

    def _add_alg_dirs_aside(self) -> None:
        """Watch every blobs/<alg> on a thread; ``ready`` is set once they are in the kernel (a
        listing waits for it), and events that arrive before the GUI learns their watch descriptor
        are kept in ``_early`` and replayed then."""
        assert self._ino is not None and self._root is not None
        self._gen += 1
        gen, ino, blobs = self._gen, self._ino, self._root / "blobs"
        ready = self.ready = threading.Event()

        def add() -> None:
            got: list[tuple[str, int, OSError | None]] = []
            try:
                for name in sorted(os.listdir(blobs)):
                    if name in ALGORITHMS:
                        try:
                            got.append((name, ino.add_watch(blobs / name, MASKS["alg"]), None))
                        except (FileNotFoundError, NotADirectoryError):
                            pass
                        except OSError as e:
                            got.append((name, -1, e))
            except OSError:
                pass  # blobs/ went away: its own watch reports that
            finally:
                ready.set()
                try:
                    self._algsAdded.emit(gen, got)
                except RuntimeError:
                    pass  # the watcher is gone (window closed)

        self._adder = threading.Thread(target=add, name="blobscope-watch", daemon=True)
        self._adder.start()

    def _on_algs_added(self, gen: int, got: list) -> None:
        if gen != self._gen or self._ino is None or self._root is None:
            return
        for name, wd, err in got:
            path = self._root / "blobs" / name
            if err is not None:
                log.warning("cannot watch %s (%s); changes in it are seen on F5 only", path, err.strerror or err)
            else:
                self._wds[wd] = ("alg", str(path))
        self._adder = None
        early, self._early = self._early, []
        for ev in early:
            self._event(*ev)
        if self._pending and self.enabled and not self._coalesce.isActive():
            self._coalesce.start()

    def watched(self) -> list[str]:
        return sorted(path for _kind, path in self._wds.values())

    def set_polling(self, active: bool) -> None:
        if active and self.enabled and not self._poll.isActive():
            self._poll.start()
        elif not active and self._poll.isActive():
            self._poll.stop()

    def stop(self) -> None:
        self.enabled = False
        self._poll.stop()
        self._coalesce.stop()
        self._close()

    def _close(self) -> None:
        if self._adder is not None:
            self._adder.join(10)  # its INotify is closed below: let it finish with it first
            self._adder = None
        self._gen += 1
        self._early = []
        if self._notifier is not None:
            self._notifier.setEnabled(False)
            self._notifier.deleteLater()
            self._notifier = None
        if self._ino is not None:
            self._ino.close()
            self._ino = None
        self._wds.clear()
        self._root = None

    # ------------------------------------------------------------------ events
    def _read(self, *_args) -> None:
        if self._ino is None:
            return
        try:
            # at most READ_BYTES a turn (~680 blob events): a Delete of 100k blobs queues 100k
            # events, parsed here on the GUI thread; the notifier fires again for the rest
            data = os.read(self._ino.fileno(), READ_BYTES)
        except BlockingIOError:
            data = b""
        except OSError as e:
            data = b""
            self._pending.rescan = self._pending.rescan or f"reading the watch failed ({e.strerror or e})"
        events = parse_events(data)
        self.events_read += len(events)
        for ev in events:
            self._event(ev.wd, ev.mask, ev.name)
        if self._pending and self.enabled and not self._coalesce.isActive():
            self._coalesce.start()

    def _event(self, wd: int, mask: int, name: str) -> None:
        p = self._pending
        if mask & F.Q_OVERFLOW:
            p.rescan = "watch overflowed"
            return
        where = self._wds.get(wd)
        if where is None:
            if self._adder is not None:
                self._early.append((wd, mask, name))  # maybe a blobs/<alg> watch not handed over yet
            return  # a watch of an earlier store, or one already lost
        kind, path = where
        if mask & _LOST:
            self._wds.pop(wd, None)
            p.rescan = p.rescan or f"{path} was removed or replaced"
            return
        if kind == "alg":
            alg = os.path.basename(path)
            if len(name) == ALGORITHMS[alg] and not name.strip(_HEX):
                p.blobs.add(f"{alg}:{name}")
            # other names are not blobs (a listing skips them too)
        elif kind == "ingest":
            if name:
                p.ingests.add(name)
        elif kind == "blobs":
            if name in ALGORITHMS and mask & (F.CREATE | F.MOVED_TO):
                # watched before it is listed: a blob renamed in meanwhile is listed or reported
                if self._add("alg", Path(path) / name):
                    p.alg_dirs.add(name)
            elif name in ALGORITHMS and mask & (F.DELETE | F.MOVED_FROM):
                p.rescan = p.rescan or f"{path}/{name} was removed or replaced"
        elif kind == "root":
            if name in LABEL_FILES:
                p.labels = True
            elif name == "blobs" and mask & (F.CREATE | F.MOVED_TO):
                if self._add("blobs", Path(path) / "blobs"):
                    p.alg_dirs.update(self._add_alg_dirs())
            elif name == "ingest" and mask & (F.CREATE | F.MOVED_TO):
                if self._add("ingest", Path(path) / "ingest"):
                    p.all_ingests = True
            elif name in ("blobs", "ingest") and mask & (F.DELETE | F.MOVED_FROM):
                p.rescan = p.rescan or f"{path}/{name} was removed or replaced"

    def _flush(self) -> None:
        changes, self._pending = self._pending, DiskChanges()
        if changes and self.enabled:
            if changes.rescan:
                log.info("%s; rescanning", changes.rescan)
            self.changed.emit(changes)
