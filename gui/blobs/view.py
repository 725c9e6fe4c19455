"""Which rows the blobs table shows, in which order: worked out on a worker from a snapshot.

:func:`compute` takes a :class:`~gui.blobs.columns.ColumnsSnapshot`, a query and a sort and
returns the visible row numbers in order plus, for each row number, its position (-1 when
hidden).  The GUI thread only swaps the result in.

Everything here keeps the GUI thread responsive while it runs: Python's GIL is handed over at
bytecode boundaries only, so no single C-level step (a ``sorted``, a ``bytes(map(...))``) may
run long.  Bulk steps go a chunk at a time, and a sort is a merge sort of sorted chunks whose
keys pack the column's key and the row number into one int (C compares ints quickly, and ties
keep the row order: a stable sort).
"""

from __future__ import annotations

import time
from array import array
from bisect import bisect_left
from itertools import compress
from typing import TYPE_CHECKING, Callable

from .columns import STRIDE

if TYPE_CHECKING:
    from .columns import ColumnsSnapshot
    from .filtering import Query

COL_DIGEST, COL_SIZE, COL_MEDIA, COL_LABELS, COL_CREATED, COL_UPDATED = range(6)
CHUNK = 32768  # items per C-level step (about a millisecond each)

Check = Callable[[], None]


def _never() -> None:
    return None


def _keys(snap: ColumnsSnapshot, column: int) -> Callable[[int, int], list[int]]:
    """A function giving the integer sort keys of rows [a, b) of ``column``."""
    if column == COL_SIZE:
        return lambda a, b: snap.sizes[a:b].tolist()
    if column == COL_CREATED:
        return lambda a, b: snap.created[a:b].tolist()
    if column == COL_UPDATED:
        return lambda a, b: snap.updated[a:b].tolist()
    if column in (COL_MEDIA, COL_LABELS):
        texts = snap.tables.media if column == COL_MEDIA else snap.tables.label_texts
        ids = snap.mids if column == COL_MEDIA else snap.lids
        rank = [0] * len(texts)
        for r, i in enumerate(sorted(range(len(texts)), key=texts.__getitem__)):
            rank[i] = r
        return lambda a, b: list(map(rank.__getitem__, ids[a:b]))
    if column == COL_DIGEST:
        if snap.others:  # another algorithm than sha256: rank every digest's text (rare)
            order = sorted(range(snap.n), key=snap.digest_of)
            rank = [0] * snap.n
            for r, i in enumerate(order):
                rank[i] = r
            return lambda a, b: rank[a:b]
        keys = snap.digests
        return lambda a, b: [int.from_bytes(keys[i * STRIDE:(i + 1) * STRIDE], "big") for i in range(a, b)]
    raise ValueError(column)


def sort_order(snap: ColumnsSnapshot, column: int, descending: bool, check: Check = _never) -> array:
    """Every row number (dead ones too) sorted by ``column``, ties in row order; cached on ``snap``."""
    cached = snap.cache.get((column, descending))
    if cached is not None:
        return cached
    n = snap.n
    shift = max(1, n.bit_length())
    mask = (1 << shift) - 1
    keys = _keys(snap, column)
    if column == COL_DIGEST and not snap.others:
        out = _sort_digests(keys, n, shift, mask, descending, check)
        snap.cache[(column, descending)] = out
        return out
    runs: list[list[int]] = []
    for a in range(0, n, CHUNK):
        check()
        b = min(n, a + CHUNK)
        ks = keys(a, b)
        if descending:
            packed = [(-k << shift) | i for i, k in enumerate(ks, a)]
        else:
            packed = [(k << shift) | i for i, k in enumerate(ks, a)]
        packed.sort()
        runs.append(packed)
        time.sleep(0)  # hand the GIL over between chunks: the GUI thread is waiting for it
    out = _merge_runs(runs, mask, check)
    snap.cache[(column, descending)] = out
    return out


def _merge_runs(runs: list[list[int]], mask: int, check: Check) -> array:
    """The sorted runs (distinct values) merged into one array of ``v & mask``, a piece of about
    CHUNK values at a time: a piece is every run's values below the next splitter (found by
    bisection), sorted; no C-level step is longer than a chunk's (merging whole runs with one
    ``list.sort`` held the GIL for tens of ms at a million rows, and the GUI thread waited)."""
    if not runs:
        return array("l")
    total = sum(len(r) for r in runs)
    stride = 64
    sample = sorted(v for r in runs for v in r[::stride])
    step = max(1, CHUNK // stride)
    splitters = sample[step::step]
    out = array("l")
    pos = [0] * len(runs)
    for t in splitters + [None]:
        check()
        piece: list[int] = []
        for j, r in enumerate(runs):
            e = len(r) if t is None else bisect_left(r, t, pos[j])
            piece += r[pos[j]:e]
            pos[j] = e
        piece.sort()
        out.extend([v & mask for v in piece])
        time.sleep(0)
    assert len(out) == total
    while runs:  # freed a run at a time: no long deallocation holding the GIL
        runs.pop()
        check()
    return out


def _sort_digests(keys, n: int, shift: int, mask: int, descending: bool, check: Check) -> array:
    """Digests are uniform: 256 buckets by their first byte, each a short sort, visited in order
    (the final merge of a million 256-bit keys would be one long C call)."""
    top = 8 * STRIDE - 8
    buckets: list[list[int]] = [[] for _ in range(256)]
    for a in range(0, n, CHUNK):
        check()
        for i, k in enumerate(keys(a, min(n, a + CHUNK)), a):
            buckets[k >> top].append(((-k if descending else k) << shift) | i)
    out = array("l")
    for b in (reversed(buckets) if descending else buckets):
        check()
        time.sleep(0)  # hand the GIL over between buckets
        b.sort()
        out.extend([v & mask for v in b])
        b.clear()  # a million ints freed at once would hold the GIL for tens of ms
    return out


def visible_mask(snap: ColumnsSnapshot, query: Query | None, check: Check = _never) -> bytes:
    """One byte per row number: 1 for a live row the query accepts."""
    if query is None:
        return snap.alive
    m = query.mask(snap, check)
    n = snap.n
    return (int.from_bytes(m, "little") & int.from_bytes(snap.alive, "little")).to_bytes(n, "little")


def compute(snap: ColumnsSnapshot, query: Query | None, column: int, descending: bool,
            check: Check = _never) -> tuple[array, array]:
    """(visible row numbers in display order, position of each row number or -1)."""
    mask = visible_mask(snap, query, check)
    n = snap.n
    order = array("l")
    if column >= 0:
        perm = sort_order(snap, column, descending, check)
        for a in range(0, n, CHUNK):
            check()
            part = perm[a:a + CHUNK]
            order.extend(compress(part, map(mask.__getitem__, part)))
    else:
        for a in range(0, n, CHUNK):
            check()
            order.extend(compress(range(a, min(n, a + CHUNK)), mask[a:a + CHUNK]))
    return order, positions(order, n, check)


def positions(order: array, n: int, check: Check = _never) -> array:
    where = array("l", [-1]) * n
    for a in range(0, len(order), CHUNK):
        check()
        for p, rid in enumerate(order[a:a + CHUNK], a):
            where[rid] = p
    return where
