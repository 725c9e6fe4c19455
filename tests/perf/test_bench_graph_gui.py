"""``pytest -m perf -s tests/perf/test_bench_graph_gui.py``: the cold image graph as the window builds
it (bench_graph_gui.py), beside blobctl's forked classify + build and the floors of the same run.

Runs from BLOBSCOPE_BENCH_RUNS (default 2), blobs from BLOBSCOPE_BENCH_BLOBS (default 100000);
figures are printed (use ``-s``).  Nothing asserts a timing (design.md §8); it fails only when the
window's graph does not describe the store (images, blobs, edges against blobctl's graph).
"""

from __future__ import annotations

import os

import pytest

pytestmark = [pytest.mark.perf, pytest.mark.timeout(3600)]


def test_bench_graph_gui():
    from tests.perf import bench_graph_gui

    assert bench_graph_gui.main(["--runs", os.environ.get("BLOBSCOPE_BENCH_RUNS", "2")]) == 0
