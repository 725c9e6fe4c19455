"""``pytest -m perf -s tests/perf/test_bench_delete_confirm.py``: Delete's question for a big
selection (bench_delete_confirm.py) and the unreferenced rows after one change (bench_unreferenced.py).

Sizes from BLOBSCOPE_BENCH_SIZES (default ``100000,1000000``); stores cached under
BLOBSCOPE_BENCH_CACHE.  Figures are printed with their peers and floors; nothing asserts a timing
(design.md §8).  They fail only when the question does not name every selected row, or the
adjusted unreferenced rows differ from the whole pass (asserted inside the benchmark).
"""

from __future__ import annotations

import json
import os

import pytest

pytestmark = [pytest.mark.perf, pytest.mark.timeout(7200),
              # the offscreen platform on every QMainWindow with docks (as tests/gui/conftest.py)
              pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")]


def _sizes() -> list[int]:
    return [int(s) for s in os.environ.get("BLOBSCOPE_BENCH_SIZES", "100000,1000000").split(",") if s]


def test_bench_delete_confirm():
    from tests.perf import bench_delete_confirm as B
    from tests.perf import bench_million

    for n in _sizes():
        result = B.measure(bench_million.ensure_store(n), n)
        print(json.dumps(result, indent=2))
        for key, r in result.items():
            if key.startswith("select_"):
                assert r["question"].startswith(f"Delete {r['selected']} blob(s)") and r["deleted_asked"] == r["selected"]


def test_bench_unreferenced():
    from tests.perf import bench_unreferenced

    for n in _sizes():
        result = bench_unreferenced.run(n)
        print(json.dumps(result, indent=2))
        assert result["rows"] == n
