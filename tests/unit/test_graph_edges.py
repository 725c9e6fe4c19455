"""A graph's edges kept in its children and parents lists alone (no dict of them beside): an update
changes them as a rebuild would, the count included, for a parent of many children too."""

from __future__ import annotations

import json
import random

from store import Digest, Info, LocalStore, oci
from store import graph as G
from tests.unit.test_graph_update import put


def relabel(store: LocalStore, d: Digest, labels: dict) -> None:
    info = store.info(d)
    store.update(Info(d, info.size, info.created_at, info.updated_at, labels),
                 *{f"labels.{k}" for k in [*info.labels, *labels]})


def edges(g: G.Graph) -> list:
    return sorted((str(e.parent), str(e.child), e.name, e.sources)
                  for lst in g._children.values() for e in g.children(lst[0][0]))


def rebuilt(store: LocalStore, tmp_path) -> G.Graph:
    return G.load_graph(store, oci.MediaTypeCache(tmp_path / f"r-{random.random()}.db"))


def test_an_index_of_many_relabelled_and_its_manifests_deleted_updates_as_a_rebuild(tmp_path):
    store = LocalStore(tmp_path / "content")
    cfg = put(store, b'{"architecture":"amd64","os":"linux","rootfs":{}}')
    manifests = [put(store, json.dumps({"schemaVersion": 2, "mediaType": oci.OCI_MANIFEST, "n": i,
                                        "config": {"mediaType": oci.OCI_CONFIG, "digest": str(cfg), "size": 50},
                                        "layers": []}).encode(),
                     {"containerd.io/gc.ref.content.config": str(cfg)}) for i in range(40)]
    doc = {"schemaVersion": 2, "mediaType": oci.OCI_INDEX, "manifests": [
        {"mediaType": oci.OCI_MANIFEST, "digest": str(m), "size": 10} for m in manifests]}
    labels = {f"containerd.io/gc.ref.content.m.{i}": str(m) for i, m in enumerate(manifests)}
    idx = put(store, json.dumps(doc).encode(), labels)
    cache = oci.MediaTypeCache(tmp_path / "c.db")
    g0 = G.load_graph(store, cache)
    assert g0.edge_count == 40 + 40 == len(edges(g0))  # the index (label and descriptor: one edge each), configs

    # every other label of the index gone, one renamed; a label edge added from a manifest
    relabel(store, idx, {k: (v if i % 2 else "") for i, (k, v) in enumerate(labels.items())}
            | {"containerd.io/gc.ref.content.extra": str(manifests[0])})
    relabel(store, manifests[1], {"containerd.io/gc.ref.content.config": str(cfg),
                                  "containerd.io/gc.ref.content.peer": str(manifests[2])})
    g1 = g0.updated(store, cache, [store.info(idx), store.info(manifests[1])], [])
    want = rebuilt(store, tmp_path)
    assert edges(g1) == edges(want) and g1.edge_count == want.edge_count == len(edges(want))
    sources = {e.child: e.sources for e in g1.children(idx) if e.name == "m.0"}
    assert sources[manifests[0]] == (G.FROM_MANIFEST,)  # its label gone, the descriptor left

    # manifests deleted: their edges go, and the index's to them stay (to missing children)
    gone = manifests[::3]
    for m in gone:
        store.delete(m)
    g2 = g1.updated(store, cache, [], gone)
    want = rebuilt(store, tmp_path)
    assert edges(g2) == edges(want) and g2.edge_count == want.edge_count
    assert {e.child for e in g2.missing()} == set(gone)
    assert g0.edge_count == 80 == len(edges(g0))  # the first graph is left as it was
