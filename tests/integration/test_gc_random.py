"""Randomised GC scenarios: ``blobctl gc --dry-run --json`` against containerd's own GC.

Each scenario is a fresh private daemon driven through a short random sequence of the
operations of :class:`tests.support.gc_scenarios.Scenario` (images imported, shared, unpacked
or not, deleted; containers; snapshots; labels; leases with any expiry, flat or not; loose
blobs; stalled and leased ingests; two namespaces, two snapshotters), then proved with
:func:`tests.support.gc_scenarios.prove` (docs/gc-proof.md).

Case ``i`` runs seed ``BASE + i``; ``BASE`` is new on every run unless ``BLOBSCOPE_GC_SEED``
fixes it, so ``BLOBSCOPE_GC_SEED=<seed> BLOBSCOPE_GC_COUNT=1`` replays a failure exactly (the
seed is printed with the failing scenario's steps).  ``BLOBSCOPE_GC_COUNT`` (default 50) sets
how many scenarios run.  The test ids do not contain the seed, so pytest-xdist workers (each
drawing its own ``BASE``) collect the same tests.
"""

from __future__ import annotations

import os
import random
import shutil

import pytest

from tests.support.gc_scenarios import Scenario, new_daemon, prove, random_scenario

pytestmark = [pytest.mark.integration, pytest.mark.slow]

COUNT = int(os.environ.get("BLOBSCOPE_GC_COUNT", "50"))
BASE = int(os.environ.get("BLOBSCOPE_GC_SEED") or random.SystemRandom().randrange(1, 10**6))


@pytest.fixture(scope="module")
def images_dir(tmp_path_factory):
    """The OCI archives, built once and shared by every scenario."""
    return tmp_path_factory.mktemp("gc-images")


@pytest.mark.parametrize("case", range(COUNT), ids=[f"case{i}" for i in range(COUNT)])
def test_random_scenario(case, images_dir, tmp_path):
    seed = BASE + case
    print(f"seed {seed} (replay: BLOBSCOPE_GC_SEED={seed} BLOBSCOPE_GC_COUNT=1)")
    rng = random.Random(seed)
    with new_daemon(tmp_path) as d:
        sc = Scenario(d, images_dir, seed=seed)
        try:
            random_scenario(sc, rng, n_ops=rng.randint(5, 20))
        except Exception as exc:   # a step the daemon refused: show how the scenario got there
            raise AssertionError(f"building the scenario failed: {exc}\n{sc.describe()}") from exc
        proof = prove(sc, tmp_path / "root-copy")
    assert not proof.problems, proof.message()
    shutil.rmtree(tmp_path / "root-copy", ignore_errors=True)
