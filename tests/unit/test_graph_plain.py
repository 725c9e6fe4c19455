"""The graph keeps the blobs that take part in nothing compact (store/graph_plain.py): no Digest
object and no dict entry each, and every question about them answered as before (issue 12,
item 3: the graph at a million blobs within the window's memory target)."""

from __future__ import annotations

import gc
import hashlib
import json
import random
import tracemalloc

from store import Digest, Info, LocalStore, oci
from store import graph as G
from store.graph_plain import PlainBlobs
from tests.support.image_store import populate


def digest_of(n: int, alg: str = "sha256") -> Digest:
    return Digest.from_bytes(n.to_bytes(8, "big"), alg)


BLOB = oci.ContentType(oci.OCTET_STREAM, oci.Kind.BINARY)
GZIP = oci.ContentType("application/gzip", oci.Kind.LAYER, note="not a tar")


def test_the_plain_table_finds_every_blob_it_holds_and_nothing_else():
    rng = random.Random(3)
    held = [(digest_of(i, rng.choice(["sha256", "sha256", "sha512", "sha384"])), rng.randrange(1 << 40),
             rng.choice([None, BLOB, GZIP])) for i in range(5000)]
    t = PlainBlobs.of(list(held))
    assert len(t) == 5000 and t.total == sum(s for _d, s, _c in held)
    for d, size, ct in held:
        assert d in t and str(d) in t and t.get(d) == (size, ct)
    some = held[0][0]
    near = [some.upper(), some[:7] + some[7:].upper(), some[:-2] + "  ", "sha256:" + " " * 64]
    for bad in [digest_of(i) for i in range(5000, 5200)] + near + ["sha256:", "sha256:zz", "nope", 7, "sha256:" + "0" * 63]:
        assert bad not in t and t.get(bad) is None
    # a digest whose bytes sit across two held entries is not one of them
    d0, d1 = sorted(d for d, _s, _c in held if d.algorithm == "sha256")[:2]
    straddle = "sha256:" + (d0.encoded[32:] + d1.encoded[:32])
    assert straddle not in t
    assert list(t) == sorted(d for d, _s, _c in held)
    assert all(type(d) is Digest for d in t)
    assert dict(t.entries()) == {d: ct for d, _s, ct in held}


def test_a_copy_forgets_what_it_takes_and_the_original_keeps_it():
    held = [(digest_of(i), i, BLOB) for i in range(100)]
    t = PlainBlobs.of(held)
    c = t.copy()
    assert c.take(digest_of(7)) == (7, BLOB) and c.take(digest_of(7)) is None
    assert digest_of(7) not in c and len(c) == 99 and c.total == sum(range(100)) - 7
    assert digest_of(7) in t and len(t) == 100 and t.total == sum(range(100))
    assert digest_of(7) not in list(c) and len(list(c)) == 99


def test_blobs_that_take_part_in_nothing_are_not_dict_entries(tmp_path):
    """A real store: images and their parts, labelled blobs, and plain blobs; the plain ones
    are answered from the compact table, everything else as full entries."""
    populate(tmp_path / "s", 300, 10)
    store = LocalStore(tmp_path / "s" / "content")
    infos = list(store.walk())
    cache = oci.MediaTypeCache(tmp_path / "c.db")
    types = oci.classify(store, infos, cache)
    g = G.load_graph(store, cache)
    sizes = {i.digest: i.size for i in infos}
    ends = {d for x in g.sizes for e in g.children(x) + g.parents(x) for d in (e.parent, e.child)}
    plain = set(sizes) - ends - set(g.roots)
    assert len(plain) > 100
    assert not plain & set(g.sizes.dict) and not plain & set(g.types.dict)  # no entry of their own
    assert len(g.sizes.plain) == len(plain)
    # the mappings are the dicts they replace
    assert dict(g.sizes.items()) == sizes and len(g.sizes) == len(sizes) and set(g.sizes) == set(sizes)
    assert sorted(g.sizes.values()) == sorted(sizes.values()) and g.sizes.total() == sum(sizes.values())
    assert dict(g.types.items()) == types and len(g.types) == len(types)
    for d in plain:
        assert d in g.sizes and g.sizes[d] == sizes[d] and g.types[d] == types[d]
        assert g.media_type(d) == types[d].media_type and g.kind(d) == types[d].kind.value
        assert g.size(d) == sizes[d] and g.refs(d).present and not g.refs(d).reachable
    assert g.reclaimable() == sorted(d for d in sizes if d not in g.reachable)
    assert plain <= set(g.reclaimable())
    assert g.blob_types() == {d: (g.media_type(d), g.kind(d)) for d in sizes}
    space = g.space()
    assert space.blob_count == len(sizes) and space.blob_bytes == sum(sizes.values())
    absent = digest_of(10**9)
    assert absent not in g.sizes and g.sizes.get(absent) is None and g.size(absent) == -1


def test_a_plain_blob_named_by_a_change_takes_part_again(tmp_path):
    """A manifest committed later lists a plain blob, a label names another, one is deleted:
    the updated graph equals a full rebuild and the blobs named are full entries again."""
    populate(tmp_path / "s", 120, 4)
    store = LocalStore(tmp_path / "s" / "content")
    cache = oci.MediaTypeCache(tmp_path / "c.db")
    g0 = G.load_graph(store, cache)
    plain = sorted(g0.sizes.plain)
    a, b, c, gone = plain[:4]
    cfg_data = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers"}}).encode()
    cfg = Digest.from_bytes(cfg_data)
    with store.writer("t-cfg", total=len(cfg_data), expected=cfg) as w:
        w.write(cfg_data)
        w.commit(len(cfg_data), cfg)
    doc = {"schemaVersion": 2, "mediaType": oci.OCI_MANIFEST,
           "config": {"mediaType": oci.OCI_CONFIG, "digest": str(cfg), "size": len(cfg_data)},
           "layers": [{"mediaType": oci.OCI_LAYER_GZIP, "digest": str(a), "size": g0.sizes[a]}]}
    data = json.dumps(doc).encode()
    m = Digest.from_bytes(data)
    with store.writer("t-m", total=len(data), expected=m) as w:
        w.write(data)
        w.commit(len(data), m, labels={"containerd.io/gc.ref.content.l.0": str(b)})
    info = store.info(c)
    store.update(Info(c, info.size, info.created_at, info.updated_at, {"containerd.io/gc.root": "yes"}),
                 "labels.containerd.io/gc.root")
    store.delete(gone)
    g1 = g0.updated(store, cache, [store.info(x) for x in (cfg, m, c)], [gone])
    for x in (a, b, c):
        assert x in g1.sizes.dict and x in g1.reachable and x not in g1.sizes.plain
    assert gone not in g1.sizes and gone not in g1.reclaimable()
    assert a in g0.sizes.plain and gone in g0.sizes and a not in g0.reachable  # g0 is left as it was
    fresh = G.load_graph(store, oci.MediaTypeCache(tmp_path / "c2.db"))
    assert g1.reclaimable() == fresh.reclaimable() and g1.space() == fresh.space()
    assert g1.blob_types() == fresh.blob_types() and dict(g1.sizes.items()) == dict(fresh.sizes.items())
    assert {d: g1.refs(d).to_json() for d in g1.sizes} == {d: fresh.refs(d).to_json() for d in fresh.sizes}


class _Rec:
    __slots__ = ("digest", "size", "labels")

    def __init__(self, digest, size, labels):
        self.digest, self.size, self.labels = digest, size, labels


def test_a_plain_blob_costs_the_graph_under_80_bytes():
    """100k plain blobs beside a few hundred images: tracemalloc of what the graph keeps (the
    records it is built from excluded) stays under 80 bytes a plain blob (51 when written); a Digest object and
    two dict entries each were about 260."""
    n, images = 100_000, 200
    recs = [_Rec(digest_of(i), 1000 + i, {}) for i in range(n)]
    types = {r.digest: (BLOB if i % 3 else GZIP) for i, r in enumerate(recs)}
    layer = oci.OCI_LAYER_GZIP
    for k in range(images):  # one manifest over four of the blobs: those take part in something
        descs = tuple(oci.Descriptor("layer", j, recs[k * 4 + j].digest, 1000 + k * 4 + j, layer) for j in range(4))
        d = Digest("sha256:" + hashlib.sha256(b"m%d" % k).hexdigest())
        recs.append(_Rec(d, 500, {}))
        types[d] = oci.ContentType(oci.OCI_MANIFEST, oci.Kind.MANIFEST, descs)
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        g = G.build_graph(recs, types)
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    plain = n - images * 4
    assert len(g.sizes.plain) == plain and len(g.sizes) == n + images
    assert len(g.reachable) == images * 5
    per_blob = held / n
    assert per_blob < 80, f"{per_blob:.1f} bytes a blob"


def test_a_big_table_is_sorted_bucket_by_bucket_as_one_sort_would():
    """Past a few thousand blobs of an algorithm the table is sorted by the digests' two leading
    bytes first (a Python loop that hands the GIL over: one ``list.sort`` of 760k entries held it
    a second at 1M blobs), then each bucket: the same order, crowded buckets too."""
    rng = random.Random(5)
    held = [(digest_of(i), rng.randrange(1 << 40), rng.choice([None, BLOB, GZIP])) for i in range(9000)]
    crowded = [Digest("sha256:abcd" + f"{rng.getrandbits(240):060x}") for _ in range(3000)]
    crowded += [Digest("sha256:00" + f"{rng.getrandbits(248):062x}") for _ in range(50)]
    held += [(d, i, BLOB) for i, d in enumerate(crowded)]
    rng.shuffle(held)
    t = PlainBlobs.of(list(held))
    assert list(t) == sorted(d for d, _s, _c in held)
    for d, size, ct in held:
        assert t.get(d) == (size, ct)
