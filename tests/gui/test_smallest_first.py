"""The media-type job's smallest-first order (gui/operations.py): the order one sort by size
gives, made without a single C sort over a big store's rows (one held the GIL 130-160 ms at 1M
blobs while the GUI thread waited)."""

from __future__ import annotations

import builtins
import random
import sys

from gui import operations


def _rows(rng: random.Random) -> list[tuple[str, int]]:
    rows = [(f"sha256:{i:064x}", rng.randrange(1 << 40)) for i in range(30_000)]  # spread wide
    rows += [(f"sha256:a{i:063x}", 1024 + rng.randrange(30_000)) for i in range(30_000)]  # crowded
    rows += [(f"sha256:b{i:063x}", rng.choice([0, 1, 255, 256, 511, 512, 4096])) for i in range(9_000)]  # ties
    rows += [(f"sha256:c{i:063x}", 777) for i in range(6_000)]  # more of one size than one sort takes
    rows += [(f"sha256:d{i:063x}", 0) for i in range(6_000)]
    rng.shuffle(rows)
    return rows


def test_the_order_is_one_sort_by_size_ties_kept_in_order():
    rows = _rows(random.Random(7))
    assert operations.smallest_first(rows) == [d for d, _size in sorted(rows, key=lambda r: r[1])]
    few = rows[:100]
    assert operations.smallest_first(few) == [d for d, _size in sorted(few, key=lambda r: r[1])]
    assert operations.smallest_first([]) == []


def test_no_single_sort_holds_the_gil_over_a_big_store_s_rows():
    rows = _rows(random.Random(8))
    sorts: list[int] = []
    sorted_calls: list[int] = []

    def hook(_frame, event, arg):
        if event == "c_call":
            if arg is builtins.sorted:
                sorted_calls.append(1)
            elif getattr(arg, "__name__", "") == "sort" and isinstance(getattr(arg, "__self__", None), list):
                sorts.append(len(arg.__self__))

    sys.setprofile(hook)
    try:
        operations.smallest_first(rows)
    finally:
        sys.setprofile(None)
    assert not sorted_calls
    assert sorts and max(sorts) <= operations.SORT_CHUNK < len(rows)
