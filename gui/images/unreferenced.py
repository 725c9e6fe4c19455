"""The image graph's unreferenced blobs as row numbers of the blobs table (gui/blobs/columns.py).

Worked out on the graph's worker from the columns snapshot the graph was built from, so Select
Unreferenced on a million blobs makes no row object and looks up no digest on the GUI thread:
it maps row numbers to visible rows (one C-level pass).  It is also the filter that shows only
those blobs, for when they are too scattered through the table to select in place (a Qt
selection of hundreds of thousands of ranges takes seconds to make and to paint).

After a graph update (a commit, a delete, a label edit) the previous answer is adjusted rather
than worked out again (:func:`updated_unreferenced`): only the changed digests and the blobs
whose reachability may have changed are looked at.  A blob's reachability changes only through
an edge or a root that changed, and an edge belongs to a changed blob (the parent of a
``gc.ref``, the child of a ``gc.bref``, the manifest that lists it), so every such blob is reached
from a changed blob or a changed root in the old graph or in the new one (design.md §5.2).
"""

from __future__ import annotations

import time
from array import array
from itertools import compress
from typing import TYPE_CHECKING, Callable, Iterable

from ..blobs.filtering import Query

if TYPE_CHECKING:
    from store.graph import Graph

    from ..blobs.columns import BlobColumns, ColumnsSnapshot
    from ..rows import BlobRow

YIELD_EVERY = 4096  # digests looked up between two GIL hand-offs to the GUI thread
SLICE = 65536       # rows of a mask turned into row numbers (one C-level pass) between two hand-offs
MAX_AFFECTED = 0.25  # more of the rows than this to look at again: the whole pass is as quick


class UnreferencedRows(Query):
    """One byte per row number of ``columns`` (as they were when the graph was built): 1 for a
    blob no root reaches.  Rows added since are not in it (the graph did not see them)."""

    def __init__(self, columns: BlobColumns, mask: bytes, count: int, size: int,
                 snap: ColumnsSnapshot | None = None, looked_at: int | None = None,
                 rids: array | None = None):
        self.columns = columns
        self._mask = mask
        # the row numbers of the mask, worked out on the worker, and which rows were alive then:
        # while no row of them has died since, :meth:`rids` is these (no pass over a million
        # rows on the GUI thread: 100 ms at 1M)
        self._rids = rids
        self._alive = snap.alive if rids is not None and snap is not None else None
        self.count = count        # unreferenced blobs when the graph was built
        self.size = size          # their bytes
        self.text = ""
        self.snap = snap          # the snapshot the mask is of (an update finds old rows in it)
        self.looked_at = looked_at  # digests an update looked at; None: worked out over every row

    def rids(self) -> array:
        """The row numbers of the unreferenced blobs still in the table, ascending."""
        alive = self.columns.alive
        if self._rids is not None and self._alive is not None and alive[:len(self._mask)] == self._alive[:len(self._mask)]:
            return self._rids
        rids = array("l", compress(range(len(self._mask)), self._mask))
        return array("l", compress(rids, map(alive.__getitem__, rids)))

    # ---- as a filter (Query): only the unreferenced blobs
    def __call__(self, row: BlobRow) -> bool:
        rid = self.columns.find(row.digest)
        return 0 <= rid < len(self._mask) and bool(self._mask[rid])

    def mask(self, snap: ColumnsSnapshot, check: Callable[[], None] = lambda: None) -> bytes:
        m = self._mask
        return m[:snap.n] if len(m) >= snap.n else m + bytes(snap.n - len(m))


def unreferenced_rows(columns: BlobColumns, snap: ColumnsSnapshot, reachable: Iterable[str],
                      cancelled: Callable[[], bool]) -> UnreferencedRows | None:
    """The live rows of ``snap`` (a snapshot of ``columns``) whose digest is not in ``reachable``
    (the graph's reachable blobs); None when cancelled.  Runs on a worker."""
    mask = bytearray(snap.alive)
    find = snap.find
    for i, d in enumerate(reachable):
        if not i % YIELD_EVERY:
            if cancelled():
                return None
            time.sleep(0)  # let the GUI thread paint between chunks
        rid = find(d)
        if rid >= 0:
            mask[rid] = 0
    rids, size = _rids_and_size(mask, snap, cancelled)
    if rids is None:
        return None
    return UnreferencedRows(columns, bytes(mask), len(rids), size, snap, rids=rids)


def _rids_and_size(mask, snap: ColumnsSnapshot, cancelled: Callable[[], bool]) -> tuple[array | None, int]:
    """The row numbers ``mask`` marks and their bytes, a slice at a time: in one go, each was a
    C-level pass over a million rows holding the GIL (30-60 ms of a stalled GUI thread)."""
    rids = array("l")
    size = 0
    sizes = snap.sizes
    for start in range(0, len(mask), SLICE):
        if cancelled():
            return None, 0
        part = array("l", compress(range(start, min(start + SLICE, len(mask))), mask[start:start + SLICE]))
        size += sum(map(sizes.__getitem__, part))
        rids.extend(part)
        time.sleep(0)
    return rids, size


def updated_unreferenced(prev: UnreferencedRows, before: Graph, graph: Graph, snap: ColumnsSnapshot,
                         changed: Iterable[str], cancelled: Callable[[], bool]) -> UnreferencedRows | None:
    """``prev`` (the answer for ``before`` over ``prev.snap``) adjusted to ``graph``, the graph
    ``before`` became once the blobs of ``changed`` changed, over ``snap``: equal to
    :func:`unreferenced_rows` of ``graph`` over ``snap``, in proportion to the change.  None when it
    cannot be (other columns, no previous snapshot, cancelled) or would cost as much: the caller
    works it out over every row."""
    old = prev.snap
    if old is None or old.origin() is not snap.origin() or old.n > snap.n:
        return None
    start = set(changed)
    start.update(before.roots.keys() ^ graph.roots.keys())  # image records renamed, tops that changed
    if old.n < snap.n:  # rows appended since (they are among the changes; a listing builds anew)
        start.update(snap.digests_of(range(old.n, snap.n)))
    limit = max(1024, int(snap.n * MAX_AFFECTED))
    seen = set(start)
    for g in (before, graph):
        todo = list(start)
        while todo:
            for e in g.children(todo.pop()):
                if e.child not in seen:
                    seen.add(e.child)
                    todo.append(e.child)
            if len(seen) > limit:
                return None
        if cancelled():
            return None
    mask = bytearray(prev._mask)
    mask.extend(bytes(snap.n - len(mask)))
    count, size = prev.count, prev.size
    reachable = graph.reachable
    for i, d in enumerate(seen):
        if not i % YIELD_EVERY and cancelled():
            return None
        was = old.find(d)
        if was >= 0 and mask[was]:
            mask[was] = 0
            count -= 1
            size -= old.sizes[was]
        rid = snap.find(d)
        if rid >= 0 and d not in reachable:
            mask[rid] = 1
            count += 1
            size += snap.sizes[rid]
    rids, _size = _rids_and_size(mask, snap, cancelled)
    if rids is None:
        return None
    return UnreferencedRows(prev.columns, bytes(mask), count, size, snap, looked_at=len(seen), rids=rids)
