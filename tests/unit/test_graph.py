"""The reference graph: edges from labels and descriptors, roots, reachability, images and space."""

from __future__ import annotations

import gzip
import json

import pytest

from store import Digest, Info, LocalStore, errors, oci
from store import graph as G
from tests.support.images import make_tar


class Builder:
    """Writes real blobs into a LocalStore and describes them as descriptors."""

    def __init__(self, store: LocalStore):
        self.s = store

    def put(self, data: bytes, labels: dict | None = None) -> Digest:
        d = Digest.from_bytes(data)
        with self.s.writer(f"b-{d.encoded[:16]}", total=len(data), expected=d) as w:
            w.write(data)
            w.commit(len(data), d, labels=labels)
        return d

    def label(self, d, **labels):
        info = self.s.info(d)
        self.s.update(type(info)(info.digest, info.size, info.created_at, info.updated_at,
                                 {k.replace("__", "/").replace("_", "."): v for k, v in labels.items()}),
                      *[f"labels.{k.replace('__', '/').replace('_', '.')}" for k in labels])

    def set_labels(self, d, labels: dict):
        info = self.s.info(d)
        self.s.update(type(info)(info.digest, info.size, info.created_at, info.updated_at, labels),
                      *[f"labels.{k}" for k in labels])

    @staticmethod
    def desc(mt, d, size, **extra):
        return {"mediaType": mt, "digest": str(d), "size": size, **extra}

    def layer(self, name: str) -> tuple[Digest, int]:
        data = gzip.compress(make_tar({name: name.encode() * 100}), mtime=0)
        return self.put(data), len(data)

    def image(self, arch: str, layers: list[tuple[Digest, int]], *, containerd_labels=True,
              extra_manifest: dict | None = None) -> tuple[Digest, int, Digest]:
        self.n = getattr(self, "n", 0) + 1  # distinct configs, so two images never collide
        cfg = json.dumps({"architecture": arch, "os": "linux", "config": {"Labels": {"n": str(self.n)}},
                          "rootfs": {"type": "layers", "diff_ids": []}}).encode()
        c = self.put(cfg)
        m = {"schemaVersion": 2, "mediaType": oci.OCI_MANIFEST,
             "config": self.desc(oci.OCI_CONFIG, c, len(cfg)),
             "layers": [self.desc(oci.OCI_LAYER_GZIP, d, n) for d, n in layers], **(extra_manifest or {})}
        data = json.dumps(m).encode()
        labels = None
        if containerd_labels:
            labels = {"containerd.io/gc.ref.content.config": str(c)}
            labels.update({f"containerd.io/gc.ref.content.l.{i}": str(d) for i, (d, _) in enumerate(layers)})
        return self.put(data, labels), len(data), c

    def index(self, manifests: list[tuple[Digest, int, str]], labels=True) -> Digest:
        doc = {"schemaVersion": 2, "mediaType": oci.OCI_INDEX, "manifests": [
            self.desc(oci.OCI_MANIFEST, d, n, platform={"os": "linux", "architecture": a})
            for d, n, a in manifests]}
        lab = {f"containerd.io/gc.ref.content.m.{i}": str(d) for i, (d, _, _) in enumerate(manifests)} if labels else None
        return self.put(json.dumps(doc).encode(), lab)


@pytest.fixture
def b(store):
    return Builder(store)


def graph_of(store, **kw):
    return G.load_graph(store, oci.MediaTypeCache(None), **kw)


def test_multi_platform_index_tree_roots_and_space(store, b):
    base = b.layer("base")
    amd = b.layer("amd-only")
    arm = b.layer("arm-only")
    m1, n1, c1 = b.image("amd64", [base, amd])
    m2, n2, c2 = b.image("arm64", [base, arm])
    idx = b.index([(m1, n1, "amd64"), (m2, n2, "arm64")])
    stray = b.put(b"nobody references me")

    g = graph_of(store)
    assert [r.digest for r in g.image_roots()] == [idx]
    assert g.roots[idx].reason == "top-level index"
    assert m1 not in g.roots  # part of the index, not an image of its own

    # children carry containerd's names and both sources (label and descriptor)
    kids = g.children(idx)
    assert [(e.name, e.child) for e in kids] == [("m.0", m1), ("m.1", m2)]
    assert set(kids[0].sources) == {G.FROM_LABEL, G.FROM_MANIFEST}
    assert [e.name for e in g.children(m1)] == ["config", "l.0", "l.1"]
    assert {e.parent for e in g.parents(base[0])} == {m1, m2}
    assert [r.digest for r in g.roots_of(base[0])] == [idx]

    # the tree: index -> manifests by platform -> config and layers
    t = g.tree(idx)
    assert t.kind == "index" and t.media_type == oci.OCI_INDEX
    assert [(c.name, str(c.platform)) for c in t.children] == [("m.0", "linux/amd64"), ("m.1", "linux/arm64")]
    assert [(c.name, c.kind) for c in t.children[0].children] == [("config", "config"), ("l.0", "layer"), ("l.1", "layer")]
    assert t.children[0].children[1].media_type == oci.OCI_LAYER_GZIP

    # space: one image reaching 8 blobs; the stray blob is the only reclaimable one
    [img] = g.images()
    sizes = {i.digest: i.size for i in store.walk()}
    reach = {idx, m1, m2, c1, c2, base[0], amd[0], arm[0]}
    assert img.total == sum(sizes[d] for d in reach) and img.blob_count == 8
    assert img.shared == 0 and img.unique == img.total
    assert img.platforms == ("linux/amd64", "linux/arm64")
    assert g.reclaimable() == [stray]
    sp = g.space()
    assert sp.reclaimable_bytes == sizes[stray] and sp.reclaimable_count == 1
    assert sp.blob_bytes == sum(sizes.values()) and sp.image_count == 1


def test_two_images_sharing_a_layer(store, b):
    shared = b.layer("shared")
    own1, own2 = b.layer("one"), b.layer("two")
    m1, _, c1 = b.image("amd64", [shared, own1])
    m2, _, c2 = b.image("amd64", [shared, own2], extra_manifest={"annotations": {"x": "2"}})
    g = graph_of(store)
    imgs = {i.digest: i for i in g.images()}
    assert set(imgs) == {m1, m2}
    assert imgs[m1].shared == shared[1] == imgs[m2].shared
    assert imgs[m1].unique == imgs[m1].total - shared[1]
    assert g.space().image_shared_bytes == shared[1]
    assert g.image(str(m2)) == imgs[m2] and g.image(c1) is None
    assert g.roots[m1].reason == "top-level manifest"


def test_manifest_whose_layer_is_missing(store, b):
    present = b.layer("here")
    absent = (Digest.from_bytes(b"never stored"), 1234)
    m, _, _ = b.image("amd64", [present, absent])
    g = graph_of(store)
    missing = g.missing()
    assert {(e.parent, e.child, e.name) for e in missing} == {(m, absent[0], "l.1")}
    [img] = g.images()
    assert img.missing == 1
    node = g.tree(m).children[2]
    assert (node.present, node.size, node.media_type, node.kind) == (False, 1234, oci.OCI_LAYER_GZIP, "layer")
    refs = g.refs(absent[0])
    assert not refs.present and [p.digest for p in refs.parents] == [m]


def test_cycle_in_labels_terminates_and_is_reported(store, b):
    a = b.put(b"blob a")
    c = b.put(b"blob c")
    b.set_labels(a, {"containerd.io/gc.ref.content": str(c)})
    b.set_labels(c, {"containerd.io/gc.ref.content.back": str(a)})
    loop = b.put(b"self loop", {"containerd.io/gc.ref.content.me": "sha256:" + "0" * 64})
    b.set_labels(loop, {"containerd.io/gc.ref.content.me": str(loop)})
    g = graph_of(store)
    assert sorted(map(sorted, g.cycles())) == sorted([sorted([a, c]), [loop]])
    # nothing roots the cycle: containerd's GC would sweep it, so it is reclaimable
    assert set(g.reclaimable()) == {a, c, loop}
    assert g.roots_of(a) == []
    t = g.tree(a)
    assert t.children[0].digest == c and t.children[0].children[0].digest == a
    assert t.children[0].children[0].cycle and t.children[0].children[0].children == []
    # a gc.root anywhere on the cycle keeps all of it
    b.set_labels(c, {"containerd.io/gc.root": "2026-01-01T00:00:00Z"})
    g = graph_of(store)
    assert a in g.reachable and c in g.reachable and [r.reason for r in g.roots_of(a)] == ["gc.root label"]


def test_reclaimable_includes_blobs_referenced_only_by_reclaimable_ones(store, b):
    leaf = b.put(b"leaf")
    mid = b.put(b"mid", {"containerd.io/gc.ref.content": str(leaf)})
    top = b.put(b"top", {"containerd.io/gc.ref.content.x": str(mid)})
    g = graph_of(store)
    assert set(g.reclaimable()) == {leaf, mid, top}
    b.set_labels(top, {"containerd.io/gc.root": "yes"})
    g = graph_of(store)
    assert g.reclaimable() == []
    assert g.refs(leaf).reachable and [r.digest for r in g.refs(leaf).roots] == [top]


def test_label_forms_containerd_accepts_and_ignores(store, b):
    kid1, kid2, kid3, kid4 = (b.put(x) for x in (b"k1", b"k2", b"k3", b"k4"))
    parent = b.put(b"parent", {
        "containerd.io/gc.ref.content": str(kid1),
        "containerd.io/gc.ref.content/slash": str(kid2),
        "containerd.io/gc.ref.contentX": str(kid3),  # not a reference for containerd's GC
        "containerd.io/gc.ref.content.bad": "not-a-digest",
        "containerd.io/gc.ref.snapshot.overlayfs": "sha256:" + "c" * 64,
        "containerd.io/gc.ref.snapshot.native/1": "key2",
        "containerd.io/uncompressed": "sha256:" + "d" * 64,
        "containerd.io/distribution.source.docker.io": "library/redis,myrepo/redis",
        "containerd.io/gc.root": "x",
    })
    b.set_labels(kid4, {"containerd.io/gc.bref.content": str(parent)})
    g = graph_of(store)
    r = g.refs(parent)
    assert {(c.digest, c.name) for c in r.children} == {(kid1, ""), (kid2, "slash"), (kid4, "")}
    assert [c.sources for c in r.children if c.digest == kid4] == [(G.FROM_BACKREF,)]
    assert {(s.snapshotter, s.key) for s in r.snapshots} == {("overlayfs", "sha256:" + "c" * 64), ("native", "key2")}
    assert r.uncompressed == "sha256:" + "d" * 64
    assert r.sources == {"docker.io": ("library/redis", "myrepo/redis")}
    assert any("not-a-digest" in p for p in g.problems)
    assert g.reclaimable() == [kid3]
    assert G.content_ref_name("containerd.io/gc.ref.contentX") is None


def test_referrer_hangs_off_its_subject(store, b):
    m, n, _ = b.image("amd64", [b.layer("l")])
    sig_cfg = b.put(b"{}")
    sig = json.dumps({"schemaVersion": 2, "mediaType": oci.OCI_MANIFEST, "artifactType": "application/x-sig",
                      "config": b.desc(oci.OCI_EMPTY, sig_cfg, 2), "layers": [],
                      "subject": b.desc(oci.OCI_MANIFEST, m, n)}).encode()
    s = b.put(sig)
    g = graph_of(store)
    assert [r.digest for r in g.image_roots()] == [m]
    assert [(e.child, e.name, e.sources) for e in g.children(m) if e.name == "referrer"] == [(s, "referrer", (G.FROM_SUBJECT,))]
    assert s in g.reachable and sig_cfg in g.reachable
    # with its subject gone, the referrer stands alone and is kept (an image root), not swept
    store.delete(m)
    g = graph_of(store)
    assert s in g.roots and s in g.reachable


def test_extra_roots_name_images_and_keep_them(store, b):
    lone = b.put(b"not an image at all")
    m, _, _ = b.image("amd64", [b.layer("x")])
    g = graph_of(store, extra_roots={str(lone): "example.org/app:1"})
    assert lone in g.reachable
    assert {i.digest: i.name for i in g.images()}[lone] == "example.org/app:1"
    assert g.image(m).name == ""


def test_names_from_ref_name_annotations(store, b):
    m, n, _ = b.image("amd64", [b.layer("x")])
    idx = b.put(json.dumps({"schemaVersion": 2, "manifests": [
        b.desc(oci.OCI_MANIFEST, m, n, annotations={G.REF_NAME: "app:1"})]}).encode())
    g = graph_of(store)
    assert g.image_name(m) == "app:1"
    assert g.image(idx) is not None


def test_load_graph_counts_ingests_and_can_be_cancelled(store, b):
    b.put(b"blob")
    w = store.writer("half-done", total=100)
    w.write(b"x" * 40)
    w.close()
    g = graph_of(store)
    assert (g.ingest_count, g.ingest_bytes) == (1, 40)
    with pytest.raises(errors.Cancelled):
        G.build_graph(store.walk(), {}, cancel=lambda: True)


def test_blob_types_prefer_the_declared_media_type(store, b):
    d = b.put(gzip.compress(make_tar({"a": b"a"})))
    cfg = b.put(b'{"architecture":"amd64","os":"linux","rootfs":{}}')
    m = b.put(json.dumps({"schemaVersion": 2, "mediaType": oci.DOCKER_MANIFEST,
                          "config": b.desc(oci.DOCKER_CONFIG, cfg, 10),
                          "layers": [b.desc(oci.DOCKER_LAYER_GZIP, d, 10)]}).encode())
    t = graph_of(store).blob_types()
    assert t[d] == (oci.DOCKER_LAYER_GZIP, "layer")
    assert t[cfg] == (oci.DOCKER_CONFIG, "config")
    assert t[m] == (oci.DOCKER_MANIFEST, "manifest")


@pytest.mark.parametrize("many", [0, 80])  # a big index's descriptors are looked up through a map
def test_the_lowest_parent_declaring_a_child_gives_its_media_type_and_size(store, b, many):
    absent = Digest.from_bytes(b"never stored")
    others = [(Digest.from_bytes(b"other %d" % i), 3, "amd64") for i in range(many)]
    parents = []
    for i, (mt, size) in enumerate([(oci.OCI_MANIFEST, 11), (oci.DOCKER_MANIFEST, 22), ("", 33)]):
        doc = {"schemaVersion": 2, "mediaType": oci.OCI_INDEX, "annotations": {"n": str(i)}, "manifests": [
            b.desc(mt, x, n) for x, n, _a in others] + [b.desc(mt, absent, size)]}
        parents.append((b.put(json.dumps(doc).encode()), mt, size))
    g = graph_of(store)
    declaring = sorted(p for p in parents if p[1])
    assert g.media_type(absent) == declaring[0][1] and g.kind(absent) == "manifest"
    assert g.size(absent) == min(parents)[2]  # every parent declares a size, the lowest wins
    assert {n.digest: (n.media_type, n.size) for n in g.refs(parents[0][0]).children}[absent] == \
        (declaring[0][1], min(parents)[2])
    # the lowest declarer deleted: the next one's declaration takes over
    store.delete(declaring[0][0])
    g = graph_of(store)
    assert g.media_type(absent) == declaring[1][1]
    assert g.size(absent) == min(p for p in parents if p[0] != declaring[0][0])[2]


def test_json_round_trip_of_records(store, b):
    m, _, _ = b.image("amd64", [b.layer("x")])
    g = graph_of(store)
    json.dumps(g.refs(m).to_json())
    json.dumps(g.tree(m).to_json())
    json.dumps([i.to_json() for i in g.images()])
    json.dumps(g.space().to_json())


def test_gc_root_on_a_manifest_inside_an_index_does_not_make_it_an_image(store, b):
    m1, n1, _ = b.image("amd64", [b.layer("a")])
    m2, n2, _ = b.image("arm64", [b.layer("b")])
    idx = b.index([(m1, n1, "amd64"), (m2, n2, "arm64")])
    b.set_labels(m1, {"containerd.io/gc.root": "2026-11-27T00:00:00Z"})
    b.set_labels(idx, {"containerd.io/gc.root": "2026-11-27T00:00:00Z"})
    g = graph_of(store)
    assert [r.digest for r in g.image_roots()] == [idx]
    assert g.roots[idx].reason == "top-level index, gc.root label"
    assert g.roots[m1].reason == "gc.root label"
    assert [i.digest for i in g.images()] == [idx] and g.images()[0].shared == 0


def test_nested_index_and_docker_schema1_manifest(store, b):
    m, n, _ = b.image("amd64", [b.layer("x")])
    inner = json.dumps({"schemaVersion": 2, "mediaType": oci.OCI_INDEX,
                        "manifests": [b.desc(oci.OCI_MANIFEST, m, n)]}).encode()
    i1 = b.put(inner)
    outer = b.put(json.dumps({"schemaVersion": 2, "mediaType": oci.OCI_INDEX,
                              "manifests": [b.desc(oci.OCI_INDEX, i1, len(inner))]}).encode())
    layer = b.layer("s1")[0]
    v1 = b.put(json.dumps({"schemaVersion": 1, "name": "x", "tag": "1", "architecture": "amd64",
                           "fsLayers": [{"blobSum": str(layer)}], "history": []}).encode())
    g = graph_of(store)
    assert {r.digest for r in g.image_roots()} == {outer, v1}
    t = g.tree(outer)
    assert t.children[0].digest == i1 and t.children[0].children[0].digest == m
    assert g.kind(v1) == "manifest" and g.media_type(v1) == oci.DOCKER_MANIFEST_V1
    assert [e.child for e in g.children(v1)] == [layer]


def test_graph_from_plain_rows_keeps_digest_objects(store, b):
    """The GUI's rows carry str digests; the graph must still hand out Digest objects."""
    from types import SimpleNamespace

    m, _, c = b.image("amd64", [b.layer("x")])
    rows = [SimpleNamespace(digest=str(i.digest), size=i.size, labels=dict(i.labels)) for i in store.walk()]
    types = oci.classify(store, rows, None)
    g = G.build_graph(rows, types)
    assert all(type(d) is Digest for d in g.sizes)
    assert [e.child.short() for e in g.children(m)][0] == c.short()
    assert g.images()[0].digest.short() == m.short()


def test_space_of_many_reachable_blobs_sums_every_slice():
    """The reachable bytes are summed a slice at a time (one sum over a million-blob store's held
    the GIL 30-60 ms): every blob counted once, across slices, the unreachable ones not at all."""
    kids = [Digest.from_bytes(i.to_bytes(4, "big")) for i in range(40_000)]
    root = Digest.from_bytes(b"root")
    labels = {"containerd.io/gc.root": "x"}
    labels.update({f"containerd.io/gc.ref.content.c.{i}": str(d) for i, d in enumerate(kids[:35_000])})
    infos = [Info(d, 1000 + i, 0, 0, {}) for i, d in enumerate(kids)] + [Info(root, 7, 0, 0, labels)]
    g = G.build_graph(infos, {})
    space = g.space()
    assert space.reachable_count == 35_001
    assert space.reachable_bytes == 7 + sum(1000 + i for i in range(35_000))
    assert space.reclaimable_bytes == sum(1000 + i for i in range(35_000, 40_000))
