"""A graph update of a big store leaves its copied tables out of the cyclic collector's sight.

Graph.updated copies the graph's tables (dicts of 100k-1M entries at 1M blobs): a few objects,
but the collector traverses every entry of each.  The first collection after the update, even
of the youngest generation alone, walked them with the GIL held: a 210 ms stall of the window
after a Delete of 100k rows at 1M blobs (tests/perf/RESULTS.md).
"""

from __future__ import annotations

import gc

from gui.images import graph_update
from store import LocalStore, oci
from store import graph as G
from tests.support.image_store import populate


class _Job:
    cancelled = False


def test_an_update_of_a_big_graph_is_frozen_out_of_the_collector(tmp_path, monkeypatch):
    populate(tmp_path / "images", 300, 12)
    store = LocalStore(tmp_path / "images" / "content")
    cache_path = tmp_path / "c.db"
    g = G.load_graph(store, oci.MediaTypeCache(cache_path))
    unreachable = sorted(g.reclaimable())
    store.delete(unreachable[0])
    monkeypatch.setattr(graph_update, "FREEZE_ABOVE", len(g.sizes))  # "a big store": this one
    rows = {str(i.digest): i for i in store.walk()}
    try:
        new = graph_update.update_graph(store, g, rows, {str(unreachable[0])}, _Job())
        assert unreachable[0] not in new.sizes and len(new.sizes) == len(g.sizes) - 1
        young = {id(o) for o in gc.get_objects()}
        assert gc.isenabled()
        for table in (new.facts.sizes, new.facts.types, new._children, new._parents):
            assert id(table) not in young
        # a small store's update is left to the collector as it is
        monkeypatch.setattr(graph_update, "FREEZE_ABOVE", len(g.sizes) + 1)
        store.delete(unreachable[1])
        newer = graph_update.update_graph(store, new, rows, {str(unreachable[1])}, _Job())
        # (the edges live in the children and parents tuples; the facts' own edges dict is empty
        # once the graph is made, and an empty dict is never tracked)
        assert id(newer._children) in {id(o) for o in gc.get_objects()}
    finally:
        gc.unfreeze()
