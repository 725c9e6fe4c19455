"""``pytest -m perf -s tests/perf/test_bench_gc.py``: the GC dry run on 100k blobs, 5k images, 10k
snapshots and 1k leases against containerd's own GC on the same meta.db (bench_gc.py).

Figures are printed (use ``-s``).  Nothing asserts a timing (design.md §8); it fails only when the
prediction disagrees with containerd's GC or the model read back has the wrong counts.
"""

from __future__ import annotations

import os

import pytest

pytestmark = [pytest.mark.perf, pytest.mark.timeout(3600)]


def test_bench_gc():
    from tests.perf import bench_gc

    assert bench_gc.main(["--runs", os.environ.get("BLOBSCOPE_BENCH_RUNS", "3")]) == 0
