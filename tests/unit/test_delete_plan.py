"""What Delete's question says (gui/blobs/delete_plan.py), worked out as the worker does from a
snapshot of the columns: for a selection bigger than one chunk (row numbers marked in a byte per
row) and for a small one (a set of digests), the same counts, bytes, roots and label parents."""

from __future__ import annotations

import hashlib

import pytest

from gui.blobs.columns import BlobColumns
from gui.blobs.delete_plan import CHUNK, plan_delete, referencing_in
from gui.rows import BlobRow

REF = "containerd.io/gc.ref.content.l.0"


def _digest(i: int) -> str:
    return "sha256:" + hashlib.sha256(b"plan %d" % i).hexdigest()


@pytest.mark.parametrize("n", [CHUNK + 500, 300])
def test_the_plan_names_roots_and_parents_outside_the_selection(n):
    rows = [BlobRow(_digest(i), 10 + i % 7, 1, 1, {}) for i in range(n)]
    inside_child, outside_child = rows[1].digest, rows[2].digest
    rows.append(BlobRow(_digest(n), 5, 1, 1, {REF: inside_child}))        # selected parent
    rows.append(BlobRow(_digest(n + 1), 6, 1, 1, {REF: outside_child}))   # kept parent
    rows.append(BlobRow(_digest(n + 2), 7, 1, 1, {"containerd.io/gc.root": "x"}))
    rows.append(BlobRow(_digest(n + 3), 8, 1, 1, {"containerd.io/gc.root": "y", REF: outside_child}))
    cols = BlobColumns()
    cols.add_many(rows)
    cols.settle()
    kept_parent = cols.find(_digest(n + 1))
    rids = [r for r in range(cols.n) if r != kept_parent][::-1]  # any order, as a sorted table's
    snap = cols.snapshot()
    plan = plan_delete(snap, rids, lambda ds: referencing_in(snap, ds))
    assert plan is not None and plan.count == len(rids) == n + 3
    assert plan.total_bytes == sum(r.size for r in rows) - 6
    assert plan.digests == snap.digests_of(rids)
    assert plan.roots == 2 and set(plan.root_names) == {_digest(n + 2), _digest(n + 3)}
    # the selected parent's child is not warned about; the kept parent's is, naming it
    assert plan.referenced == 1 and plan.referenced_names == [(outside_child, _digest(n + 1))]


def test_a_cancelled_plan_is_none():
    cols = BlobColumns()
    cols.add_many([BlobRow(_digest(i), 1, 1, 1, {}) for i in range(CHUNK * 2)])
    cols.settle()
    snap = cols.snapshot()
    asked = []

    def cancelled() -> bool:
        asked.append(1)
        return len(asked) > 1  # after the first chunk

    assert plan_delete(snap, list(range(snap.n)), lambda ds: referencing_in(snap, ds), cancelled) is None
