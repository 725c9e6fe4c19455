"""Big tables freed a chunk at a time (gui/drain.py): emptied, everything they alone held
freed, and a graph dismantled after its copy was written leaves the copy answering as it did."""

from __future__ import annotations

import gc
import weakref

from gui import drain as D
from store import LocalStore, graph_copy, oci
from store import graph as G
from tests.support.image_store import populate
from tests.unit.test_graph_update import canon


class _Held:
    pass


def test_drained_tables_are_empty_and_free_what_they_held(monkeypatch):
    monkeypatch.setattr(D, "CHUNK", 7)
    held = [_Held() for _ in range(100)]
    refs = [weakref.ref(h) for h in held]
    tables = [{i: h for i, h in enumerate(held)}, list(held), set(held)]
    del held
    for t in tables:
        D.drain(t)
        assert len(t) == 0
    gc.collect()
    assert all(r() is None for r in refs)
    D.drain((1, 2))  # anything else is left as it is


def test_a_dismantled_graph_is_empty_and_its_copy_answers_as_it_did(tmp_path, monkeypatch):
    monkeypatch.setattr(D, "CHUNK", 16)
    populate(tmp_path / "images", 300, 12)
    store = LocalStore(tmp_path / "images" / "content")
    g = G.load_graph(store, oci.MediaTypeCache(tmp_path / "c.db"))
    g.images()
    before = canon(g)
    copy = graph_copy.from_bytes(graph_copy.to_bytes(g))
    big = [v for v in list(vars(g).values()) + [getattr(g.facts, n) for n in type(g.facts).__slots__]
           if isinstance(v, (dict, list, set)) and len(v) > D.CHUNK]
    assert len(big) >= 3
    D.dismantle(g)
    assert all(len(v) == 0 for v in big)
    assert canon(copy) == before
