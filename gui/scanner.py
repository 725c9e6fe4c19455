"""A long-lived scanner thread that lists a store's blobs and ingests in batches.

Besides full scans it reads only what the watcher named (``update``): each named blob
(``store.info``), each named ingest entry, and the digests whose labels changed since the
last number seen (``LabelStore.changes_since``), and sends back what differs (design.md §5.2).

Every scan carries a generation number.  Asking for a new scan makes every older
one stop at its next item, and results that still arrive from an older
generation are dropped before they reach the models.
"""

from __future__ import annotations

import gc
import logging
import os
import time
from collections import deque
from typing import Callable

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot

from store import LocalStore, errors
from store.ingest import BrokenIngest

from .changes import DiskChanges
from .rows import BlobRow, IngestRow, diff_rows

log = logging.getLogger(__name__)

FIRST_BATCH = 500        # small, so the first rows show almost at once
BATCH = 5000             # later batches: few queued signals (a few per second at most)
BATCH_SECONDS = 0.25     # ...or whatever arrived within this time
DELIVERY_BUDGET = 0.008  # seconds of a GUI-thread turn spent on the scanner's results
FREEZE_ABOVE = 20000     # stores this big get their rows frozen out of the cyclic GC


class ScanWorker(QObject):
    """Lives on the scanner thread; every slot runs there, every signal carries plain data."""

    blobsBatch = Signal(int, object)        # generation, list[BlobRow] or (a local store's first scan) a BlobBatch
    blobsDone = Signal(int, int)            # generation, blob count
    ingestsListed = Signal(int, object)     # generation, list[IngestRow]
    failed = Signal(int, str)               # generation, message
    storeMissing = Signal(int, str)         # generation, root: the store directory is gone (listed as empty)
    blobsDiff = Signal(int, object)         # generation, (removed digests, added rows, changed rows)
    cancelled = Signal(int)                 # generation
    updating = Signal(int)                  # generation: an update starts reading what was named
    blobsUpdated = Signal(int, object)      # generation, (digests gone, rows as they are now)
    ingestsUpdated = Signal(int, object)    # generation, (names read, rows of those still there)
    rescanNeeded = Signal(int, str)         # generation, why names were not enough

    def __init__(self):
        super().__init__()
        self.latest = 0  # written by the GUI thread; an int store is atomic under the GIL
        self.first_batch = FIRST_BATCH
        self.batch = BATCH
        self.full_scans = 0  # how many full listings ran (tests assert an update needed none)
        self.updates = 0     # how many updates by name ran
        self.label_seq = 0   # the last label change number this thread has seen
        self.child = True    # a local store's first listing runs in a child process

    def _stale(self, gen: int) -> bool:
        return gen != self.latest

    @Slot(int, object, object)
    def scan(self, gen: int, store, ready=None) -> None:
        """A first scan: rows go out in batches as they are listed (once ``ready`` is set)."""
        self._run(gen, store, None, ready)

    @Slot(int, object, object, object)
    def scan_against(self, gen: int, store, base: dict, ready=None) -> None:
        """A rescan that sends only what differs from ``base`` (digest -> BlobRow, a copy of the model).

        Comparing 100k rows costs 100+ ms; done here, the GUI thread only applies the changes.
        """
        self._run(gen, store, base, ready)

    def _run(self, gen: int, store, base: dict | None, ready=None) -> None:
        if ready is not None and not ready.wait(10):
            log.warning("the store's watch was not in place after 10 s; listing anyway")
        if self._stale(gen):
            self.cancelled.emit(gen)
            return
        # 100k new rows would trigger full cyclic collections (50-100 ms each, GIL held, GUI
        # frozen); rows hold no cycles, so collect nothing while listing and then freeze the
        # long-lived rows out of future collections.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        count = 0
        try:
            count = self._scan(gen, store, base)
        finally:
            if gc_was_enabled:
                gc.enable()
            if count >= FREEZE_ABOVE:
                gc.freeze()

    def _scan(self, gen: int, store, base: dict | None) -> int:
        self.full_scans += 1
        try:
            # the change number before the labels are read: a change after it is read again later
            self.label_seq = _label_seq(store)
            root = getattr(store, "root", None)
            if root is not None and not os.path.isdir(root):
                self.storeMissing.emit(gen, str(root))  # the listing below comes out empty; the window says why
            if base is None and isinstance(store, LocalStore):  # not a wrapper that changes its walk
                return self._scan_columns(gen, store)
            count = 0
            batch: list[BlobRow] = []  # a rescan (base given) keeps every row for the diff instead
            limit = self.first_batch
            last = time.monotonic()
            for info in store.walk():
                if self._stale(gen):
                    log.debug("scan %d cancelled after %d blobs", gen, count)
                    self.cancelled.emit(gen)
                    return count
                batch.append(BlobRow.from_info(info))
                count += 1
                if not count & 63:
                    time.sleep(0)  # hand the GIL to the GUI thread if it waits: no paint waits 5 ms per cell
                if base is None and (len(batch) >= limit or (time.monotonic() - last) > BATCH_SECONDS):
                    self.blobsBatch.emit(gen, batch)
                    batch = []
                    limit = self.batch
                    last = time.monotonic()
            if base is None and batch:
                self.blobsBatch.emit(gen, batch)
            if self._stale(gen):
                self.cancelled.emit(gen)
                return count
            if base is not None:
                self.blobsDiff.emit(gen, diff_rows(base, batch))
            self.blobsDone.emit(gen, count)
            self._list_ingests(gen, store)
        except Exception as e:  # noqa: BLE001 - every failure becomes a message for the user
            log.exception("scan of %s failed", getattr(store, "root", store))
            self.failed.emit(gen, str(e) or type(e).__name__)
        return count

    def _scan_columns(self, gen: int, store) -> int:
        """A first scan of a local store: batches of columns in directory order, no row object per
        blob (the model sorts its view), the first batch after ``first_batch`` directory entries."""
        count = 0
        # listed by a child process: this thread only reads its pipe (GIL released), so the GUI
        # thread has the GIL for its appends (store.blob_batches.ChildListing; in process if it fails)
        batches = store.walk_batches(first=self.first_batch, size=self.batch, child=self.child)
        try:
            for batch in batches:
                if self._stale(gen):
                    log.debug("scan %d cancelled after %d blobs", gen, count)
                    self.cancelled.emit(gen)
                    return count
                count += len(batch)
                self.blobsBatch.emit(gen, batch)
                time.sleep(0)  # hand the GIL to the GUI thread, which has a batch to append
        finally:
            close = getattr(batches, "close", None)
            if close is not None:
                close()  # a cancelled listing's child is stopped now, not when collected
        if self._stale(gen):
            self.cancelled.emit(gen)
            return count
        self.blobsDone.emit(gen, count)
        self._list_ingests(gen, store)
        return count

    @Slot(int, object)
    def poll_ingests(self, gen: int, store) -> None:
        if self._stale(gen):
            return
        try:
            self._list_ingests(gen, store)
        except Exception as e:  # noqa: BLE001
            log.exception("listing ingests failed")
            self.failed.emit(gen, str(e) or type(e).__name__)

    @Slot(int, object, object)
    def update(self, gen: int, store, changes: DiskChanges) -> None:
        """Read only the entries the watcher named and send what they are now.

        A blob that is gone (or never was a regular file: a listing skips those too) is removed;
        one that appeared and vanished before we got here is simply gone, never an error.
        """
        if self._stale(gen):
            return
        self.updates += 1
        self.updating.emit(gen)
        try:
            digests = set(changes.blobs)
            for alg in changes.alg_dirs:
                digests.update(_names_in(store, alg))
            if changes.labels:
                labels = getattr(store, "labels", None)
                got = labels.changes_since(self.label_seq) if labels is not None else None
                if got is not None:
                    if not got.complete:
                        self.rescanNeeded.emit(gen, "the label change log does not reach back far enough")
                        return
                    self.label_seq = got.seq
                    digests.update(got.digests)
            removed: list[str] = []
            rows: list[BlobRow] = []
            for i, d in enumerate(sorted(digests)):
                try:
                    rows.append(BlobRow.from_info(store.info(d)))
                except (errors.NotFound, errors.FailedPrecondition, errors.InvalidArgument):
                    removed.append(d)
                if not i & 63:
                    if self._stale(gen):  # the window closes or a full scan replaces this: stop reading
                        log.debug("update %d stopped after %d of %d names", gen, i, len(digests))
                        return
                    time.sleep(0)  # a big burst: let the GUI thread have the GIL
            if removed or rows:
                self.blobsUpdated.emit(gen, (removed, rows))
            if changes.all_ingests:
                self._list_ingests(gen, store)
            elif changes.ingests:
                names = sorted(changes.ingests)
                found = []
                for name in names:
                    try:
                        item = store.ingest_entry(name)
                    except errors.InvalidArgument:
                        continue
                    if isinstance(item, BrokenIngest):
                        found.append(IngestRow.from_broken(item))
                    elif item is not None:
                        found.append(IngestRow.from_status(item))
                self.ingestsUpdated.emit(gen, (names, found))
        except Exception as e:  # noqa: BLE001 - the listing tells the truth where names could not
            log.exception("reading the changed entries of %s failed", getattr(store, "root", store))
            self.rescanNeeded.emit(gen, f"reading the changed entries failed ({e})")

    def _list_ingests(self, gen: int, store) -> None:
        both = getattr(store, "scan_ingests", None)  # a local store reads each ingest once for both lists
        if both is not None:
            statuses, broken = both()
        else:
            statuses = store.list_statuses()
            broken = store.broken_ingests() if hasattr(store, "broken_ingests") else []
        rows = [IngestRow.from_status(st) for st in statuses]
        rows.extend(IngestRow.from_broken(b) for b in broken)
        self.ingestsListed.emit(gen, rows)


def _label_seq(store) -> int:
    labels = getattr(store, "labels", None)
    if labels is None or not hasattr(labels, "change_seq"):
        return 0
    try:
        return int(labels.change_seq())
    except errors.ContentError as e:
        log.info("label change number unknown (%s)", e)
        return 0


def _names_in(store, alg: str) -> list[str]:
    """Every blob name in a new ``blobs/<alg>`` (stat-ed one by one by the caller)."""
    try:
        names = os.listdir(os.path.join(str(store.root), "blobs", alg))
    except OSError:
        return []
    return [f"{alg}:{n}" for n in names]


class _ScanThread(QThread):
    """The scanner's thread, its event loop inside a Python ``run`` so that one Python thread
    state (and its thread-locals) lasts from slot to slot.

    Otherwise each scan got a fresh one: the store's per-thread labels.db connection was
    opened and closed per scan, touching labels.db-wal and the root, which the watcher
    reported as a change, which started the next rescan, every 300 ms, forever.
    """

    def run(self) -> None:
        self.exec()


class StoreScanner(QObject):
    """GUI-thread side: starts scans, forwards only current-generation results."""

    blobsBatch = Signal(object)        # list[BlobRow], or store.blob_batches.BlobBatch (columns)
    blobsDone = Signal(int)
    ingestsListed = Signal(object)     # list[IngestRow]
    failed = Signal(str)
    storeMissing = Signal(str)         # root
    blobsDiff = Signal(object)         # (removed digests, added rows, changed rows) of rescan(base=...)
    blobsUpdated = Signal(object)      # (digests gone, rows as they are now) of update()
    ingestsUpdated = Signal(object)    # (ingest names read, rows of those still there) of update()
    rescanNeeded = Signal(str)         # why an update could not tell: only a full rescan can
    _scanRequested = Signal(int, object, object)
    _updateRequested = Signal(int, object, object)
    _diffScanRequested = Signal(int, object, object, object)
    _pollRequested = Signal(int, object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.generation = 0
        self.store = None
        self.busy = False
        self._inbox: deque[tuple[int, Callable[..., None], tuple]] = deque()  # results not delivered yet
        self._turn_started = self._last_delivered = 0.0
        self._drain_timer = QTimer(self)
        self._drain_timer.setSingleShot(True)
        self._drain_timer.setInterval(0)
        self._drain_timer.timeout.connect(self._drain)
        self._thread = _ScanThread(self)
        self._thread.setObjectName("blobscope-scanner")
        self.worker = ScanWorker()
        self.worker.moveToThread(self._thread)
        self._thread.finished.connect(self.worker.deleteLater)
        q = Qt.ConnectionType.QueuedConnection
        self._scanRequested.connect(self.worker.scan, q)
        self._diffScanRequested.connect(self.worker.scan_against, q)
        self.worker.blobsDiff.connect(self._on_diff, q)
        self._pollRequested.connect(self.worker.poll_ingests, q)
        self._updateRequested.connect(self.worker.update, q)
        self.worker.blobsUpdated.connect(self._on_blobs_updated, q)
        self.worker.ingestsUpdated.connect(self._on_ingests_updated, q)
        self.worker.rescanNeeded.connect(self._on_rescan_needed, q)
        self.worker.blobsBatch.connect(self._on_batch, q)
        self.worker.blobsDone.connect(self._on_done, q)
        self.worker.ingestsListed.connect(self._on_ingests, q)
        self.worker.failed.connect(self._on_failed, q)
        self.worker.storeMissing.connect(self._on_missing, q)
        self.worker.cancelled.connect(self._on_cancelled, q)
        self._thread.start()

    def set_store(self, store) -> None:
        self.store = store
        self.cancel()

    def rescan(self, base: dict | None = None, ready=None) -> int:
        """Start a new scan; any running one stops and its results are dropped.

        ``ready`` (a ``threading.Event``): the listing starts once it is set (the watch is in).

        With ``base`` (digest -> BlobRow, a copy) no batches are sent: one ``blobsDiff`` says
        what changed, computed on the scanner thread.
        """
        self.generation += 1
        self.worker.latest = self.generation
        self.busy = True
        if self.store is not None:
            if base is None:
                self._scanRequested.emit(self.generation, self.store, ready)
            else:
                self._diffScanRequested.emit(self.generation, self.store, base, ready)
        return self.generation

    def poll_ingests(self) -> None:
        if self.store is not None and not self.busy:
            self._pollRequested.emit(self.generation, self.store)

    def update(self, changes: DiskChanges) -> None:
        """Read the entries the watcher named (after any scan already queued: one thread, in order)."""
        if self.store is not None:
            self._updateRequested.emit(self.generation, self.store, changes)

    def cancel(self) -> None:
        self.generation += 1
        self.worker.latest = self.generation
        self.busy = False

    def stop(self) -> None:
        """Stop the thread (window closing): cancel, quit, wait."""
        if self._thread.isRunning():
            self.cancel()
            self._inbox.clear()
            self._drain_timer.stop()
            self._thread.quit()
            self._thread.wait(10_000)

    # ---- results, in the order the thread sent them, a turn's budget at a time
    def _deliver(self, gen: int, handle: Callable[..., None], *args) -> None:
        """Queue one result of the thread; run it now unless earlier ones wait or this turn's
        budget is spent.  While the GUI thread was held up (the GIL, a busy core), the thread
        may have sent a hundred listing batches: delivered all in one turn they took 50-180 ms
        of the GUI thread at a million blobs; now at most ``DELIVERY_BUDGET`` of them, then the
        rest after the events that waited (paint, input, timers)."""
        self._inbox.append((gen, handle, args))
        if len(self._inbox) == 1 and not self._drain_timer.isActive():
            if time.perf_counter() - self._last_delivered > DELIVERY_BUDGET:
                self._turn_started = time.perf_counter()  # the GUI thread did other things meanwhile
            self._drain(fresh=False)

    def _drain(self, fresh: bool = True) -> None:
        if fresh:  # the timer: the events that waited have been handled
            self._turn_started = time.perf_counter()
        while self._inbox:
            if time.perf_counter() - self._turn_started > DELIVERY_BUDGET:
                self._drain_timer.start()  # the rest after the events that are waiting
                break
            gen, handle, args = self._inbox.popleft()
            if gen == self.generation:  # a newer scan drops what an older one sent
                handle(*args)
        self._last_delivered = time.perf_counter()

    @Slot(int, object)
    def _on_batch(self, gen: int, rows) -> None:
        self._deliver(gen, self.blobsBatch.emit, rows)

    @Slot(int, int)
    def _on_done(self, gen: int, count: int) -> None:
        self._deliver(gen, self.blobsDone.emit, count)

    @Slot(int, object)
    def _on_ingests(self, gen: int, rows) -> None:
        self._deliver(gen, self._ingests_listed, rows)

    def _ingests_listed(self, rows) -> None:
        self.busy = False
        self.ingestsListed.emit(rows)

    @Slot(int, object)
    def _on_diff(self, gen: int, diff) -> None:
        self._deliver(gen, self.blobsDiff.emit, diff)

    @Slot(int, object)
    def _on_blobs_updated(self, gen: int, update) -> None:
        self._deliver(gen, self.blobsUpdated.emit, update)

    @Slot(int, object)
    def _on_ingests_updated(self, gen: int, update) -> None:
        self._deliver(gen, self.ingestsUpdated.emit, update)

    @Slot(int, str)
    def _on_rescan_needed(self, gen: int, why: str) -> None:
        self._deliver(gen, self.rescanNeeded.emit, why)

    @Slot(int, str)
    def _on_missing(self, gen: int, root: str) -> None:
        self._deliver(gen, self.storeMissing.emit, root)

    @Slot(int, str)
    def _on_failed(self, gen: int, message: str) -> None:
        self._deliver(gen, self._failed, message)

    def _failed(self, message: str) -> None:
        self.busy = False
        self.failed.emit(message)

    @Slot(int)
    def _on_cancelled(self, gen: int) -> None:
        log.debug("scan generation %d stopped early", gen)
