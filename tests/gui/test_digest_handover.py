"""A first listing's digest index is built by a worker thread and handed over in chunks: every
lookup must be right at every moment (rows appended but not yet indexed, rows handed over,
removed, re-added, and a blob the watch reported before the listing did)."""

from __future__ import annotations

import hashlib
import random
import threading
from array import array

from gui.blobs.blob_model import BlobTableModel
from gui.blobs.columns import INDEX_CHUNK, BlobColumns
from gui.rows import BlobRow
from store.blob_batches import BlobBatch
from tests.gui.test_scanner import fill_store


def digest(i: int) -> str:
    return "sha256:" + hashlib.sha256(f"blob {i}".encode()).hexdigest()


def batch(first: int, n: int) -> BlobBatch:
    """A listing's batch of columns, packed as the listing child sends them (raw digests)."""
    raw = b"".join(hashlib.sha256(f"blob {i}".encode()).digest() for i in range(first, first + n))
    return BlobBatch("sha256", sizes=array("q", range(first, first + n)), created_ns=array("q", [1] * n),
                     updated_ns=array("q", [2] * n), raw=raw)


def row(i: int) -> BlobRow:
    return BlobRow(digest(i), i, 1, 2, {})


def test_every_row_is_found_while_the_indexer_hands_chunks_over():
    cols = BlobColumns()
    size = 3 * INDEX_CHUNK  # a batch takes the indexer three hand-overs
    seen_pending = 0
    rng = random.Random(1)
    for b in range(8):
        rids, dups = cols.add_batch(batch(b * size, size))
        assert rids == range(b * size, (b + 1) * size) and dups == []
        # straight after the append most of it is still pending: lookups must find it anyway,
        # then keep finding everything while the worker moves it into the built index
        while True:
            pending = cols.pending
            seen_pending += bool(pending)
            for i in rng.sample(range((b + 1) * size), 200) + list(range(b * size, b * size + 20)):
                assert cols.find(digest(i)) == i
            assert cols.find(digest(10**9)) == -1
            if not pending:
                break
    assert seen_pending >= 8  # the pending path was read after every batch
    assert cols.settle() and cols.pending == ()
    assert all(cols.find(digest(i)) == i for i in range(8 * size))
    assert cols.count == 8 * size


def test_lookups_with_nothing_indexed_yet_search_the_pending_rows():
    cols = BlobColumns()
    cols.close()  # no indexer: every row stays pending (the slowest path, and exact)
    cols.add_batch(batch(0, 5000))
    cols.add_batch(batch(5000, 5000))
    assert cols.pending == ((0, 5000), (5000, 10000))
    assert [cols.find(digest(i)) for i in (0, 4999, 5000, 9999)] == [0, 4999, 5000, 9999]
    assert cols.find(digest(10000)) == -1
    # a key that matches across a row boundary (unaligned) is not a row
    straddle = "sha256:" + (cols.digests[16:48]).hex()
    assert cols.find(straddle) == -1
    assert cols.remove(digest(7)) == 7 and cols.find(digest(7)) == -1 and cols.remove(digest(7)) == -1
    assert cols.count == 9999


def test_deletes_and_re_adds_during_and_after_the_hand_over():
    cols = BlobColumns()
    cols.add_batch(batch(0, 4 * INDEX_CHUNK))
    early = [1, 2, 4 * INDEX_CHUNK - 1]  # removed while (probably) still pending
    assert [cols.remove(digest(i)) for i in early] == early
    assert cols.settle()
    late = [3, INDEX_CHUNK + 5]  # removed after the hand-over
    assert [cols.remove(digest(i)) for i in late] == late
    for i in early + late:
        assert cols.find(digest(i)) == -1
        assert cols.remove(digest(i)) == -1
    # committed again: a new row; removed again: gone (the dead listed row is not found instead)
    rid = cols.add(row(3))
    assert rid == 4 * INDEX_CHUNK and cols.find(digest(3)) == rid
    assert cols.remove(digest(3)) == rid and cols.find(digest(3)) == -1
    assert cols.count == 4 * INDEX_CHUNK - len(early) - len(late)
    live = {cols.digest_of(r) for r in cols.live_rids()}
    assert live == {digest(i) for i in range(4 * INDEX_CHUNK)} - {digest(i) for i in early + late}
    assert all(cols.find(d) >= 0 for d in live)


def test_a_blob_the_watch_reported_first_is_a_duplicate_of_the_listed_one():
    cols = BlobColumns()
    cols.add_batch(batch(0, 1000))
    old = cols.add(row(1500))  # the watch saw it before the listing reached it
    many = [cols.add(row(i)) for i in range(5000, 5100)]  # over 64 of them: the dict path
    rids, dups = cols.add_batch(batch(1000, 1000))
    assert dups == [(rids.start + 500, old)]
    assert not cols.alive[rids.start + 500] and cols.find(digest(1500)) == old
    rids, dups = cols.add_batch(batch(5050, 10))
    assert dups == [(r, o) for r, o in zip(rids, many[50:60])]
    assert cols.settle()
    assert cols.find(digest(1500)) == old and all(cols.find(digest(5000 + k)) == many[k] for k in range(100))
    assert cols.count == 2000 + 100


def test_a_snapshot_taken_mid_hand_over_answers_as_the_columns_did():
    cols = BlobColumns()
    cols.add_batch(batch(0, 3 * INDEX_CHUNK))
    snap = cols.snapshot()
    cols.remove(digest(5))
    cols.add_batch(batch(3 * INDEX_CHUNK, 3 * INDEX_CHUNK))  # not in the snapshot
    assert cols.settle()
    assert snap.find(digest(5)) == 5 and cols.find(digest(5)) == -1
    assert all(snap.find(digest(i)) == i for i in range(0, 3 * INDEX_CHUNK, 7))
    assert snap.find(digest(3 * INDEX_CHUNK + 1)) == -1
    assert len(snap) == 3 * INDEX_CHUNK and digest(9) in snap


def test_a_real_listing_finds_every_row_at_every_batch(qtbot, tmp_path):
    """The scanner's batches of a real store into the model; after each batch every listed digest
    is found (row_for / get), and a Delete of half of them afterwards leaves the rest found."""
    from gui.scanner import StoreScanner

    store = fill_store(tmp_path / "s", 6000)
    names = sorted(p.name for p in (tmp_path / "s" / "blobs" / "sha256").iterdir())
    model = BlobTableModel()
    scanner = StoreScanner()
    listed: list[str] = []
    misses: list[str] = []

    def on_batch(b):
        assert isinstance(b, BlobBatch)  # a local store's first listing: columns, no row objects
        model.append_rows(b)
        listed.extend(f"sha256:{h}" for h in b.hex_names())
        misses.extend(d for d in listed if model.get(d) is None)

    try:
        scanner.worker.first_batch = 100
        scanner.worker.batch = 700
        scanner.blobsBatch.connect(on_batch)
        scanner.set_store(store)
        with qtbot.waitSignal(scanner.blobsDone, timeout=30000):
            scanner.rescan()
        assert misses == []
        assert sorted(d.split(":")[1] for d in listed) == names
        gone = listed[::2]
        model.remove_digests(gone)
        qtbot.waitUntil(lambda: not model.removing and not model.busy, timeout=20000)
        assert all(model.get(d) is None for d in gone)
        assert all(model.get(d) is not None for d in listed[1::2])
        assert model.total_count == len(listed) - len(gone)
        assert model.columns.settle()
    finally:
        scanner.stop()
        model.shutdown()


def test_the_indexer_thread_ends_when_the_columns_are_closed():
    cols = BlobColumns()
    cols.add_batch(batch(0, 10))
    cols.close()
    for t in threading.enumerate():
        if t.name == "blobscope-indexer":
            t.join(10)
    assert not any(t.name == "blobscope-indexer" for t in threading.enumerate())
    assert all(cols.find(digest(i)) == i for i in range(10))
