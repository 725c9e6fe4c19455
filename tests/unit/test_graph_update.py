"""A graph updated for a few changed blobs (``Graph.updated``) reads only the new blobs and
equals a full rebuild of the store as it is now (issue 12 item 1: change in proportion).

The store is real: OCI images written in containerd's layout (tests/support/image_store.py),
changed through the library as another process would (commits, deletes, label edits); the
blobs opened are counted at the store's opener, as tests/unit/test_oci_parallel.py does.
"""

from __future__ import annotations

import json
import random

import pytest

from store import Digest, Info, LocalStore, errors, oci
from store import graph as G
from tests.support.image_store import populate


@pytest.fixture
def store(tmp_path) -> LocalStore:
    populate(tmp_path / "images", 300, 12)
    return LocalStore(tmp_path / "images" / "content")


DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"


def canon(g: G.Graph) -> dict:
    """Everything a user can ask the graph, in a comparable form."""
    edges = {(str(e.parent), str(e.child), e.name, e.sources)
             for d in g.sizes for e in g.children(d) + g.parents(d)}  # every edge has its owner present
    return {
        "sizes": {str(d): n for d, n in g.sizes.items()},
        "types": {str(d): t for d, t in g.blob_types().items()},
        "edges": sorted(edges),
        "roots": sorted((str(r.digest), r.reason) for r in g.roots.values()),
        "reclaimable": g.reclaimable(),
        "refs": {str(d): g.refs(d).to_json() for d in g.sizes},
        "images": sorted(json.dumps(i.to_json(), sort_keys=True) for i in g.images()),
        "trees": {str(r.digest): g.tree(r.digest).to_json() for r in g.image_roots()},
        "space": g.space(),
        "problems": sorted(g.problems),
        "cycles": sorted(sorted(map(str, c)) for c in g.cycles()),
        "missing": sorted((str(e.parent), str(e.child), e.name) for e in g.missing()),
    }


def full(store, tmp_path) -> G.Graph:
    return G.load_graph(store, oci.MediaTypeCache(tmp_path / f"full-{random.random()}.db"))


def put(store: LocalStore, data: bytes, labels=None) -> Digest:
    d = Digest.from_bytes(data)
    with store.writer(f"t-{d.encoded[:16]}", total=len(data), expected=d) as w:
        w.write(data)
        w.commit(len(data), d, labels=labels)
    return d


def test_an_outside_commit_of_one_manifest_reads_only_that_blob(store, tmp_path, blob_opens):
    cache = oci.MediaTypeCache(tmp_path / "cache.db")
    g0 = G.load_graph(store, cache)
    configs = [d for d, (mt, kind) in g0.blob_types().items() if kind == "config"]
    layers = sorted(d for d, (mt, kind) in g0.blob_types().items() if kind == "layer")[:3]
    manifest = {"schemaVersion": 2, "mediaType": oci.OCI_MANIFEST,
                "config": {"mediaType": oci.OCI_CONFIG, "digest": str(configs[0]), "size": g0.sizes[configs[0]]},
                "layers": [{"mediaType": oci.OCI_LAYER_GZIP, "digest": str(d), "size": g0.sizes[d]} for d in layers]
                + [{"mediaType": oci.OCI_LAYER_GZIP, "digest": "sha256:" + "e" * 64, "size": 7}]}
    # another process commits it (through its own store on the same root)
    m = put(LocalStore(store.root), json.dumps(manifest).encode(),
            labels={"containerd.io/gc.ref.content.config": str(configs[0]), "containerd.io/gc.root": "x"})
    blob_opens.clear()
    g1 = g0.updated(store, cache, [store.info(m)], [])
    assert blob_opens == {m.encoded: 1}  # its head, once: no other blob is read, nothing is walked
    assert canon(g1) == canon(full(store, tmp_path))
    assert m in g1.roots and g1.kind(m) == "manifest" and m not in g0.sizes  # g0 is left as it was
    assert {e.child for e in g1.children(m)} >= set(layers) | {configs[0]}
    # deleting it again reads nothing at all
    blob_opens.clear()
    LocalStore(store.root).delete(m)
    g2 = g1.updated(store, cache, [], [str(m)])
    assert not blob_opens
    assert canon(g2) == canon(full(store, tmp_path)) == canon(g0)


def test_a_storm_of_changes_keeps_every_updated_graph_equal_to_a_full_rebuild(store, tmp_path):
    """Commits of manifests and indexes, deletes (of images, their parts and plain blobs),
    label edits adding and removing every kind of containerd label, blobs deleted and
    committed again: after each step the updated graph is the full rebuild."""
    rng = random.Random(12)
    cache = oci.MediaTypeCache(tmp_path / "cache.db")
    g = G.load_graph(store, cache)
    deleted: dict[Digest, tuple[bytes, dict]] = {}
    other = LocalStore(store.root)

    def label_edit(d: Digest) -> dict[str, str]:
        present = list(g.sizes)
        pick = rng.choice(present)
        choices = [
            {"containerd.io/gc.ref.content.l.9": str(pick)},
            {"containerd.io/gc.ref.content.l.9": ""},
            {"containerd.io/gc.bref.content.m.3": str(pick)},
            {"containerd.io/gc.bref.content.m.3": ""},
            {"containerd.io/gc.root": rng.choice(["", "2026-12-07"])},
            {"containerd.io/uncompressed": rng.choice([str(pick), "not-a-digest", ""])},
            {"containerd.io/gc.ref.snapshot.overlayfs": rng.choice(["key-1", ""])},
            {"containerd.io/distribution.source.example.com": rng.choice(["a/b,c/d", ""])},
            {"containerd.io/gc.ref.content": rng.choice(["sha256:bad", str(pick), ""])},
        ]
        return rng.choice(choices)

    for step in range(25):
        types = g.blob_types()
        present = sorted(g.sizes)
        rows: list[Info] = []
        gone: list[str] = []
        for _ in range(rng.randint(1, 4)):
            op = rng.random()
            if op < 0.25:  # a new manifest (or index over manifests) from another process
                kind = "manifest" if rng.random() < 0.6 else "index"
                parts = [d for d in present if types.get(d, ("", ""))[1] == ("layer" if kind == "manifest" else "manifest")]
                chosen = rng.sample(parts, min(len(parts), 2))
                if kind == "manifest":
                    cfg = put(other, json.dumps({"architecture": "amd64", "os": "linux", "n": f"{step}-{len(rows)}",
                                                 "rootfs": {"type": "layers", "diff_ids": []}}).encode())
                    rows.append(other.info(cfg))
                    doc = {"schemaVersion": 2, "mediaType": oci.OCI_MANIFEST,
                           "config": {"mediaType": oci.OCI_CONFIG, "digest": str(cfg), "size": other.info(cfg).size},
                           "layers": [{"mediaType": rng.choice([oci.OCI_LAYER_GZIP, DOCKER_LAYER]),
                                       "digest": str(d), "size": g.sizes[d]} for d in chosen]}
                else:
                    doc = {"schemaVersion": 2, "mediaType": oci.OCI_INDEX,
                           "manifests": [{"mediaType": oci.OCI_MANIFEST, "digest": str(d), "size": g.sizes[d],
                                          "platform": {"os": "linux", "architecture": f"arch{i}"}}
                                         for i, d in enumerate(chosen)]}
                doc["annotations"] = {"n": f"{step}-{len(rows)}"}  # never the content of an earlier one
                if rng.random() < 0.3 and present:
                    doc["subject"] = {"mediaType": oci.OCI_MANIFEST, "digest": str(rng.choice(present)), "size": 1}
                d = put(other, json.dumps(doc).encode())
                rows.append(other.info(d))
            elif op < 0.5 and present:  # deleted: an image, a part of one, or a plain blob
                d = rng.choice(present)
                try:
                    info = other.info(d)
                except errors.NotFound:
                    continue
                with other.reader_at(d) as r:
                    deleted[d] = (r.read_at(info.size, 0), dict(info.labels))
                other.delete(d)
                gone.append(str(d))
            elif op < 0.6 and deleted:  # a deleted blob committed again (its labels with it)
                d = rng.choice(sorted(deleted))
                data, labels = deleted.pop(d)
                put(other, data, labels or None)
                rows.append(other.info(d))
            elif present:  # labels edited
                d = rng.choice(present)
                try:
                    info = other.info(d)
                except errors.NotFound:
                    continue
                edit = label_edit(d)
                other.update(Info(d, info.size, info.created_at, info.updated_at, edit),
                             *[f"labels.{k}" for k in edit])
                rows.append(other.info(d))
        # what the watcher names, read as the scanner reads it: each digest as it is now, or gone
        still: list[Info] = []
        now_gone: list[str] = []
        for x in sorted({str(r.digest) for r in rows} | set(gone)):
            try:
                still.append(other.info(x))
            except errors.NotFound:
                now_gone.append(x)
        g = g.updated(store, cache, still, now_gone)
        assert canon(g) == canon(full(store, tmp_path)), f"step {step}"


def test_every_fact_a_changed_blob_gave_is_taken_out_again(store, tmp_path):
    """Each step aimed at one kind of fact: a back-reference set and cleared, a parent whose
    labels reference a blob deleted, two manifests declaring one layer differently (the lower
    digest's declaration wins, in a full build and an update alike) and one of them deleted."""
    cache = oci.MediaTypeCache(tmp_path / "cache.db")
    g = G.load_graph(store, cache)
    types = g.blob_types()
    layers = sorted(d for d, (_, kind) in types.items() if kind == "layer")
    configs = sorted(d for d, (_, kind) in types.items() if kind == "config")
    other = LocalStore(store.root)
    x, y = layers[0], layers[1]

    def relabel(d, **labels):
        info = other.info(d)
        other.update(Info(d, info.size, info.created_at, info.updated_at, labels), *[f"labels.{k}" for k in labels])
        return other.info(d)

    def check(g1, why):
        assert canon(g1) == canon(full(store, tmp_path)), why
        return g1

    bref = "containerd.io/gc.bref.content.m.0"
    g = check(g.updated(store, cache, [relabel(x, **{bref: str(y)})], []), "a back-reference set")
    assert any(e.parent == y and "backref" in e.sources for e in g.parents(x))
    g = check(g.updated(store, cache, [relabel(x, **{bref: ""})], []), "a back-reference cleared")
    assert not any(e.parent == y for e in g.parents(x))
    parent = put(other, b"a parent by labels", {"containerd.io/gc.ref.content.l.0": str(x), "containerd.io/gc.root": "1"})
    g = check(g.updated(store, cache, [other.info(parent)], []), "a labelled parent committed")
    assert x in g.reachable
    other.delete(parent)
    g = check(g.updated(store, cache, [], [str(parent)]), "the labelled parent deleted")
    made = []
    for i, mt in enumerate([DOCKER_LAYER, oci.OCI_LAYER_GZIP, DOCKER_LAYER]):
        doc = {"schemaVersion": 2, "mediaType": oci.OCI_MANIFEST, "annotations": {"n": str(i)},
               "config": {"mediaType": oci.OCI_CONFIG, "digest": str(configs[0]), "size": g.sizes[configs[0]]},
               "layers": [{"mediaType": mt, "digest": str(y), "size": g.sizes[y]}]}
        made.append(put(other, json.dumps(doc).encode()))
        g = check(g.updated(store, cache, [other.info(made[-1])], []), f"manifest {i} declares {mt}")
    for m in sorted(made):  # the lowest declarer first: the next lowest's declaration takes over
        other.delete(m)
        g = check(g.updated(store, cache, [], [str(m)]), "a declaring manifest deleted")
    assert g.media_type(y) == types[y][0]


def test_a_graph_without_its_facts_cannot_be_updated(store, tmp_path):
    g = full(store, tmp_path)
    g.facts = None
    with pytest.raises(errors.FailedPrecondition, match="build it again"):
        g.updated(store, None, [], [])
