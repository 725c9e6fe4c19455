"""``pytest -m perf -s tests/perf/test_bench_fleet_refresh.py``: a refresh of what changed against
listing every node (bench_fleet_refresh.py).  Sizes from BLOBSCOPE_BENCH_FLEET_NODES (default 8)
and BLOBSCOPE_BENCH_FLEET_BLOBS (default 10000).  Nothing asserts a timing (design.md §8); it
fails only when a listing or a refresh plan is wrong.
"""

from __future__ import annotations

import os

import pytest

pytestmark = [pytest.mark.perf, pytest.mark.integration, pytest.mark.timeout(3600)]


def test_bench_fleet_refresh():
    from tests.perf import bench_fleet_refresh

    assert bench_fleet_refresh.main([
        "--nodes", os.environ.get("BLOBSCOPE_BENCH_FLEET_NODES", "8"),
        "--blobs", os.environ.get("BLOBSCOPE_BENCH_FLEET_BLOBS", "10000"),
        "--runs", os.environ.get("BLOBSCOPE_BENCH_RUNS", "3"),
    ]) == 0
