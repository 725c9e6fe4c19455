"""The image graph in the window: references links, the Images tab, Select Unreferenced with
Delete, the layer browser and the kind icons — on a real umoci image imported the way
``ctr images import`` labels content, and on hand-made corner cases."""

from __future__ import annotations

import gzip
import io
import json
import posixpath
import tarfile

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtTest import QTest

from gui import fmt
from gui.blobs.blob_model import COL_MEDIA
from gui.details.references import DIGEST_ROLE, PRESENT_ROLE
from gui.images.images_model import COL_SIZE, COL_TOTAL, SORT_ROLE, ImagesTreeModel
from gui.images.images_model import DIGEST_ROLE as TREE_DIGEST
from gui.images.layer_browser import LayerEntriesModel
from gui.kinds import kind_icon
from store import Digest, LocalStore, errors, oci
from store import graph as G
from tests.gui.conftest import add_blob, select_digests, wait_jobs
from tests.support.images import describe_layout, import_layout, layout_blobs, make_oci_layout, make_tar

NAME = "example.org/fixture/busybox:1.0"
MOTD = "hello from the gui test\nsecond line\n"
MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    """A real two-platform image built by umoci (busybox layer, /etc/motd layer)."""
    return make_oci_layout(tmp_path_factory.mktemp("umoci"), NAME, platforms=("amd64", "arm64"), motd=MOTD)


def open_with_graph(qtbot, make_window, root):
    """A window on ``root`` whose first image graph has been built."""
    win = make_window(root, wait=False)
    with qtbot.waitSignal(win.graphBuilt, timeout=30000):
        pass
    assert win.image_graph.graph is not None
    return win


def graph_of(store) -> G.Graph:
    return G.load_graph(store, oci.MediaTypeCache(None))


def selected(win) -> list[str]:
    return sorted(r.digest for r in win.selection.blob_rows())


def click_link(qtbot, win, digest: str) -> None:
    """A real mouse click on the references entry of ``digest``."""
    tree = win.details.refs.tree
    item = next(i for i in win.details.refs.items() if i.data(0, DIGEST_ROLE) == digest)
    tree.scrollToItem(item)
    rect = tree.visualItemRect(item)
    assert rect.isValid()
    QTest.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def links(win) -> list[tuple[str, str, bool]]:
    """(digest, edge name or root reason, present) of every entry in the references section."""
    return [(i.data(0, DIGEST_ROLE), i.text(0), i.data(0, PRESENT_ROLE)) for i in win.details.refs.items()]


# --------------------------------------------------------------------------- references
def test_references_links_select_the_blob_and_clear_a_hiding_filter(qtbot, make_window, store, layout):
    import_layout(store, layout)
    want = describe_layout(layout)
    win = open_with_graph(qtbot, make_window, store.root)
    manifest = want.manifests["amd64"]
    select_digests(win, [manifest])
    qtbot.waitUntil(lambda: win.details.current == manifest)
    got = links(win)
    assert got[:3] == [(want.configs["amd64"], "config", True), (want.layers["amd64"][0], "l.0", True),
                       (want.layers["amd64"][1], "l.1", True)]  # children, in manifest order
    assert (want.index, "m.0", True) in got                     # the parent
    assert (want.index, "top-level index", True) in got         # the root that keeps it alive
    assert "Reachable" in win.details.refs.status.text()

    click_link(qtbot, win, want.layers["amd64"][1])
    assert selected(win) == [want.layers["amd64"][1]]
    qtbot.waitUntil(lambda: win.details.current == want.layers["amd64"][1])
    # the layer is kept alive by the index (a top-level image root)
    assert win.details.refs.status.text().startswith("Reachable: kept alive by 1 root")
    got = links(win)
    assert (want.index, "top-level index", True) in got
    assert {(m, "l.1", True) for m in want.manifests.values()} <= set(got)  # both platforms share it

    # a filter that hides the target is cleared, and the window says so
    win.filter_edit.setText(f'digest=="{want.layers["amd64"][1]}"')
    win.apply_filter()
    assert win.blob_model.rowCount() == 1
    click_link(qtbot, win, manifest)  # the layer's parent (shown as m.0's l.1)
    assert selected(win) == [manifest]
    assert win.filter_edit.text() == ""
    assert win.blob_model.rowCount() == len(layout_blobs(layout))
    assert "filter was cleared" in win.statusBar().currentMessage()


def test_manifest_list_and_a_missing_layer(qtbot, make_window, store):
    """Hand-made: an index for two platforms; the arm64 manifest's layer is not in the store."""
    config = {}
    manifests = []
    missing_layer = Digest.from_bytes(b"this layer was never pulled")
    present_layer = gzip.compress(b"\0" * 1024, mtime=0)
    layer_d = add_blob(store, present_layer)
    for arch in ("amd64", "arm64"):
        cfg = json.dumps({"architecture": arch, "os": "linux",
                          "rootfs": {"type": "layers", "diff_ids": []}}).encode()
        config[arch] = add_blob(store, cfg)
        layer = ({"mediaType": MT_LAYER, "digest": str(layer_d), "size": len(present_layer)} if arch == "amd64"
                 else {"mediaType": MT_LAYER, "digest": str(missing_layer), "size": 4242})
        m = json.dumps({"schemaVersion": 2, "mediaType": MT_MANIFEST,
                        "config": {"mediaType": MT_CONFIG, "digest": str(config[arch]), "size": len(cfg)},
                        "layers": [layer]}).encode()
        manifests.append((arch, add_blob(store, m), len(m)))
    index = json.dumps({"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": [
        {"mediaType": MT_MANIFEST, "digest": str(d), "size": n, "platform": {"os": "linux", "architecture": a}}
        for a, d, n in manifests]}).encode()
    index_d = add_blob(store, index)
    win = open_with_graph(qtbot, make_window, store.root)

    arm = manifests[1][1]
    select_digests(win, [arm])
    qtbot.waitUntil(lambda: win.details.current == arm)
    got = links(win)
    assert (str(config["arm64"]), "config", True) in got
    assert (str(missing_layer), "l.0", False) in got
    item = next(i for i in win.details.refs.items() if i.data(0, DIGEST_ROLE) == str(missing_layer))
    assert item.text(2) == "missing" and item.text(3) == fmt.size(4242)  # the descriptor's size
    click_link(qtbot, win, str(missing_layer))
    assert selected(win) == [arm]  # nothing to select...
    assert "is not in the store" in win.statusBar().currentMessage()  # ...and the window says why

    # the Images tab: index -> manifests by platform -> config and layers, sizes from the store
    model = win.images_view.model
    assert model.image_count() == 1
    top = model.index(0, 0)
    assert top.data(TREE_DIGEST) == str(index_d)
    assert "linux/amd64" in top.data() and "linux/arm64" in top.data()
    kids = [model.index(r, 0, top) for r in range(model.rowCount(top))]
    assert [k.data() for k in kids] == ["m.0  linux/amd64", "m.1  linux/arm64"]
    arm_row = kids[1]
    rows = {model.index(r, 0, arm_row).data(): model.index(r, 0, arm_row) for r in range(model.rowCount(arm_row))}
    assert set(rows) == {"config", "l.0"}
    assert rows["l.0"].siblingAtColumn(COL_SIZE).data() == "missing"
    assert rows["config"].siblingAtColumn(COL_SIZE).data(SORT_ROLE) == store.info(config["arm64"]).size
    total = sum(store.info(d).size for d in (index_d, layer_d, *config.values(), *(d for _a, d, _n in manifests)))
    assert top.siblingAtColumn(COL_TOTAL).data(SORT_ROLE) == total


def test_images_tab_shows_platforms_config_layers_with_sizes_and_selects(qtbot, make_window, store, layout):
    blobs = import_layout(store, layout)
    want = describe_layout(layout)
    win = open_with_graph(qtbot, make_window, store.root)
    model = win.images_view.model
    assert model.image_count() == 1
    top = model.index(0, 0)
    assert top.data(TREE_DIGEST) == want.index
    assert top.siblingAtColumn(COL_TOTAL).data(SORT_ROLE) == sum(len(b) for b in blobs.values())
    for r, arch in enumerate(("amd64", "arm64")):
        m = model.index(r, 0, top)
        assert m.data(TREE_DIGEST) == want.manifests[arch]
        assert m.data() == f"m.{r}  linux/{arch}"
        kids = [model.index(i, 0, m) for i in range(model.rowCount(m))]
        assert [k.data() for k in kids] == ["config", "l.0", "l.1"]
        assert [k.data(TREE_DIGEST) for k in kids] == [want.configs[arch], *want.layers[arch]]
        for k in kids:
            assert k.siblingAtColumn(COL_SIZE).data(SORT_ROLE) == len(blobs[k.data(TREE_DIGEST)])
    # the two manifests share both layers: the image is one, so nothing is "shared" with another image
    assert win.image_graph.graph.images()[0].shared == 0

    # selecting a node selects that blob in the blobs table
    win.view_tabs.setCurrentWidget(win.images_view)
    layer = model.index(2, 0, model.index(1, 0, top))
    win.images_view.view.setCurrentIndex(layer)
    assert selected(win) == [want.layers["arm64"][1]]
    qtbot.waitUntil(lambda: win.details.current == want.layers["arm64"][1])
    # Enter (or a double-click) on a layer node opens its files
    win.images_view.view.setFocus()
    QTest.keyClick(win.images_view.view, Qt.Key.Key_Return)
    browser = win.commands.browse_layer.dialog
    assert browser is not None and browser.digest == want.layers["arm64"][1]
    qtbot.waitUntil(lambda: browser.finished_listing, timeout=15000)
    assert "etc/motd" in browser.model.paths()
    browser.close()


def test_models_pass_qtmodeltester(qtmodeltester, tmp_path, layout):
    store = LocalStore(tmp_path / "content")
    import_layout(store, layout)
    g = graph_of(store)
    model = ImagesTreeModel()
    model.set_images([(i, g.tree(i.digest)) for i in g.images()])
    qtmodeltester.check(model, force_py=True)
    want = describe_layout(layout)
    assert model.find(want.layers["arm64"][1]).isValid()
    assert not model.find("sha256:" + "0" * 64).isValid()

    from store import layers
    entries = layers.list_layer(store, want.layers["amd64"][0])[0]
    lm = LayerEntriesModel()
    lm.append(entries[:3])
    lm.append(entries[3:])
    qtmodeltester.check(lm, force_py=True)
    assert lm.rowCount() == len(entries)


# --------------------------------------------------------------------------- select unreferenced
def test_select_unreferenced_selects_the_reclaimable_set_and_delete_removes_only_them(
        qtbot, make_window, store, layout, dialogs):
    import_layout(store, layout)
    stray = add_blob(store, b"a leftover nobody references")
    # a cycle without a root is still garbage (containerd's collector would sweep it)
    a = Digest.from_bytes(b"cycle a")
    b = add_blob(store, b"cycle b", {"containerd.io/gc.ref.content": str(a)})
    add_blob(store, b"cycle a", {"containerd.io/gc.ref.content": str(b)})
    kept = add_blob(store, b"pinned by a gc.root label", {"containerd.io/gc.root": "2026-01-01T00:00:00Z"})
    child_of_kept = add_blob(store, b"kept by the pinned blob")
    labels = dict(store.info(kept).labels)
    labels["containerd.io/gc.ref.content.l.0"] = str(child_of_kept)
    import dataclasses
    store.update(dataclasses.replace(store.info(kept), labels=labels), "labels")

    expected = {str(d) for d in graph_of(store).reclaimable()}
    assert expected == {str(stray), str(a), str(b)}
    win = open_with_graph(qtbot, make_window, store.root)
    win.filter_edit.setText(str(kept))  # hides every reclaimable blob: the action clears it
    win.apply_filter()
    assert win.action_map["actionSelectUnreferenced"].isEnabled()
    win.action_map["actionSelectUnreferenced"].trigger()
    assert set(selected(win)) == expected
    assert win.filter_edit.text() == ""
    msg = win.statusBar().currentMessage()
    assert "Selected 3 unreferenced blob(s)" in msg
    assert fmt.size(sum(store.info(d).size for d in expected)) in msg
    assert win.graph_label.text().startswith("3 unreferenced")

    # the details pane says it for one of them
    select_digests(win, [stray])
    qtbot.waitUntil(lambda: win.details.current == stray)
    assert "Unreferenced — reclaimable" in win.details.refs.status.text()

    win.action_map["actionSelectUnreferenced"].trigger()
    dialogs.answer("confirm", True)
    before = {str(i.digest) for i in store.walk()}
    win.action_map["actionDelete"].trigger()
    assert dialogs.asked[-1][0] == "confirm" and "Delete 3 blob(s)" in dialogs.asked[-1][1][1]
    qtbot.waitUntil(lambda: {str(i.digest) for i in store.walk()} == before - expected, timeout=15000)
    for d in expected:
        assert not (store.root / "blobs" / "sha256" / Digest(d).encoded).exists()
    for d in (kept, child_of_kept, *layout_blobs(layout)):
        assert (store.root / "blobs" / "sha256" / Digest(d).encoded).exists()
    # the delete's rescan rebuilds the graph by itself: nothing is left to reclaim
    qtbot.waitUntil(lambda: win.image_graph.graph is not None and not win.image_graph.graph.reclaimable(),
                    timeout=30000)
    win.action_map["actionSelectUnreferenced"].trigger()
    assert selected(win) == []
    assert "No unreferenced blobs" in win.statusBar().currentMessage()


# --------------------------------------------------------------------------- layer browser
def test_layer_browser_lists_real_gzip_layer_and_previews_motd(qtbot, make_window, store, layout):
    blobs = import_layout(store, layout)
    want = describe_layout(layout)
    motd_layer = want.layers["amd64"][1]
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(blobs[motd_layer]))) as tar:
        expected = [posixpath.normpath("/" + m.name).lstrip("/") for m in tar.getmembers()]
    win = open_with_graph(qtbot, make_window, store.root)
    select_digests(win, [motd_layer])
    # a double-click on a layer opens its files (on anything else it edits labels)
    view = win.blob_view
    rect = view.visualRect(win.blob_model.index(win.blob_model.row_for(motd_layer), 0))
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # Qt 6 wants the press first
    QTest.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    dlg = win.commands.browse_layer.dialog
    assert dlg is not None and dlg.digest == motd_layer and dlg.isVisible()
    qtbot.waitUntil(lambda: dlg.finished_listing, timeout=15000)
    assert dlg.model.paths() == expected
    assert "etc/motd" in dlg.model.paths()
    assert dlg.status.text().startswith(f"{len(expected)} entries")
    assert dlg.select_path("/etc/motd")
    qtbot.waitUntil(lambda: dlg.preview.toPlainText() == MOTD, timeout=10000)
    # a directory has no preview, and says so
    assert dlg.select_path("etc")
    assert "/etc is a directory" in dlg.preview.toPlainText()
    dlg.close()

    # the busybox layer through the action: a binary file is not shown as text
    select_digests(win, [want.layers["amd64"][0]])
    win.action_map["actionBrowseLayer"].trigger()
    dlg = win.commands.browse_layer.dialog
    qtbot.waitUntil(lambda: dlg.finished_listing, timeout=15000)
    assert "bin/busybox" in dlg.model.paths()
    dlg.select_path("bin/busybox")
    qtbot.waitUntil(lambda: "only text is previewed" in dlg.preview.toPlainText(), timeout=10000)
    dlg.close()
    wait_jobs(qtbot, win)


def test_layer_browser_refuses_a_config_in_a_sentence(qtbot, make_window, store, layout):
    import_layout(store, layout)
    want = describe_layout(layout)
    win = open_with_graph(qtbot, make_window, store.root)
    select_digests(win, [want.configs["amd64"]])
    win.action_map["actionBrowseLayer"].trigger()
    dlg = win.commands.browse_layer.dialog
    qtbot.waitUntil(lambda: dlg.error is not None, timeout=10000)
    assert dlg.status.text().startswith(f"Could not list the files of layer {want.configs['amd64']}")
    assert "not a layer" in dlg.status.text()
    assert dlg.model.rowCount() == 0


class GatedStore:
    """A store whose readers stop after the first MiB until ``gate`` is set: the test decides
    when the layer listing may go on, so a Stop lands while it is surely running."""

    def __init__(self, store, gate):
        self._store, self.gate = store, gate

    def reader_at(self, digest):
        store, gate = self._store, self.gate

        class Reader:
            def __init__(self):
                self._r = store.reader_at(digest)
                self.size = self._r.size

            def read_at(self, n, offset):
                if offset >= 1 << 20:
                    assert gate.wait(30)
                return self._r.read_at(n, offset)

            def close(self):
                self._r.close()

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.close()

        return Reader()


def test_layer_browser_stop_keeps_what_was_listed(qtbot, make_window, store):
    import os
    import threading

    from gui.images.layer_browser import LayerBrowserDialog
    # incompressible files: the gzip is several MiB, read in 1 MiB chunks
    raw = make_tar({f"many/file-{i:05d}": os.urandom(64) for i in range(40000)})
    big = add_blob(store, gzip.compress(raw, compresslevel=1, mtime=0))
    assert store.info(big).size > 2 << 20
    win = open_with_graph(qtbot, make_window, store.root)
    gate = threading.Event()
    dlg = LayerBrowserDialog(GatedStore(store, gate), big, win.runner, win)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.start()
    try:
        qtbot.waitUntil(lambda: dlg.model.rowCount() > 0, timeout=15000)
        QTest.mouseClick(dlg.stop_button, Qt.MouseButton.LeftButton)
    finally:
        gate.set()
    qtbot.waitUntil(lambda: dlg.status.text().startswith("Stopped after"), timeout=15000)
    n = dlg.model.rowCount()
    assert 0 < n < 40000 and not dlg.finished_listing
    assert dlg.model.paths() == [f"many/file-{i:05d}" for i in range(n)]  # in archive order, no gaps
    wait_jobs(qtbot, win)
    assert dlg.model.rowCount() == n  # nothing arrives after the stop
    dlg.close()


# --------------------------------------------------------------------------- kind icons
def test_kind_icons_in_the_media_type_column(qtbot, make_window, store, layout):
    import_layout(store, layout)
    want = describe_layout(layout)
    empty = add_blob(store, b"")
    text = add_blob(store, b"just some words\n")
    win = open_with_graph(qtbot, make_window, store.root)
    m = win.blob_model

    def icon_key(d):
        return m.data(m.index(m.row_for(str(d)), COL_MEDIA), Qt.ItemDataRole.DecorationRole).cacheKey()

    for d, kind in ((want.index, "index"), (want.manifests["arm64"], "manifest"), (want.configs["amd64"], "config"),
                    (want.layers["amd64"][0], "layer"), (empty, "empty"), (text, "text")):
        assert icon_key(d) == kind_icon(kind).cacheKey(), kind
    assert not kind_icon("index").isNull()
    assert kind_icon("index").cacheKey() != kind_icon("layer").cacheKey()


def test_graph_of_a_previous_store_is_dropped(qtbot, make_window, store, tmp_path, layout):
    import_layout(store, layout)
    other = LocalStore(tmp_path / "other")
    lone = add_blob(other, b"only blob of the other store")
    win = open_with_graph(qtbot, make_window, store.root)
    # switch before the first store's graph could be rebuilt; only the new store's graph may land
    with qtbot.waitSignal(win.graphBuilt, timeout=30000):
        win.refresh()
        win.open_store(str(other.root))
    wait_jobs(qtbot, win)
    assert {str(d) for d in win.image_graph.graph.sizes} == {str(lone)}
    assert win.images_view.model.image_count() == 0
    assert not win.images_view.model.index(0, 0, QModelIndex()).isValid()
    with pytest.raises(errors.NotFound):
        other.info(describe_layout(layout).index)


# --------------------------------------------------------------------------- translations, icons
def test_new_strings_are_translated_and_icons_load(qtbot):
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QWidget

    from gui import i18n
    from gui.actions import make_actions
    from gui.details.references import ReferencesBox
    from gui.kinds import KINDS, kind_text
    from gui.resources import icon
    app = QCoreApplication.instance()
    try:
        assert i18n.install(app, "zh_CN") == "zh_CN"
        w = QWidget()
        qtbot.addWidget(w)
        acts = make_actions(w)
        assert acts["actionSelectUnreferenced"].text() == "选择未引用的 Blob(&U)"
        assert acts["actionBrowseLayer"].text() == "浏览层中的文件(&B)…"
        assert ImagesTreeModel().headerData(0, Qt.Orientation.Horizontal) == "镜像 / Blob"
        assert LayerEntriesModel().headerData(0, Qt.Orientation.Horizontal) == "路径"
        assert kind_text("layer") == "层"
        box = ReferencesBox(w)
        assert box.title() == "引用关系"
    finally:
        i18n.install(app, "en")
    assert kind_text("layer") == "layer"
    for name in [f"kind-{k}" for k in KINDS] + ["unreferenced", "browse-layer", "images"]:
        assert not icon(name).pixmap(24, 24).isNull(), name


def test_a_label_edit_rebuilds_the_graph_and_the_references(qtbot, make_window, store, dialogs):
    stray = add_blob(store, b"about to be pinned")
    win = open_with_graph(qtbot, make_window, store.root)
    assert [str(d) for d in win.image_graph.graph.reclaimable()] == [str(stray)]
    select_digests(win, [stray])
    qtbot.waitUntil(lambda: "Unreferenced" in win.details.refs.status.text())
    dialogs.answer("edit_labels", {"containerd.io/gc.root": "2026-11-27T00:00:00Z"})
    win.action_map["actionEditLabels"].trigger()
    qtbot.waitUntil(lambda: win.image_graph.graph is not None and not win.image_graph.graph.reclaimable(),
                    timeout=15000)
    qtbot.waitUntil(lambda: win.details.refs.status.text().startswith("Reachable"), timeout=5000)
    assert win.graph_label.text().startswith("0 unreferenced")
    items = win.details.refs.tree.topLevelItem(0)
    assert items.text(0) == "This blob is a root: gc.root label"


def test_odd_blobs_kinds_and_notes(qtbot, make_window, store):
    """Hand-made corner cases: 0 bytes, not-JSON that starts with '{', a manifest with a bad digest."""
    empty = add_blob(store, b"")
    fake = add_blob(store, b"{not json at all")
    bad = add_blob(store, json.dumps({"schemaVersion": 2, "mediaType": MT_MANIFEST,
                                      "config": {"mediaType": MT_CONFIG, "digest": "nope", "size": 3},
                                      "layers": []}).encode())
    win = open_with_graph(qtbot, make_window, store.root)
    m = win.blob_model

    def icon_key(d):
        return m.data(m.index(m.row_for(str(d)), COL_MEDIA), Qt.ItemDataRole.DecorationRole).cacheKey()

    assert icon_key(empty) == kind_icon("empty").cacheKey()
    assert icon_key(fake) == kind_icon("binary").cacheKey()
    assert icon_key(bad) == kind_icon("manifest").cacheKey()
    select_digests(win, [fake])
    qtbot.waitUntil(lambda: "starts with '{' but is not valid JSON" in win.details.refs.status.text())
    select_digests(win, [bad])
    qtbot.waitUntil(lambda: "invalid digest 'nope'" in win.details.refs.status.text())
    # the manifest is an image of its own (nothing lists it) with no children it could name
    assert [str(i.digest) for i in win.image_graph.graph.images()] == [str(bad)]
    assert win.images_view.model.image_count() == 1


# --------------------------------------------------------------------------- worker processes
def test_a_cold_store_is_recognised_by_fork_server_workers_from_the_qt_process(qtbot, make_window, tmp_path,
                                                                                 monkeypatch):
    """A Qt process must not fork: the media-type pass's workers are forked by the fork server
    (a separate single-threaded process, store/workers.py), and what they recognise is what one
    process recognises."""
    from tests.support.image_store import populate
    monkeypatch.setattr(oci, "PROCESS_MIN", 1)  # a small store still goes to the workers
    used: list[str] = []
    real = oci._sniff_in_processes

    def spy(store, digests, start_method, jobs, cancel):
        used.append(start_method)
        yield from real(store, digests, start_method, jobs, cancel)

    monkeypatch.setattr(oci, "_sniff_in_processes", spy)
    populate(tmp_path / "imgs", 400, 12)
    root = tmp_path / "imgs" / "content"
    win = open_with_graph(qtbot, make_window, root)
    assert used and set(used) == {"forkserver"}
    expected = graph_of(LocalStore(root))
    g = win.image_graph.graph
    assert g.blob_types() == expected.blob_types() and g.edge_count == expected.edge_count
    assert len(g.images()) == 12 and g.reclaimable() == expected.reclaimable()
    rows = {r.digest: r.media_type for r in win.blob_model.all_rows()}
    assert len(rows) == 400 and all(rows.values())
    assert sum(mt == MT_MANIFEST for mt in rows.values()) == 24
    assert sum(mt == MT_LAYER for mt in rows.values()) == 96  # the gzip tar layers of the pool


def test_images_tab_names_roots_by_records_else_annotations(qtbot, make_window, tmp_path, layout):
    """An offline containerd root where two image records name the index: the row shows the first
    name and its tooltip lists both; a plain directory with no record shows the short digest."""
    from tests.support import boltfile
    want = describe_layout(layout)
    records = ["example.org/fixture/busybox:1.0", "example.org/fixture/busybox:latest"]
    root = tmp_path / "root"
    s = LocalStore(root / "io.containerd.content.v1.content")
    import_layout(s, layout)
    stamp = {b"createdat": boltfile.go_time(1_700_000_000), b"updatedat": boltfile.go_time(1_700_000_000)}
    blobs = {str(i.digest).encode(): {b"size": boltfile.varint(i.size), **stamp} for i in s.walk()}
    target = {b"digest": want.index.encode(), b"mediatype": MT_INDEX.encode()}
    (root / "io.containerd.metadata.v1.bolt").mkdir()
    boltfile.write(root / "io.containerd.metadata.v1.bolt" / "meta.db", {b"version": b"\x06", b"v1": {b"default": {
        b"images": {name.encode(): {b"target": target} for name in reversed(records)},
        b"content": {b"blob": blobs}}}})
    win = open_with_graph(qtbot, make_window, root)
    top = win.images_view.model.index(0, 0)
    assert top.data(TREE_DIGEST) == want.index
    assert top.data() == f"{records[0]}  [linux/amd64, linux/arm64]"
    assert top.data(Qt.ItemDataRole.ToolTipRole).splitlines()[:3] == [*records, want.index]
    win.shutdown()
    # the same blobs in a plain directory: no record, no annotation on a stored descriptor
    plain = LocalStore(tmp_path / "plain")
    import_layout(plain, layout)
    win = open_with_graph(qtbot, make_window, plain.root)
    top = win.images_view.model.index(0, 0)
    assert top.data() == f"{fmt.short_digest(want.index)}  [linux/amd64, linux/arm64]"
    assert top.data(Qt.ItemDataRole.ToolTipRole).splitlines()[0] == want.index
