"""The window's image graph follows outside changes by name (issue 12 item 1): a manifest
committed by another process is read alone (its head, once) and the graph the window then
holds equals a full rebuild; a delete and a label edit read nothing; a new listing builds the
whole graph again.  Real files, a real window, the store's opener counted as
tests/unit/test_oci_parallel.py does."""

from __future__ import annotations

import json

from store import Digest, Info, LocalStore, oci
from store import graph as G
from tests.gui.conftest import wait_jobs
from tests.support.image_store import populate
from tests.unit.test_graph_update import canon


def settled_graph(qtbot, win, before=None):
    """Wait until the window's graph is a new one and nothing more is pending."""
    qtbot.waitUntil(lambda: win.image_graph.graph is not before, timeout=20000)
    wait_jobs(qtbot, win)
    qtbot.wait(500)  # the graph timer of the same change, if any, fires and finds nothing more
    wait_jobs(qtbot, win)
    return win.image_graph.graph


def test_an_outside_commit_delete_and_label_edit_update_the_graph_by_name(qtbot, make_window, tmp_path, blob_opens):
    populate(tmp_path / "images", 200, 8)
    root = tmp_path / "images" / "content"
    win = make_window(root, wait=False)
    g0 = settled_graph(qtbot, win)
    built = win.image_graph.updates
    types = g0.blob_types()
    config = sorted(d for d, (_, k) in types.items() if k == "config")[0]
    layer = sorted(d for d, (_, k) in types.items() if k == "layer")[0]
    doc = {"schemaVersion": 2, "mediaType": oci.OCI_MANIFEST, "annotations": {"org.opencontainers.image.ref.name": "new"},
           "config": {"mediaType": oci.OCI_CONFIG, "digest": str(config), "size": g0.sizes[config]},
           "layers": [{"mediaType": oci.OCI_LAYER_GZIP, "digest": str(layer), "size": g0.sizes[layer]}]}
    data = json.dumps(doc).encode()
    m = Digest.from_bytes(data)
    other = LocalStore(root)  # as another process: the window learns of it through the watch
    blob_opens.clear()
    with other.writer("outside", total=len(data), expected=m) as w:
        w.write(data)
        w.commit(len(data), m)
    g1 = settled_graph(qtbot, win, g0)
    assert win.image_graph.updates > built  # updated, not built
    assert m in g1.sizes and g1.kind(m) == "manifest" and m in g1.roots
    assert {e.child for e in g1.children(m)} == {config, layer}
    # read by this process: the new manifest's head, and nothing else (the commit itself writes
    # only); once, unless the media-type pass and the graph job both missed the cache at once
    assert set(blob_opens) == {m.encoded} and blob_opens[m.encoded] <= 2, blob_opens
    assert canon(g1) == canon(G.load_graph(other, oci.MediaTypeCache(None)))
    # the media-type pass looked at the new blob alone, and the table shows what it is
    qtbot.waitUntil(lambda: win.blob_model.get(str(m)).media_type == oci.OCI_MANIFEST, timeout=10000)

    blob_opens.clear()
    info = other.info(layer)
    other.update(Info(layer, info.size, info.created_at, info.updated_at, {"containerd.io/gc.root": "now"}),
                 "labels.containerd.io/gc.root")
    g2 = settled_graph(qtbot, win, g1)
    assert layer in g2.roots and "gc.root label" in g2.roots[layer].reason
    other.delete(m)
    g3 = settled_graph(qtbot, win, g2)
    assert m not in g3.sizes and m not in g3.roots
    assert not blob_opens  # a label edit and a delete read no blob
    assert canon(g3) == canon(G.load_graph(other, oci.MediaTypeCache(None)))
    updates = win.image_graph.updates

    win.refresh()  # F5: a full listing is a full build
    g4 = settled_graph(qtbot, win, g3)
    assert canon(g4) == canon(g3)
    assert win.image_graph.updates >= updates
