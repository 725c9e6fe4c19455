"""How long the blobs table's sort worker keeps the GUI thread from the GIL, at a million rows.

Run: ``.venv/bin/python tests/perf/bench_sort_gil.py [N]`` (default 1000000).  A thread runs
``gui.blobs.view.sort_order`` over a snapshot of N rows (random sizes, random digests) while the
main thread sleeps 1 ms at a time and records its longest wait beyond that; the floor is the same
loop with no worker, for as long, in the same run.  Each figure is printed with its ratio.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from array import array
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from gui.blobs import view  # noqa: E402
from gui.blobs.columns import BlobColumns  # noqa: E402
from store.blob_batches import BlobBatch  # noqa: E402


def waits(seconds: float, done=None) -> float:
    """The longest time over 1 ms that a 1 ms sleep of this thread took, in ms."""
    worst, last, end = 0.0, time.perf_counter(), time.perf_counter() + seconds
    while (done is None and time.perf_counter() < end) or (done is not None and not done):
        time.sleep(0.001)
        now = time.perf_counter()
        worst = max(worst, now - last - 0.001)
        last = now
    return worst * 1e3


def _sort(snap, column: int, done: list[int]) -> None:
    view.sort_order(snap, column, False)
    done.append(1)


def main(argv: list[str]) -> int:
    n = int(argv[0]) if argv else 1_000_000
    cols = BlobColumns()
    cols.close()  # no indexer: this is about the sort
    cols.add_batch(BlobBatch("sha256", sizes=array("q", os.urandom(8 * n)), created_ns=array("q", [1]) * n,
                             updated_ns=array("q", [1]) * n, raw=os.urandom(32 * n)))
    for name, column in (("size", view.COL_SIZE), ("digest", view.COL_DIGEST)):
        for _ in range(2):
            snap = cols.snapshot()
            done: list[int] = []
            t = threading.Thread(target=_sort, args=(snap, column, done))
            t0 = time.perf_counter()
            t.start()
            worst = waits(0, done)
            took = time.perf_counter() - t0
            t.join()
            floor = waits(took)
            print(f"sort by {name}, {n} rows: {took:.2f} s; longest main-thread wait {worst:.1f} ms, "
                  f"floor (no worker) {floor:.1f} ms, ratio {worst / max(floor, 0.1):.1f}x; "
                  f"load {os.getloadavg()[0]:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
