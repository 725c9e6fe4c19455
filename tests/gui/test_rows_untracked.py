"""The blobs table's rows are invisible to the cyclic garbage collector (design.md §5.2).

A collection of the oldest generation walks every object the collector tracks, GIL held: with a
tuple, list or dict per blob a million rows made each one 100+ ms of every thread's time.  The
row store keeps its columns in arrays and bytes (no item the collector visits), so listing, snapshotting,
filtering and sorting a store leave a handful of tracked objects whatever its size; this checks
that shape, and that a cycle made beside them is still collected.
"""

from __future__ import annotations

import gc
import os
import weakref
from array import array

from gui.blobs import view
from gui.blobs.columns import BlobColumns
from gui.blobs.filtering import compile_filter
from store.blob_batches import BlobBatch

ROWS = 20_000
LABELLED = 200  # rows with labels: a label set is kept once, as text


def _tracked() -> int:
    gc.collect()
    return len(gc.get_objects())


def _batch(start: int, m: int) -> BlobBatch:
    return BlobBatch("sha256", sizes=array("q", range(start, start + m)), created_ns=array("q", [1]) * m,
                     updated_ns=array("q", [2]) * m, raw=os.urandom(32 * m),
                     labels={i: {"bench/index": str(start + i)} for i in range(0, m, m // (LABELLED * m // ROWS))})


def test_a_listing_sorted_and_filtered_leaves_no_tracked_object_per_row():
    before = _tracked()
    cols = BlobColumns()
    for start in range(0, ROWS, 5000):
        cols.add_batch(_batch(start, 5000))
    assert cols.settle(60)
    cols.close()
    snap = cols.snapshot()
    for column in (view.COL_SIZE, view.COL_DIGEST, view.COL_LABELS):
        order, where = view.compute(snap, None, column, False)
        assert len(order) == ROWS
    order, _where = view.compute(snap, compile_filter("bench/index=1"), view.COL_SIZE, True)
    assert 0 < len(order) < ROWS
    grown = _tracked() - before
    # a few hundred containers for the whole store (shards, tables, caches), not one per row
    assert grown < ROWS // 20, grown
    # an array is one tracked object whatever its length: the collector never visits its items
    assert len(gc.get_referents(cols.sizes)) <= 1 and len(gc.get_referents(order)) <= 1  # its type, at most
    del cols, snap, order, where


def test_cycles_are_still_collected_beside_the_rows():
    cols = BlobColumns()
    cols.add_batch(_batch(0, 5000))
    cols.close()

    class Node:
        pass

    for _ in range(50):  # listings made and dropped, a cycle beside each
        a, b = Node(), Node()
        a.other, b.other = b, a
        ref = weakref.ref(a)
        del a, b
        snap = cols.snapshot()
        view.compute(snap, None, view.COL_SIZE, False)
        del snap
    gc.collect()
    assert ref() is None
    assert gc.isenabled()
