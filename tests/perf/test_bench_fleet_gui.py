"""``pytest -m perf -s tests/perf/test_bench_fleet_gui.py``: the Fleet tab against the library
(bench_fleet_gui.py).

Sizes from BLOBSCOPE_BENCH_FLEET_NODES (default 8) and BLOBSCOPE_BENCH_FLEET_BLOBS (default
10000); figures are printed (use ``-s``).  Nothing asserts a timing (design.md §8); it fails only
when a count disagrees with what was written.
"""

from __future__ import annotations

import os

import pytest

pytestmark = [pytest.mark.perf, pytest.mark.integration, pytest.mark.timeout(3600)]


def test_bench_fleet_gui(qapp):
    from tests.perf import bench_fleet_gui

    assert bench_fleet_gui.main([
        "--nodes", os.environ.get("BLOBSCOPE_BENCH_FLEET_NODES", "8"),
        "--blobs", os.environ.get("BLOBSCOPE_BENCH_FLEET_BLOBS", "10000"),
        "--runs", os.environ.get("BLOBSCOPE_BENCH_RUNS", "2"),
    ]) == 0
