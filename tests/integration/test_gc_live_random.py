"""Randomised scenarios: the live GC dry run through the daemon equals the one on a copy of its root.

Each case builds a random scenario (:func:`tests.support.gc_scenarios.random_scenario`) on a
fresh private daemon, then compares ``blobctl -a ADDRESS gc --dry-run --json`` with ``blobctl
--root COPY gc --dry-run --json`` (:mod:`tests.support.gc_live`).  Case ``i`` runs seed ``BASE +
i``; ``BLOBSCOPE_GC_LIVE_SEED`` fixes ``BASE``, ``BLOBSCOPE_GC_LIVE_COUNT`` (default 20) the number.
"""

from __future__ import annotations

import os
import random

import pytest

from tests.support.gc_live import differences, live_vs_copy
from tests.support.gc_scenarios import Scenario, new_daemon, random_scenario

pytestmark = [pytest.mark.integration, pytest.mark.slow]

COUNT = int(os.environ.get("BLOBSCOPE_GC_LIVE_COUNT", "20"))
BASE = int(os.environ.get("BLOBSCOPE_GC_LIVE_SEED") or random.SystemRandom().randrange(1, 10**6))


@pytest.fixture(scope="module")
def images_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("gc-live-images")


@pytest.mark.parametrize("case", range(COUNT), ids=[f"case{i}" for i in range(COUNT)])
def test_random_live_equals_copy(case, images_dir, tmp_path):
    seed = BASE + case
    print(f"seed {seed} (replay: BLOBSCOPE_GC_LIVE_SEED={seed} BLOBSCOPE_GC_LIVE_COUNT=1)")
    rng = random.Random(seed)
    with new_daemon(tmp_path) as d:
        sc = Scenario(d, images_dir, seed=seed)
        try:
            random_scenario(sc, rng, n_ops=rng.randint(5, 20))
        except Exception as exc:
            raise AssertionError(f"building the scenario failed: {exc}\n{sc.describe()}") from exc
        live, offline = live_vs_copy(d, tmp_path / "root-copy")
    explained: list[str] = []
    found = differences(live, offline, explained)
    for line in explained:
        print("explained:", line)
    assert not found, "\n".join(found[:40]) + "\n" + sc.describe()
