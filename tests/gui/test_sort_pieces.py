"""The worker's sort merges its sorted chunks a bounded piece at a time (no long C-level step
holding the GIL); the order must be exactly a stable sort, ties in row order, both directions."""

from __future__ import annotations

import hashlib
import random
from array import array

import pytest

from gui.blobs import view
from gui.blobs.columns import BlobColumns
from store.blob_batches import BlobBatch


def columns(n: int, seed: int) -> BlobColumns:
    rng = random.Random(seed)
    raw = b"".join(hashlib.sha256(f"{seed} {i}".encode()).digest() for i in range(n))
    sizes = array("q", [rng.choice([0, 1, 7, 4096]) if i % 3 else rng.randrange(-5, 10**12)
                        for i in range(n)])  # many ties, some negative
    created = array("q", [rng.randrange(10**18) for _ in range(n)])
    cols = BlobColumns()
    cols.add_batch(BlobBatch("sha256", sizes=sizes, created_ns=created, updated_ns=array("q", [5] * n), raw=raw))
    return cols


@pytest.mark.parametrize("column", [view.COL_SIZE, view.COL_CREATED, view.COL_UPDATED, view.COL_DIGEST])
@pytest.mark.parametrize("descending", [False, True])
def test_the_order_is_a_stable_sort_past_several_chunks(column, descending):
    n = 3 * view.CHUNK + 77
    snap = columns(n, seed=column).snapshot()
    if column == view.COL_DIGEST:
        key = snap.digest_of
    else:
        values = {view.COL_SIZE: snap.sizes, view.COL_CREATED: snap.created, view.COL_UPDATED: snap.updated}[column]
        key = values.__getitem__
    want = sorted(range(n), key=lambda r: (key(r), r) if not descending else (_neg(key(r)), r))
    assert list(view.sort_order(snap, column, descending)) == want


def _neg(v):
    return -v if isinstance(v, int) else tuple(-b for b in v.encode())


def test_few_rows_and_none():
    snap = BlobColumns().snapshot()
    assert list(view.sort_order(snap, view.COL_SIZE, False)) == []
    snap = columns(5, seed=9).snapshot()
    assert list(view.sort_order(snap, view.COL_SIZE, True)) == sorted(range(5), key=lambda r: (-snap.sizes[r], r))
