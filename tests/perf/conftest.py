"""Benchmarks run only when asked for (``pytest -m perf``); the default suite deselects them."""

from __future__ import annotations

import sys
from pathlib import Path

_REPO = Path(__file__).resolve().parents[2]
if str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    # addopts selects `not slow`, which would let perf in; a benchmark must be requested by name.
    if "perf" in (config.getoption("markexpr") or ""):
        return
    keep, drop = [], []
    for item in items:
        in_perf = _HERE in Path(str(item.fspath)).resolve().parents
        (drop if in_perf and item.get_closest_marker("perf") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
