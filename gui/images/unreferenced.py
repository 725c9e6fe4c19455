"""The image graph's unreferenced blobs as row numbers of the blobs table (gui/blobs/columns.py).

Worked out on the graph's worker from the columns snapshot the graph was built from, so Select
Unreferenced on a million blobs makes no row object and looks up no digest on the GUI thread:
it maps row numbers to visible rows (one C-level pass).  It is also the filter that shows only
those blobs, for when they are too scattered through the table to select in place (a Qt
selection of hundreds of thousands of ranges takes seconds to make and to paint).
"""

from __future__ import annotations

import time
from array import array
from itertools import compress
from typing import TYPE_CHECKING, Callable, Iterable

from ..blobs.filtering import Query

if TYPE_CHECKING:
    from ..blobs.columns import BlobColumns, ColumnsSnapshot
    from ..rows import BlobRow

YIELD_EVERY = 4096  # digests looked up between two GIL hand-offs to the GUI thread


class UnreferencedRows(Query):
    """One byte per row number of ``columns`` (as they were when the graph was built): 1 for a
    blob no root reaches.  Rows added since are not in it (the graph did not see them)."""

    def __init__(self, columns: BlobColumns, mask: bytes, count: int, size: int):
        self.columns = columns
        self._mask = mask
        self.count = count        # unreferenced blobs when the graph was built
        self.size = size          # their bytes
        self.text = ""

    def rids(self) -> array:
        """The row numbers of the unreferenced blobs still in the table, ascending."""
        alive = self.columns.alive
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
    rids = array("l", compress(range(snap.n), mask))
    size = sum(map(snap.sizes.__getitem__, rids))
    return UnreferencedRows(columns, bytes(mask), len(rids), size)
