"""``pytest -m perf -s tests/perf/test_bench_df.py``: blobctl df against ctr and du (bench_df.py).

Sizes from BLOBSCOPE_BENCH_DF_IMAGES (default 5) and BLOBSCOPE_BENCH_DF_BLOBS (default 3000);
figures are printed (use ``-s``).  Nothing asserts a timing (design.md §8); it fails only when
blobctl's counts disagree with what ctr lists.
"""

from __future__ import annotations

import os

import pytest

pytestmark = [pytest.mark.perf, pytest.mark.integration, pytest.mark.timeout(3600)]


def test_bench_df():
    from tests.perf import bench_df

    assert bench_df.main([
        "--images", os.environ.get("BLOBSCOPE_BENCH_DF_IMAGES", "5"),
        "--blobs", os.environ.get("BLOBSCOPE_BENCH_DF_BLOBS", "3000"),
        "--runs", os.environ.get("BLOBSCOPE_BENCH_RUNS", "3"),
    ]) == 0
