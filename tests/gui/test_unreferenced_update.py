"""The unreferenced rows follow a graph update by what changed (gui/images/unreferenced.py): after
each outside commit, delete and label edit the window's answer, adjusted from the previous one,
equals the whole pass over every row and the set a fresh graph of the disk finds, and looked at
only the changed blobs and those whose reachability they touch."""

from __future__ import annotations

import json

from gui.images.unreferenced import unreferenced_rows
from store import Digest, Info, LocalStore, oci
from store import graph as G
from tests.gui.test_graph_update_gui import settled_graph
from tests.support.image_store import populate

GC_ROOT = "containerd.io/gc.root"


def commit(store: LocalStore, data: bytes, labels: dict[str, str] | None = None) -> Digest:
    d = Digest.from_bytes(data)
    with store.writer(f"outside-{d.encoded[:12]}", total=len(data), expected=d) as w:
        w.write(data)
        w.commit(len(data), d, labels=labels)
    return d


def relabel(store: LocalStore, d: Digest, labels: dict[str, str]) -> None:
    info = store.info(d)
    store.update(Info(d, info.size, info.created_at, info.updated_at, labels), f"labels.{GC_ROOT}")


def check(win, store: LocalStore, *, incremental: bool = True) -> set[str]:
    """The window's unreferenced rows equal the full pass and the disk's; their digests."""
    g = win.image_graph.graph
    unref = win.image_graph.unreferenced
    snap = win.blob_model.columns_snapshot()
    full = unreferenced_rows(win.blob_model.columns, snap, g.reachable, lambda: False)
    assert full is not None
    assert list(unref.rids()) == list(full.rids())
    assert (unref.count, unref.size) == (full.count, full.size)
    disk = {str(d) for d in G.load_graph(store, oci.MediaTypeCache(None)).reclaimable()}
    got = set(win.blob_model.columns.digests_of(unref.rids()))
    assert got == disk
    if incremental:  # adjusted, looking at a few digests, not at every row
        assert unref.looked_at is not None and unref.looked_at < 40 < snap.count
    return got


def test_unreferenced_rows_follow_each_change(qtbot, make_window, tmp_path):
    populate(tmp_path / "images", 200, 8)
    root = tmp_path / "images" / "content"
    win = make_window(root, wait=False)
    g = settled_graph(qtbot, win)
    other = LocalStore(root)  # another process: the window learns of each change through its watch
    first = check(win, other, incremental=False)
    assert first  # the store has blobs nothing references

    # two blobs committed: unreferenced
    layer_a, layer_b = commit(other, b"layer a" * 50), commit(other, b"layer b" * 50)
    g = settled_graph(qtbot, win, g)
    assert {str(layer_a), str(layer_b)} <= check(win, other)

    # a manifest committed that lists them: they are referenced now (the manifest is a root)
    config = sorted(d for d, (_, k) in g.blob_types().items() if k == "config")[0]
    doc = {"schemaVersion": 2, "mediaType": oci.OCI_MANIFEST,
           "config": {"mediaType": oci.OCI_CONFIG, "digest": str(config), "size": g.sizes[config]},
           "layers": [{"mediaType": oci.OCI_LAYER_GZIP, "digest": str(d), "size": g.sizes.get(d, 350)}
                      for d in (layer_a, layer_b)]}
    manifest = commit(other, json.dumps(doc).encode())
    g = settled_graph(qtbot, win, g)
    assert not {str(layer_a), str(layer_b), str(manifest)} & check(win, other)

    # a blob naming another through gc.ref.content: both unreferenced, until a gc.root label
    child = commit(other, b"child of a root")
    parent = commit(other, b"parent", {"containerd.io/gc.ref.content.x": str(child)})
    g = settled_graph(qtbot, win, g)
    assert {str(child), str(parent)} <= check(win, other)
    relabel(other, parent, {"containerd.io/gc.ref.content.x": str(child), GC_ROOT: "now"})
    g = settled_graph(qtbot, win, g)
    assert not {str(child), str(parent)} & check(win, other)
    relabel(other, parent, {"containerd.io/gc.ref.content.x": str(child)})  # the root label removed
    g = settled_graph(qtbot, win, g)
    assert {str(child), str(parent)} <= check(win, other)

    # the manifest deleted: its layers are unreferenced again; a deleted unreferenced blob is gone
    other.delete(manifest)
    g = settled_graph(qtbot, win, g)
    assert {str(layer_a), str(layer_b)} <= check(win, other)
    other.delete(layer_a)
    g = settled_graph(qtbot, win, g)
    after = check(win, other)
    assert str(layer_a) not in after and str(layer_b) in after
    assert after == first | {str(layer_b), str(child), str(parent)}


def test_unreferenced_row_numbers_come_from_the_worker_until_a_row_dies(qtbot, make_window, tmp_path):
    """Select Unreferenced takes the row numbers the graph's worker worked out (a pass over every
    row on the GUI thread was 100 ms at 1M blobs); once one of those rows has died they are
    worked out again, without it."""
    populate(tmp_path / "images", 200, 8)
    root = tmp_path / "images" / "content"
    win = make_window(root, wait=False)
    settled_graph(qtbot, win)
    unref = win.image_graph.unreferenced
    rids = unref.rids()
    assert len(rids) == unref.count > 1 and unref.rids() is rids
    victim = win.blob_model.columns.digests_of(rids[:1])[0]
    LocalStore(root).delete(Digest(victim))
    qtbot.waitUntil(lambda: win.blob_model.get(victim) is None, timeout=10_000)
    after = unref.rids()
    assert after is not rids and list(after) == list(rids[1:])
