"""Workers that run Python beside the GUI thread (the blobs table's filter and sort worker, the
digest indexer) run with a short GIL switch interval, and put the previous one back when done:
with the default 5 ms every take of the GIL by the GUI thread waited 5 ms behind them (the
convoy tests/perf/stall_sampler.py showed in the 1M-blob window's worst gaps)."""

from __future__ import annotations

import sys
import threading

from PySide6.QtCore import Qt

from gui import short_switch
from gui.blobs import columns
from gui.blobs.blob_model import COL_DIGEST
from gui.blobs.columns import BlobColumns
from gui.blobs.filtering import Query, compile_filter
from tests.gui.test_blob_columns import background_model, make_rows, settle, shown  # noqa: F401
from tests.gui.test_digest_handover import batch, digest


class _Recording(Query):
    """A query that notes the switch interval its bulk answer runs under (on the worker)."""

    def __init__(self, inner: Query):
        self.inner = inner
        self.seen: list[tuple[str, float]] = []

    def __call__(self, row):
        return self.inner(row)

    def mask(self, snap, check=lambda: None):
        self.seen.append((threading.current_thread().name, sys.getswitchinterval()))
        return self.inner.mask(snap, check)


def test_nested_and_overlapping_users_put_the_interval_back_once_all_are_done():
    before = sys.getswitchinterval()
    assert before > short_switch.SHORT  # CPython's default, 5 ms
    entered, leave = threading.Event(), threading.Event()

    def other():
        with short_switch.short_switches():
            entered.set()
            leave.wait(10)

    t = threading.Thread(target=other)
    t.start()
    assert entered.wait(10)
    assert sys.getswitchinterval() == short_switch.SHORT
    with short_switch.short_switches():
        with short_switch.short_switches():
            assert sys.getswitchinterval() == short_switch.SHORT
    assert sys.getswitchinterval() == short_switch.SHORT  # the other thread is still inside
    leave.set()
    t.join(10)
    assert sys.getswitchinterval() == before


def test_the_filter_and_sort_worker_runs_with_short_switches(qtbot, background_model):  # noqa: F811
    m = background_model
    before = sys.getswitchinterval()
    rows = make_rows(300)
    m.append_rows(rows)
    settle(qtbot, m)
    rec = _Recording(compile_filter("sha"))
    m.set_filter(rec)
    settle(qtbot, m)
    m.sort(COL_DIGEST, Qt.SortOrder.DescendingOrder)
    settle(qtbot, m)
    assert len(rec.seen) == 2  # the filter's request, then the sort's
    assert all(name != "MainThread" and interval == short_switch.SHORT for name, interval in rec.seen), rec.seen
    assert shown(m) == sorted((r.digest for r in rows), reverse=True)
    assert sys.getswitchinterval() == before  # back once the worker is done


def test_the_digest_indexer_runs_with_short_switches(monkeypatch):
    before = sys.getswitchinterval()
    seen: list[tuple[str, float]] = []
    insert = columns.DigestIndex.insert_absent_many

    def recording(self, keys, start, stop):
        seen.append((threading.current_thread().name, sys.getswitchinterval()))
        return insert(self, keys, start, stop)

    monkeypatch.setattr(columns.DigestIndex, "insert_absent_many", recording)
    cols = BlobColumns()
    cols.add_batch(batch(0, 3 * columns.INDEX_CHUNK))
    assert cols.settle() and cols.pending == ()
    assert all(cols.find(digest(i)) == i for i in range(0, 3 * columns.INDEX_CHUNK, 97))
    cols.close()
    for t in threading.enumerate():
        if t.name == "blobscope-indexer":
            t.join(10)
    indexer = [iv for name, iv in seen if name == "blobscope-indexer"]
    assert len(indexer) == 3 and set(indexer) == {short_switch.SHORT}, seen
    assert sys.getswitchinterval() == before  # the indexer has ended: the default is back


def test_the_digest_indexer_rests_after_each_chunk_as_long_as_it_worked(monkeypatch):
    """Catching up with a listing's backlog it held the GIL and a core for 100 ms at a stretch."""
    worked: list[float] = []
    rested: list[float] = []
    insert = columns.DigestIndex.insert_absent_many
    real_sleep = columns.time.sleep

    def timed(self, keys, start, stop):
        t = columns.time.perf_counter()
        try:
            return insert(self, keys, start, stop)
        finally:
            worked.append(columns.time.perf_counter() - t)

    def sleep(seconds):
        if threading.current_thread().name == "blobscope-indexer" and len(rested) < len(worked):
            rested.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(columns.DigestIndex, "insert_absent_many", timed)
    monkeypatch.setattr(columns.time, "sleep", sleep)
    cols = BlobColumns()
    cols.add_batch(batch(0, 4 * columns.INDEX_CHUNK))
    assert cols.settle() and cols.pending == ()
    cols.close()
    for t in threading.enumerate():
        if t.name == "blobscope-indexer":
            t.join(10)
    assert len(worked) == 4 and len(rested) == 4, (worked, rested)
    # each rest is timed around the chunk's insert, so it is at least as long as that insert
    assert all(r >= w * getattr(columns, "INDEX_REST", 1.0) for w, r in zip(worked, rested)), (worked, rested)


def test_every_pool_job_runs_with_short_switches_and_puts_the_interval_back(qtbot):
    # the graph's builds and updates, the media types, the Delete plan: any job of the pool
    from gui.jobs import JobRunner
    before = sys.getswitchinterval()
    runner = JobRunner()
    seen: list[tuple[str, float]] = []
    done: list[object] = []

    def work(job):
        seen.append((threading.current_thread().name, sys.getswitchinterval()))
        return 42

    runner.start("probe", work, on_done=done.append)
    qtbot.waitUntil(lambda: done == [42], timeout=10000)
    assert seen and seen[0][0] != "MainThread" and seen[0][1] == short_switch.SHORT, seen
    runner.pool.waitForDone(10000)
    assert sys.getswitchinterval() == before
    failed: list[BaseException] = []

    def boom(job):
        raise ValueError("no")

    runner.start("boom", boom, on_error=failed.append)
    qtbot.waitUntil(lambda: len(failed) == 1, timeout=10000)
    runner.pool.waitForDone(10000)
    assert sys.getswitchinterval() == before  # a failed job puts it back too
