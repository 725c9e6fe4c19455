"""``pytest -m perf -s tests/perf``: the store benchmarks (bench_store.py) under pytest.

Sizes come from BLOBSCOPE_BENCH_BLOBS (default 100000) and BLOBSCOPE_BENCH_MB (default 1024);
the figures and ratios are printed (use ``-s``).  Nothing here asserts a timing: a benchmark
is not a timed test (design.md §8); it fails only if a measurement itself goes wrong
(a count or digest that disagrees with containerd's Go code).
"""

from __future__ import annotations

import os

import pytest

pytestmark = [pytest.mark.perf, pytest.mark.timeout(7200)]


def test_bench_store():
    from tests.perf import bench_store

    runs = os.environ.get("BLOBSCOPE_BENCH_RUNS", "3")
    assert bench_store.main(["--runs", runs]) == 0
