"""The main window on a real temp store: listing, details, plain text, disk changes, read-only."""

from __future__ import annotations

import json
import threading

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from gui.blobs.blob_model import COL_LABELS
from gui.details.references import DIGEST_ROLE
from tests.gui.conftest import add_blob, blob_digests, select_digests, wait_jobs


def test_lists_blobs_and_ingests(make_window, store):
    a = add_blob(store, b"alpha", {"containerd.io/gc.root": "now"})
    b = add_blob(store, b"beta" * 100)
    with store.writer("pull-1", total=1000) as w:
        w.write(b"x" * 250)
    win = make_window(store.root)
    assert blob_digests(win) == {a, b}
    assert win.ingest_model.rowCount() == 1
    assert win.ingest_model.row_at(0).ref == "pull-1"
    assert win.ingest_model.row_at(0).offset == 250
    assert "2 blobs" in win.counts_label.text() and "1 ingests" in win.counts_label.text()
    assert win.findChild(type(win.blob_view), "blobView") is win.blob_view
    assert win.findChild(type(win.ingest_view), "ingestView") is win.ingest_view
    assert not win.readonly_badge.isVisible()


def test_details_pane_shows_pretty_json_and_referrers(qtbot, make_window, store):
    config = add_blob(store, b'{"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}')
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                      "digest": str(config), "size": store.info(config).size},
                           "layers": []}).encode()
    m = add_blob(store, manifest)
    parent = add_blob(store, b"index", {"containerd.io/gc.ref.content.m.0": str(m)})
    win = make_window(store.root)
    select_digests(win, [m])
    pane = win.details
    qtbot.waitUntil(lambda: '"schemaVersion": 2' in pane.preview.toPlainText(), timeout=5000)
    assert pane.digest.text() == m
    assert "\n  " in pane.preview.toPlainText()  # indented: pretty-printed
    assert parent in [i.data(0, DIGEST_ROLE) for i in pane.refs.items()]  # a link, before the graph is built
    qtbot.waitUntil(lambda: win.blob_model.get(m).media_type.endswith("manifest.v1+json"), timeout=5000)
    # the media-type column fills by itself, with what the manifest declares for its config
    qtbot.waitUntil(lambda: win.blob_model.get(config).media_type.endswith("config.v1+json"), timeout=5000)
    assert win.blob_model.get(parent).media_type  # recognised too (plain text here)


def test_label_markup_is_shown_literally(qtbot, make_window, store):
    evil = "<b>x</b><img src=x>"
    d = add_blob(store, b"markup", {evil: evil})
    win = make_window(store.root)
    select_digests(win, [d])
    qtbot.waitUntil(lambda: win.details.current == d)
    assert win.details.labels.textFormat() == Qt.TextFormat.PlainText
    assert evil in win.details.labels.text()
    for label in win.details.findChildren(QLabel):
        if label.text():
            assert label.textFormat() == Qt.TextFormat.PlainText, label.objectName()
    row = win.blob_model.row_for(d)
    assert win.blob_model.data(win.blob_model.index(row, COL_LABELS)) == f"{evil}={evil}"
    # the rendered pixels of the label hold text, not a bold run and an image: the width of
    # the literal string is what the label asks for
    fm = win.details.labels.fontMetrics()
    assert win.details.labels.sizeHint().width() >= fm.horizontalAdvance("<b>x</b>")


def test_blob_committed_by_another_thread_shows_up_without_refresh(qtbot, make_window, store):
    add_blob(store, b"first")
    win = make_window(store.root)
    qtbot.waitUntil(lambda: len(win.watcher.watched()) >= 2, timeout=5000)
    t = threading.Thread(target=add_blob, args=(store, b"second, from elsewhere"))
    t.start()
    t.join()
    new = store.info(next(d for d in (i.digest for i in store.walk()) if d not in blob_digests(win))).digest
    qtbot.waitUntil(lambda: new in blob_digests(win), timeout=5000)


def test_a_change_does_not_set_off_the_next_one(qtbot, make_window, store):
    """The scanner's own read of labels.db must not look like a change: one change, one update,
    and no full rescan at all (the watcher names the blob, design.md §5.2)."""
    add_blob(store, b"labelled", {"note": "x"})
    win = make_window(store.root)
    worker = win.scanner.worker
    scans, updates = worker.full_scans, worker.updates
    d = add_blob(store, b"from elsewhere", {"note": "y"})
    qtbot.waitUntil(lambda: d in blob_digests(win), timeout=5000)
    qtbot.wait(1000)  # many watcher intervals: an update that set off another would show here
    settled = worker.updates
    qtbot.wait(1000)
    assert worker.updates == settled and settled - updates <= 3
    assert worker.full_scans == scans


def test_growing_ingest_progress_moves_by_itself(qtbot, make_window, store):
    w = store.writer("growing", total=100)
    w.write(b"a" * 10)
    try:
        win = make_window(store.root)
        assert win.ingest_model.row_at(0).offset == 10
        w.write(b"b" * 30)
        qtbot.waitUntil(lambda: win.ingest_model.rowCount() == 1 and win.ingest_model.row_at(0).offset == 40,
                        timeout=5000)
    finally:
        w.close()


def test_f5_rescans(qtbot, make_window, store):
    win = make_window(store.root)
    win.watcher.stop()  # prove that F5 alone finds the change
    d = add_blob(store, b"late")
    with qtbot.waitSignal(win.scanFinished, timeout=5000):
        qtbot.keyClick(win.blob_view, Qt.Key.Key_F5)
    assert d in blob_digests(win)


def test_new_ingest_shows_up_without_relisting_blobs(qtbot, make_window, store):
    add_blob(store, b"one")
    win = make_window(store.root)
    scans = []
    win.scanFinished.connect(lambda: scans.append(1))
    store.root.joinpath("ingest").mkdir(exist_ok=True)
    qtbot.waitUntil(lambda: any(p.endswith("/ingest") for p in win.watcher.watched()), timeout=5000)
    scans.clear()
    w = store.writer("appears-later", total=10)
    try:
        w.write(b"12345")
        qtbot.waitUntil(lambda: win.ingest_model.rowCount() == 1, timeout=5000)
        assert win.ingest_model.row_at(0).ref == "appears-later"
    finally:
        w.close()
    assert scans == []  # the ingest came from a poll, the 100k-blob listing was not repeated


def test_namespaces_are_offered_and_switch_the_view(qtbot, make_window, tmp_path, dialogs, settings):
    """A containerd source has namespaces; the source bar lists them and switching re-lists."""
    from gui.context import AppContext
    from gui.main_window import MainWindow
    from store import LocalStore

    stores = {ns: LocalStore(tmp_path / ns) for ns in ("default", "k8s.io")}
    d_default = add_blob(stores["default"], b"in default")
    d_k8s = add_blob(stores["k8s.io"], b"in k8s.io")

    class Root:
        def list_namespaces(self):
            return ["default", "k8s.io"]

        def store(self, ns):
            return View(ns)

    class View:
        containerd_root = Root()

        def __init__(self, ns):
            self.namespace = ns
            self._s = stores[ns]

        def describe(self):
            return f"test containerd, namespace {self.namespace}"

        def __getattr__(self, name):
            return getattr(self._s, name)

    ctx = AppContext(dialogs=dialogs, settings=settings, open_store=lambda path: View("default"))
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    win.show()
    try:
        with qtbot.waitSignal(win.scanFinished, timeout=10000):
            win.open_store("containerd-root")
        assert blob_digests(win) == {d_default}
        qtbot.waitUntil(lambda: win.namespace_box.count() == 2, timeout=5000)
        assert win.namespace_actions[1].isVisible()
        assert "namespace default" in win.store_label.text()
        with qtbot.waitSignal(win.scanFinished, timeout=10000):
            win.namespace_box.setCurrentText("k8s.io")
        assert blob_digests(win) == {d_k8s}
        assert "namespace k8s.io" in win.store_label.text()
    finally:
        win.shutdown()


def test_plain_store_has_no_namespace_box(qtbot, make_window, store):
    win = make_window(store.root)
    wait_jobs(qtbot, win)
    assert not win.namespace_actions[1].isVisible()


def test_details_pane_takes_references_from_the_graph_without_searching_labels(qtbot, make_window, store):
    """Once the image graph has a blob, the details pane shows its references and does not search
    the label sets for the blob's parents too (50-120 ms of the GUI thread per click at 1M blobs)."""
    layer = add_blob(store, b"layer bytes")
    index = add_blob(store, b"index", {"containerd.io/gc.ref.content.l.0": str(layer)})
    other = add_blob(store, b"other", {"containerd.io/gc.ref.content.l.0": str(layer)})
    win = make_window(store.root)
    searched: list[str] = []
    of = win.referrers.of
    win.referrers.of = lambda d: searched.append(d) or of(d)  # type: ignore[method-assign]
    select_digests(win, [layer])  # before the graph: the label parents
    qtbot.waitUntil(lambda: win.details.current == layer)
    assert {index, other} <= {i.data(0, DIGEST_ROLE) for i in win.details.refs.items()}
    qtbot.waitUntil(lambda: win.image_graph.answers(layer), timeout=15000)
    assert searched == ([layer] if searched else [])
    searched.clear()
    select_digests(win, [other])
    qtbot.waitUntil(lambda: win.details.current == other)
    select_digests(win, [layer])
    qtbot.waitUntil(lambda: win.details.current == layer)
    assert searched == []
    assert win.details.refs.digest == layer
    assert {index, other} <= {i.data(0, DIGEST_ROLE) for i in win.details.refs.items()}
