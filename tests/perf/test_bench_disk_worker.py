"""``pytest -m perf -s tests/perf/test_bench_disk_worker.py``: the Disk tab's analysis of a real
100k-record root on a worker, before and after store/disk's GIL hand-overs (bench_disk_worker.py).

Figures are printed (use ``-s``).  Nothing asserts a timing (design.md §8); it fails only when
the two analyses disagree or the tree is not the root's.
"""

from __future__ import annotations

import os

import pytest

pytestmark = [pytest.mark.perf, pytest.mark.timeout(3600)]


def test_bench_disk_worker():
    from tests.perf import bench_disk_worker

    assert bench_disk_worker.main(["--rounds", os.environ.get("BLOBSCOPE_BENCH_RUNS", "2")]) == 0
