"""The scanner thread: batches, dropping stale generations, cancellation; and signal storms."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QObject, Signal, Slot

from gui.jobs import JobRunner
from gui.scanner import StoreScanner
from store import Digest, LocalStore


def fill_store(root, n: int) -> LocalStore:
    """A store with ``n`` small blobs, written straight into blobs/sha256 (fast, valid content)."""
    store = LocalStore(root)
    d = root / "blobs" / "sha256"
    d.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        data = f"blob {i}".encode()
        (d / Digest.from_bytes(data).encoded).write_bytes(data)
    return store


class SlowStore:
    """A real store whose walk pauses between blobs, so a scan is still running when we act."""

    def __init__(self, store, delay=0.002):
        self.store = store
        self.delay = delay
        self.root = store.root

    def walk(self):
        for info in self.store.walk():
            time.sleep(self.delay)
            yield info

    def __getattr__(self, name):
        return getattr(self.store, name)


def collect(scanner: StoreScanner):
    got = {"batches": [], "done": [], "ingests": [], "failed": []}
    scanner.blobsBatch.connect(lambda rows: got["batches"].append(rows))
    scanner.blobsDone.connect(lambda n: got["done"].append(n))
    scanner.ingestsListed.connect(lambda rows: got["ingests"].append(rows))
    scanner.failed.connect(lambda m: got["failed"].append(m))
    return got


def test_scan_arrives_in_batches(qtbot, tmp_path):
    store = fill_store(tmp_path / "s", 1200)
    scanner = StoreScanner()
    try:
        scanner.worker.first_batch = 100
        scanner.worker.batch = 500
        got = collect(scanner)
        scanner.set_store(store)
        with qtbot.waitSignal(scanner.ingestsListed, timeout=20000):
            scanner.rescan()
        sizes = [len(b) for b in got["batches"]]
        assert sum(sizes) == 1200 and got["done"] == [1200]
        assert sizes[0] == 100 and max(sizes) <= 500 and len(sizes) >= 3
        digests = [r.digest for b in got["batches"] for r in b]
        assert len(set(digests)) == 1200
    finally:
        scanner.stop()


def test_stale_generation_results_are_dropped(qtbot, tmp_path):
    store = SlowStore(fill_store(tmp_path / "s", 600))
    scanner = StoreScanner()
    try:
        scanner.worker.first_batch = 10
        scanner.worker.batch = 10
        raw = []  # what the worker thread sent, generation included
        scanner.worker.blobsBatch.connect(lambda gen, rows: raw.append(gen))
        cancelled = []
        scanner.worker.cancelled.connect(cancelled.append)
        got = collect(scanner)
        scanner.set_store(store)
        first = scanner.rescan()
        qtbot.waitUntil(lambda: first in raw, timeout=10000)  # the first scan is delivering
        seen_before = sum(len(b) for b in got["batches"])
        got["batches"].clear()
        with qtbot.waitSignal(scanner.blobsDone, timeout=30000):
            second = scanner.rescan()
        assert second == first + 1
        qtbot.waitUntil(lambda: first in cancelled, timeout=5000)
        assert seen_before > 0
        # everything that reached the GUI after the second request is exactly one full scan
        assert sum(len(b) for b in got["batches"]) == 600
        assert got["done"] == [600]
    finally:
        scanner.stop()


def test_cancel_stops_a_running_scan(qtbot, tmp_path):
    store = SlowStore(fill_store(tmp_path / "s", 2000), delay=0.003)
    scanner = StoreScanner()
    try:
        cancelled = []
        scanner.worker.cancelled.connect(cancelled.append)
        got = collect(scanner)
        scanner.set_store(store)
        gen = scanner.rescan()
        qtbot.waitUntil(lambda: bool(got["batches"]), timeout=10000)
        started = time.monotonic()
        scanner.cancel()
        qtbot.waitUntil(lambda: gen in cancelled, timeout=5000)
        assert time.monotonic() - started < 2  # far less than the ~6 s the full walk needs
        qtbot.wait(200)
        assert got["done"] == [] and sum(len(b) for b in got["batches"]) < 2000
    finally:
        scanner.stop()


def test_scan_failure_is_a_message(qtbot, tmp_path):
    class Broken:
        root = tmp_path

        def walk(self):
            raise PermissionError(13, "Permission denied", str(tmp_path / "blobs"))

    scanner = StoreScanner()
    try:
        got = collect(scanner)
        scanner.set_store(Broken())
        with qtbot.waitSignal(scanner.failed, timeout=5000):
            scanner.rescan()
        assert "Permission denied" in got["failed"][0]
        assert not scanner.busy
    finally:
        scanner.stop()


class _Counter(QObject):
    def __init__(self):
        super().__init__()
        self.n = 0
        self.flags = 0

    @Slot(object, object)
    def on_progress(self, done, total):
        self.n += 1
        self.flags += bool(done % 2)


class _Emitter(QObject):
    ping = Signal(object, object)


def test_thousands_of_cross_thread_signals_do_not_crash(qtbot):
    """PySide6 6.12.0 on CPython 3.11 aborted (bool_dealloc) after a few hundred of these."""
    counter = _Counter()
    emitter = _Emitter()
    emitter.ping.connect(counter.on_progress)
    threads = [threading.Thread(target=lambda: [emitter.ping.emit(i, i % 2 == 0) for i in range(2000)])
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    qtbot.waitUntil(lambda: counter.n == 8000, timeout=20000)
    assert counter.flags == 4000
    # and through the job runner, with forced (unthrottled) progress from pool threads
    runner = JobRunner()
    seen = []
    results = []

    def work(job):
        for i in range(1000):
            job.progress(i, 1000, force=True)
        return True

    for _ in range(4):
        runner.start("storm", work, on_progress=lambda d, t: seen.append(d), on_done=results.append)
    qtbot.waitUntil(lambda: len(results) == 4, timeout=30000)
    assert len(seen) == 4000 and results == [True] * 4
    runner.wait()


def test_job_errors_come_back_as_results(qtbot):
    runner = JobRunner()
    errors_seen = []

    def boom(job):
        raise OSError(28, "No space left on device")

    runner.start("boom", boom, on_error=errors_seen.append, on_done=lambda r: errors_seen.append("done?"))
    qtbot.waitUntil(lambda: bool(errors_seen), timeout=5000)
    assert isinstance(errors_seen[0], OSError) and "No space" in str(errors_seen[0])
    assert runner.active == 0
    runner.wait()


class SlowInfoStore(SlowStore):
    """A real store whose ``info`` pauses and counts: a burst of changed names takes a while."""

    def __init__(self, store, delay=0.002):
        super().__init__(store, delay)
        self.infos = 0

    def info(self, digest):
        self.infos += 1
        time.sleep(self.delay)
        return self.store.info(digest)


def test_cancel_stops_reading_a_big_burst_of_changed_names(qtbot, tmp_path):
    """Closing the window after a Delete of many blobs must not wait for every name to be stat-ed."""
    from gui.changes import DiskChanges
    base = fill_store(tmp_path / "s", 2000)
    names = {str(i.digest) for i in base.walk()}
    store = SlowInfoStore(base, delay=0.003)
    scanner = StoreScanner()
    try:
        updated = []
        scanner.worker.blobsUpdated.connect(lambda gen, what: updated.append(gen))
        scanner.set_store(store)
        scanner.update(DiskChanges(blobs=names))
        qtbot.waitUntil(lambda: store.infos > 100, timeout=10000)
        scanner.cancel()
        qtbot.wait(300)  # the step of 64 names under way when it was cancelled ends
        seen = store.infos
        qtbot.wait(500)
        assert store.infos == seen  # it stopped (within one step of 64 names of the cancel)
        assert store.infos < len(names)
        assert updated == []  # nothing half-read is reported
    finally:
        scanner.stop()
