"""``pytest -m perf -s tests/perf/test_bench_containerd.py``: ContainerdStore vs ctr (bench_containerd.py).

Sizes from BLOBSCOPE_BENCH_CTRD_BLOBS (default 10000) and BLOBSCOPE_BENCH_CTRD_MB (default 500);
figures are printed (use ``-s``).  Nothing asserts a timing (design.md §8); it fails only
when a listing or a digest disagrees with what was written.
"""

from __future__ import annotations

import os

import pytest

pytestmark = [pytest.mark.perf, pytest.mark.integration, pytest.mark.timeout(3600)]


def test_bench_containerd():
    from tests.perf import bench_containerd

    assert bench_containerd.main([
        "--blobs", os.environ.get("BLOBSCOPE_BENCH_CTRD_BLOBS", "10000"),
        "--mb", os.environ.get("BLOBSCOPE_BENCH_CTRD_MB", "500"),
        "--runs", os.environ.get("BLOBSCOPE_BENCH_RUNS", "2"),
    ]) == 0
