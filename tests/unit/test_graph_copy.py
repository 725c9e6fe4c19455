"""A graph written out and read back (store/graph_copy.py, the window's last step of a build at
1M blobs, so that the graph's objects sit together in memory) answers every question as the
graph it copies, and can be updated as it could."""

from __future__ import annotations

import json
import pickle
import random

import pytest

from store import Digest, Info, LocalStore, errors, graph_copy, oci
from store import graph as G
from tests.support.image_store import populate
from tests.unit.test_graph_update import canon, put


@pytest.fixture
def store(tmp_path) -> LocalStore:
    populate(tmp_path / "images", 300, 12)
    return LocalStore(tmp_path / "images" / "content")


@pytest.fixture(params=[7, 4096], ids=["small-chunks", "default-chunks"])
def chunk(request, monkeypatch):
    monkeypatch.setattr(graph_copy, "CHUNK", request.param)
    return request.param


def labelled(store: LocalStore) -> None:
    """Every kind of label fact on a few blobs: roots, snapshots, sources, a bad reference."""
    present = sorted(i.digest for i in store.walk())
    rng = random.Random(4)
    for d, labels in zip(rng.sample(present, 5), [
            {"containerd.io/gc.root": "2026-12-08"},
            {"containerd.io/gc.ref.snapshot.overlayfs": "key-1", "containerd.io/uncompressed": str(present[0])},
            {"containerd.io/distribution.source.example.com": "a/b,c/d"},
            {"containerd.io/gc.ref.content.l.9": "not-a-digest"},
            {"containerd.io/gc.bref.content.m.3": str(present[1])}]):
        info = store.info(d)
        store.update(Info(d, info.size, info.created_at, info.updated_at, labels), *[f"labels.{k}" for k in labels])


def test_a_copy_answers_as_the_graph(store, tmp_path, chunk):
    labelled(store)
    cache = oci.MediaTypeCache(tmp_path / "c.db")
    g = G.load_graph(store, cache, extra_roots={str(next(iter(store.walk())).digest): ["example.com/a:1"]})
    g.images()
    before = canon(g)
    data = graph_copy.to_bytes(g)
    assert canon(g) == before  # left as it was
    copy = graph_copy.from_bytes(data)
    assert copy is not g and canon(copy) == before
    assert copy.edge_count == g.edge_count and copy.ingest_count == g.ingest_count
    assert copy.image_roots() == g.image_roots() and copy.cycles() == g.cycles()
    assert len(copy.sizes.plain) == len(g.sizes.plain) > 100
    # shared objects stay shared: one Digest object per blob, whichever table names it
    keys = {id(d) for d in copy.sizes.dict}
    edges = [k for lst in copy._children.values() for k in lst]  # the edges live in the lists alone
    assert len(edges) == copy.edge_count and all(id(k[0]) in keys for k in edges if k[0] in copy.sizes.dict)


def test_a_copy_is_updated_as_the_graph_would_be(store, tmp_path, chunk):
    cache = oci.MediaTypeCache(tmp_path / "c.db")
    g = graph_copy.from_bytes(graph_copy.to_bytes(G.load_graph(store, cache)))
    plain = sorted(g.sizes.plain)
    layer = next(d for d, (_mt, kind) in sorted(g.blob_types().items()) if kind == "layer")
    doc = {"schemaVersion": 2, "mediaType": oci.OCI_MANIFEST,
           "config": {"mediaType": oci.OCI_CONFIG, "digest": str(plain[0]), "size": g.sizes[plain[0]]},
           "layers": [{"mediaType": oci.OCI_LAYER_GZIP, "digest": str(layer), "size": g.sizes[layer]}]}
    m = put(store, json.dumps(doc).encode(), {"containerd.io/gc.ref.content.l.1": str(plain[1])})
    store.delete(plain[2])
    updated = g.updated(store, cache, [store.info(m)], [str(plain[2])])
    full = G.load_graph(store, oci.MediaTypeCache(tmp_path / "c2.db"))
    assert canon(updated) == canon(full)
    assert m in updated.roots and plain[0] in updated.reachable and plain[1] in updated.reachable


def test_digests_and_descriptors_pickle_as_themselves():
    d = Digest.from_bytes(b"x")
    back = pickle.loads(pickle.dumps(d))
    assert type(back) is Digest and back == d and back.encoded == d.encoded
    desc = oci.Descriptor("layer", 3, d, 12, oci.OCI_LAYER_GZIP, oci.Platform("linux", "amd64"),
                          {"a": "b"}, "art")
    back_desc = pickle.loads(pickle.dumps(desc))
    assert type(back_desc) is oci.Descriptor and back_desc == desc and back_desc.name == "l.3"
    assert type(back_desc.digest) is Digest


def test_a_graph_without_facts_is_refused(store, tmp_path):
    g = G.load_graph(store, oci.MediaTypeCache(tmp_path / "c.db"))
    g.facts = None
    with pytest.raises(errors.FailedPrecondition):
        graph_copy.to_bytes(g)


def test_a_cancelled_copy_stops(store, tmp_path, monkeypatch):
    monkeypatch.setattr(graph_copy, "CHUNK", 7)
    g = G.load_graph(store, oci.MediaTypeCache(tmp_path / "c.db"))
    with pytest.raises(errors.Cancelled):
        graph_copy.to_bytes(g, cancel=lambda: True)
    data = graph_copy.to_bytes(g)
    with pytest.raises(errors.Cancelled):
        graph_copy.from_bytes(data, cancel=lambda: True)
