"""The descriptors of a graph's indexes and manifests kept in columns (store/graph_listings.py): the
graph's content types are the recognised ones, descriptors and all, after a build, an update and a
copy; and the columns a graph's updates leave behind are packed again."""

from __future__ import annotations

import json
import random

import pytest

from store import Digest, LocalStore, graph_copy, oci
from store import graph as G
from store.graph_listings import Listings
from tests.support.image_store import populate
from tests.unit.test_graph_update import put


@pytest.fixture
def store(tmp_path) -> LocalStore:
    populate(tmp_path / "images", 200, 8)
    return LocalStore(tmp_path / "images" / "content")


def recognised(store: LocalStore, tmp_path) -> dict:
    cache = oci.MediaTypeCache(tmp_path / f"c-{random.random()}.db")
    return oci.classify(store, list(store.walk()), cache)


def odd_manifest(store: LocalStore) -> tuple[Digest, Digest, Digest, Digest]:
    """A manifest whose layer declares a size past 2**63 and carries annotations, with a subject."""
    cfg = put(store, b'{"architecture":"arm64","os":"linux","rootfs":{}}')
    layer = Digest.from_bytes(b"a layer nobody stored")
    subject = Digest.from_bytes(b"a subject nobody stored")
    doc = {"schemaVersion": 2, "mediaType": oci.OCI_MANIFEST,
           "config": {"mediaType": oci.OCI_CONFIG, "digest": str(cfg), "size": 48},
           "layers": [{"mediaType": oci.OCI_LAYER_GZIP, "digest": str(layer), "size": 2 ** 70,
                       "annotations": {"org.example.note": "big"}}],
           "subject": {"mediaType": oci.OCI_MANIFEST, "digest": str(subject), "size": 7}}
    return put(store, json.dumps(doc).encode()), layer, subject, cfg


def test_the_graph_answers_every_content_type_as_recognised(store, tmp_path):
    m, layer, subject, _cfg = odd_manifest(store)
    types = recognised(store, tmp_path)
    g = G.load_graph(store, oci.MediaTypeCache(tmp_path / "g.db"))
    assert dict(g.types.items()) == types and list(g.types.values()) == list(dict(g.types.items()).values())
    assert g.types[m].descriptors and g.types[m] == types[m]
    assert sum(1 for ct in types.values() if ct.descriptors) == len(g.facts.listings) > 8
    assert g.size(layer) == 2 ** 70 and g.media_type(layer) == oci.OCI_LAYER_GZIP
    assert g.size(subject) == -1  # a subject is not a declaration: its parent is the referrer's child
    copy = graph_copy.from_bytes(graph_copy.to_bytes(g))
    assert dict(copy.types.items()) == types and copy.size(layer) == 2 ** 70


def test_an_updated_graph_answers_the_content_types_of_a_rebuild(store, tmp_path):
    cache = oci.MediaTypeCache(tmp_path / "u.db")
    g = G.load_graph(store, cache)
    images = [d for d, ct in g.types.items() if ct.descriptors]
    gone = images[::2]
    for d in gone:
        store.delete(d)
    m, layer, _subject, cfg = odd_manifest(store)
    g = g.updated(store, cache, [store.info(m), store.info(cfg)], gone)
    assert dict(g.types.items()) == recognised(store, tmp_path)
    assert g.size(layer) == 2 ** 70


def descriptor(i: int, child: Digest, role="layer", mt=oci.OCI_LAYER_GZIP, size=10) -> oci.Descriptor:
    return oci.Descriptor(role, i, child, size, mt, None, {"n": str(i)} if i % 7 == 0 else {}, "")


def test_listings_left_mostly_dead_by_copies_are_packed_again():
    kids = [Digest.from_bytes(b"kid %d" % i) for i in range(100)]
    parents = [Digest.from_bytes(b"parent %d" % i) for i in range(60)]
    cts = {p: oci.ContentType(oci.OCI_MANIFEST, oci.Kind.MANIFEST,
                              tuple(descriptor(i, kids[(i * 7 + n) % 100], size=n * 100 + i) for i in range(50)))
           for n, p in enumerate(parents)}
    listings = Listings()
    for p, ct in cts.items():
        head = listings.add(p, ct)
        assert head.descriptors == () and listings.full(p, head) == ct
    before = listings.copy()
    for p in parents[:40]:
        listings.drop(p)
    packed = listings.copy()  # 2,000 of 3,000 rows dead: a copy packs the 1,000 left
    assert packed._cols is not listings._cols and len(packed._cols.digests) == 1000
    assert before._cols is listings._cols  # a copy with few dead rows shares the columns
    for p in parents:
        want = cts[p].descriptors if p not in parents[:40] else ()
        assert packed.descriptors(p) == want
        assert before.descriptors(p) == cts[p].descriptors  # a copy taken before is left as it was
        for k in kids[:10]:
            first = next(((x.media_type, x.size) for x in cts[p].descriptors if x.digest == k), None)
            assert packed.declared(p, k) == (first if p not in parents[:40] else None)


def test_a_parent_of_thousands_answers_through_a_map():
    kids = [Digest.from_bytes(b"m %d" % i) for i in range(500)]
    p = Digest.from_bytes(b"big index")
    descs = tuple(descriptor(i, k, "manifest", oci.OCI_MANIFEST if i % 2 else "", i) for i, k in enumerate(kids))
    descs += (descriptor(500, kids[0], "manifest", oci.DOCKER_MANIFEST, 9),)  # kids[0] again, with a type
    listings = Listings()
    listings.add(p, oci.ContentType(oci.OCI_INDEX, oci.Kind.INDEX, descs))
    assert listings.declared(p, kids[0]) == (oci.DOCKER_MANIFEST, 0)  # first type, first size
    assert listings.declared(p, kids[3]) == (oci.OCI_MANIFEST, 3)
    assert listings.declared(p, p) is None


def test_descriptors_that_do_not_pack_are_kept_as_they_are():
    kid, p = Digest.from_bytes(b"kid"), Digest.from_bytes(b"odd parent")
    odd = oci.ContentType(oci.OCI_MANIFEST, oci.Kind.MANIFEST, (descriptor(0, kid, size=1.5),))  # type: ignore[arg-type]
    listings = Listings()
    head = listings.add(p, odd)
    assert head.descriptors == () and listings.full(p, head) == odd and p in listings
    assert listings.declared(p, kid) == (oci.OCI_LAYER_GZIP, 1.5) and listings.declared_types() == {kid: oci.OCI_LAYER_GZIP}
    listings.drop(p)
    assert p not in listings and listings.descriptors(p) == ()
