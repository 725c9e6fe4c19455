"""``pytest -m perf -s tests/perf/test_bench_million.py``: the window on a million blobs (bench_million.py).

Sizes from BLOBSCOPE_BENCH_SIZES (default ``100000,1000000``); the stores are built once and kept
under BLOBSCOPE_BENCH_CACHE (default ``~/.cache/blobscope-bench``).  Figures are printed (use
``-s``) with their floors; nothing asserts a timing (design.md §8).  It fails only when the window
does not show what the store holds (every blob listed, each filter's rows equal to the bare
loop's, a Delete that removed exactly the selected rows).
"""

from __future__ import annotations

import json
import os

import pytest

pytestmark = [pytest.mark.perf, pytest.mark.timeout(7200)]


def test_bench_million():
    from tests.perf import bench_million

    sizes = [int(s) for s in os.environ.get("BLOBSCOPE_BENCH_SIZES", "100000,1000000").split(",") if s]
    for n in sizes:
        result = bench_million.run(n)
        print(json.dumps(result, indent=2))
        assert result["blobs"] == n and result["delete_rows"] == min(bench_million.DELETE, n // 10)
