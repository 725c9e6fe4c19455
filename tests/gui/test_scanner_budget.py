"""The scanner's results reach the GUI thread a turn's budget at a time, in order (design.md §5.2).

While the GUI thread is held up, the scanner thread keeps listing: its batches pile up as queued
signals.  Delivered all in one event-loop turn they kept the GUI thread for 50-180 ms at a million
blobs; now one turn delivers at most ``DELIVERY_BUDGET`` of them and the rest follow in later
turns, in the order sent, stale generations still dropped.
"""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from gui.scanner import DELIVERY_BUDGET, StoreScanner
from tests.gui.test_scanner import fill_store

SLOW = 0.003  # seconds each delivered batch keeps the GUI thread (a window appending it)


def _slow_scanner(record) -> tuple[StoreScanner, threading.Event]:
    """A scanner sending batches of 100 rows, each kept ``SLOW`` by the GUI thread and then passed
    to ``record``; and an event set, on the scanner thread, once it has sent every result."""
    scanner = StoreScanner()
    sent = threading.Event()
    scanner.worker.first_batch = 100
    scanner.worker.batch = 100

    def batch(rows):
        time.sleep(SLOW)
        record(rows)

    scanner.blobsBatch.connect(batch)
    scanner.worker.ingestsListed.connect(lambda _gen, _rows: sent.set(), Qt.ConnectionType.DirectConnection)
    return scanner, sent


def test_a_backlog_of_batches_is_spread_over_turns_in_order(qtbot, tmp_path):
    store = fill_store(tmp_path / "s", 3000)
    events: list[tuple[str, object]] = []
    scanner, sent = _slow_scanner(lambda rows: events.append(("batch", len(rows))))
    try:
        scanner.blobsDone.connect(lambda n: events.append(("done", n)))
        scanner.ingestsListed.connect(lambda rows: events.append(("ingests", scanner.busy)))
        scanner.set_store(store)
        scanner.rescan()
        assert sent.wait(60), "the listing did not finish"  # the GUI thread held up meanwhile
        QApplication.processEvents()  # one turn: every queued result arrives at once
        delivered = len(events)
        assert 1 <= delivered
        most = 2 * (int(DELIVERY_BUDGET / SLOW) + 1)  # this turn's budget, and the timer's if it ran
        assert delivered <= most < 30, events
        assert scanner.busy  # the ingests (the last result) are not delivered yet
        qtbot.waitUntil(lambda: events and events[-1][0] == "ingests", timeout=20000)
        kinds = [k for k, _ in events]
        assert kinds == ["batch"] * (len(kinds) - 2) + ["done", "ingests"]
        assert sum(n for k, n in events if k == "batch") == 3000
        assert events[-2] == ("done", 3000)
        assert events[-1] == ("ingests", False)
    finally:
        scanner.stop()


def test_a_newer_scan_drops_the_backlog_of_an_older_one(qtbot, tmp_path):
    store = fill_store(tmp_path / "s", 2000)
    got: list[int] = []
    scanner, sent = _slow_scanner(lambda rows: got.append(len(rows)))
    try:
        scanner.set_store(store)
        scanner.rescan()
        assert sent.wait(60)
        QApplication.processEvents()
        first = len(got)
        assert first < 20
        scanner.cancel()  # what the older scan sent and was not delivered yet is dropped
        qtbot.wait(300)
        assert len(got) == first
        sent.clear()
        with qtbot.waitSignal(scanner.ingestsListed, timeout=20000):
            scanner.rescan()
        assert sum(got[first:]) == 2000
    finally:
        scanner.stop()
