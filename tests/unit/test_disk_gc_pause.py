"""store.disk.metadata.paused_gc: a block that leaves a big result is frozen out of the cyclic
collector (else the first collection after it walks it all with the GIL held: a GUI stall),
a small one is not, and ``freeze=False`` never freezes."""

from __future__ import annotations

import gc

from store.disk import metadata


def test_big_result_is_frozen_small_is_not():
    before = gc.get_freeze_count()
    try:
        _blocks(before)
    finally:
        gc.unfreeze()  # the rest of the test process keeps its ordinary collector


def _blocks(before: int) -> None:
    with metadata.paused_gc():
        small = [[i] for i in range(1000)]
    assert gc.get_freeze_count() == before
    with metadata.paused_gc(freeze=False):
        big = [[i] for i in range(metadata.FREEZE_ABOVE + 10)]
    assert gc.get_freeze_count() == before
    assert gc.isenabled()
    with metadata.paused_gc():
        assert not gc.isenabled()
        bigger = [[i] for i in range(metadata.FREEZE_ABOVE + 10)]
    assert gc.isenabled()
    assert gc.get_freeze_count() >= before + metadata.FREEZE_ABOVE
    del small, big, bigger
