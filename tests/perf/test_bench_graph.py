"""``pytest -m perf -s tests/perf/test_bench_graph.py``: time to a complete reference graph (bench_graph.py).

Sizes from BLOBSCOPE_BENCH_BLOBS (default 100000); figures are printed (use ``-s``).  Nothing
asserts a timing (design.md §8); it fails only when the graph does not describe the
store that was built (wrong image, manifest or edge counts).
"""

from __future__ import annotations

import os

import pytest

pytestmark = [pytest.mark.perf, pytest.mark.timeout(3600)]


def test_bench_graph():
    from tests.perf import bench_graph

    assert bench_graph.main(["--runs", os.environ.get("BLOBSCOPE_BENCH_RUNS", "3")]) == 0
