"""``pytest -m perf -s tests/perf/test_bench_million_graph.py``: the window on a million blobs with
20k images (bench_million_graph.py): cold media types and graph, details pane, Select Unreferenced,
Delete of 100k of them, memory per blob.

Sizes from BLOBSCOPE_BENCH_SIZES (default ``1000000``); the store is built once and kept under
BLOBSCOPE_BENCH_CACHE (default ``~/.cache/blobscope-bench``).  Figures are printed (use ``-s``)
with their floors; nothing asserts a timing (design.md §8).  It fails only when the window shows
something else than the store holds (the images, the unreferenced set of a bare pass over
labels.db, the count left after the Delete).
"""

from __future__ import annotations

import json
import os

import pytest

pytestmark = [pytest.mark.perf, pytest.mark.timeout(7200)]


def test_bench_million_graph():
    from tests.perf import bench_million_graph

    sizes = [int(s) for s in os.environ.get("BLOBSCOPE_BENCH_SIZES", "1000000").split(",") if s]
    for n in sizes:
        result = bench_million_graph.run(n)
        print(json.dumps(result, indent=2))
        assert result["unreferenced_selected"] == result["unreferenced_expected"]
        assert result["delete_rows"] == min(bench_million_graph.DELETE, n // 10)
