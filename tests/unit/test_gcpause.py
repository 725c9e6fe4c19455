"""store.gcpause.paused_gc (media types, the graph, a listing): a block that leaves a big result
is frozen out of the cyclic collector before it is enabled again (else its first passes walk it
all with the GIL held: 200 ms each at 100k blobs, a frozen window), a small one is not."""

from __future__ import annotations

import gc

from store import gcpause


def test_a_big_result_is_frozen_a_small_one_is_not_and_the_collector_comes_back():
    before = gc.get_freeze_count()
    try:
        assert gc.isenabled()
        with gcpause.paused_gc():
            assert not gc.isenabled()
            small = [[i] for i in range(1000)]
        assert gc.isenabled() and gc.get_freeze_count() == before
        with gcpause.paused_gc():
            big = [[i] for i in range(gcpause.FREEZE_ABOVE + 10)]
        assert gc.isenabled() and gc.get_freeze_count() >= before + gcpause.FREEZE_ABOVE
        gc.disable()
        with gcpause.paused_gc():  # nested in code that turned it off: it stays off
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
        gc.unfreeze()  # the rest of the test process keeps its ordinary collector
    del small, big
