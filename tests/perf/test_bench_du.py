"""``pytest -m perf -s tests/perf/test_bench_du.py``: store.disk.du against GNU du (bench_du.py).

Nothing here asserts a timing; it fails only if the two totals disagree.
"""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.perf, pytest.mark.timeout(3600)]


def test_bench_du():
    from tests.perf import bench_du

    assert bench_du.main(["--runs", "5"]) == 0
