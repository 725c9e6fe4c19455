"""A snapshot of the blob columns lends the next one what has not changed (no 70 MB copy on the GUI
thread for a removal at a million rows), and every snapshot still reads as the rows were when taken."""

from __future__ import annotations

import hashlib

from gui.blobs.columns import BlobColumns
from gui.rows import BlobRow


def _cols(n: int) -> BlobColumns:
    cols = BlobColumns()
    cols.add_many([BlobRow("sha256:" + hashlib.sha256(b"%d" % i).hexdigest(), i, i, i, {"i": str(i)} if i % 3 else {})
                   for i in range(n)])
    return cols


def test_a_removal_reuses_the_copies_and_each_snapshot_keeps_its_rows():
    cols = _cols(50)
    first = cols.snapshot()
    gone = first.digest_of(7)
    cols.remove(gone)
    second = cols.snapshot(prev=first)
    assert second.digests is first.digests and second.sizes is first.sizes and second.lids is first.lids
    assert gone in first and gone not in second and len(first) == 50 and len(second) == 49


def test_an_update_or_new_rows_are_copied_afresh():
    cols = _cols(20)
    first = cols.snapshot()
    d = first.digest_of(3)
    cols.update(3, BlobRow(d, 999, 1, 2, {"edited": "yes"}), keep_media=True, keep_verified=True)
    second = cols.snapshot(prev=first)
    assert second.digests is first.digests  # the same rows: digests never change
    assert second.sizes is not first.sizes
    assert (first[d].size, first[d].labels) == (3, {})  # the older snapshot still says what was
    assert (second[d].size, second[d].labels) == (999, {"edited": "yes"})
    cols.add(BlobRow("sha256:" + "e" * 64, 5, 0, 0, {}))
    third = cols.snapshot(prev=second)
    assert third.digests is not second.digests and len(third) == 21 and ("sha256:" + "e" * 64) in third
    assert ("sha256:" + "e" * 64) not in second


def test_a_snapshot_of_other_columns_lends_nothing():
    a, b = _cols(10), _cols(10)
    sa = a.snapshot()
    b.update(0, BlobRow(sa.digest_of(0), 77, 0, 0, {}), keep_media=True, keep_verified=True)
    b.rewrites = a.rewrites  # even with equal counters: another table's arrays are never borrowed
    sb = b.snapshot(prev=sa)
    assert sb.sizes is not sa.sizes and sb[sa.digest_of(0)].size == 77
