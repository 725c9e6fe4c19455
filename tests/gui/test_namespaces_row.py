"""The details pane's "Namespaces:" row: which containerd namespaces hold the selected blob, asked on a
worker (live daemon and offline root), stale answers dropped, errors a note in the row, hidden for a
plain local store."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QFormLayout

from store import Digest
from store.containerd.client import ContainerdStore
from tests.gui.conftest import add_blob, blob_digests, select_digests, wait_jobs

GC = "containerd.io/gc.root=x"


def put(daemon, data: bytes, namespace: str) -> str:
    d = Digest.from_bytes(data)
    daemon.ctr("content", "ingest", "--expected-size", str(len(data)), "--expected-digest", d,
               f"ns-{namespace}-{d.encoded[:8]}", input=data, namespace=namespace)
    daemon.ctr("content", "label", d, GC, namespace=namespace)  # kept by GC
    return d


def row_shown(win) -> bool:
    form = win.details._form
    return form.isRowVisible(win.details.namespaces) and win.details.namespaces.isVisibleTo(win)


def caption(win) -> str:
    form = win.details._form
    row, _ = form.getWidgetPosition(win.details.namespaces)
    return form.itemAt(row, QFormLayout.ItemRole.LabelRole).widget().text()


def wait_row(qtbot, win, digest: str, text: str) -> None:
    win.commands.select_blob.run(digest)
    qtbot.waitUntil(lambda: win.details.current == digest and win.details.namespaces.text() == text,
                    timeout=20000)


@pytest.mark.integration
@pytest.mark.timeout(180)
def test_namespaces_row_on_a_live_daemon_and_its_stopped_root(qtbot, make_window, containerd, dialogs,  # noqa: F811
                                                               tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))  # a daemon store caches per user
    shared = put(containerd, b"held by two namespaces", "default")
    # ctr cannot ingest bytes the daemon already has into a second namespace (it tries to seek stdin);
    # the library's import through the daemon can
    src = tmp_path / "shared.bin"
    src.write_bytes(b"held by two namespaces")
    other = ContainerdStore(f"unix://{containerd.address}", "other")
    try:
        assert other.import_file(src, labels={"containerd.io/gc.root": "x"}).digest == shared
    finally:
        other.close()
    alone = put(containerd, b"only in default", "default")
    win = make_window(f"unix://{containerd.address}")
    assert blob_digests(win) == {shared, alone}
    assert row_shown(win) and caption(win) == "Namespaces:"
    from PySide6.QtCore import Qt
    assert win.details.namespaces.textFormat() == Qt.TextFormat.PlainText

    wait_row(qtbot, win, shared, "default, other")
    win.details.grab().save("/tmp/ns_row.png")
    wait_row(qtbot, win, alone, "default")

    # a quick change of selection: the answer for the blob left behind never lands in the row
    select_digests(win, [shared])
    win.preview_timer.stop()
    win._load_namespaces()  # the lookup for `shared` is running when the selection moves on
    select_digests(win, [alone])
    qtbot.waitUntil(lambda: not win.preview_timer.isActive() and win.runner.active == 0, timeout=20000)
    assert win.details.current == alone and win.details.namespaces.text() == "default"
    win.details.show_namespaces(shared, ["default", "other"])  # a late answer for an older selection
    assert win.details.namespaces.text() == "default"


    # the daemon goes away: the lookup's error is a short note in the row, not a dialog
    wait_jobs(qtbot, win)
    containerd.stop()
    select_digests(win, [shared])
    qtbot.waitUntil(lambda: win.details.namespaces.text().startswith("Could not look up the namespaces: "),
                    timeout=30000)
    note = win.details.namespaces.text()
    assert "\n" not in note and len(note) < 300
    assert dialogs.errors == []

    # the stopped root, read from a copy of meta.db: the same answer, offline
    off = make_window(containerd.root)
    assert row_shown(off)
    assert blob_digests(off) == {shared, alone}
    wait_row(qtbot, off, shared, "default, other")
    wait_row(qtbot, off, alone, "default")
    wait_jobs(qtbot, off)


def test_namespaces_row_hidden_for_a_local_store(qtbot, make_window, store):
    d = add_blob(store, b"plain local blob")
    win = make_window(store.root)
    assert not row_shown(win)
    started: list[str] = []
    win.runner.jobStarted.connect(started.append)
    win.commands.select_blob.run(d)
    qtbot.waitUntil(lambda: win.details.preview.toPlainText() == "plain local blob", timeout=15000)
    wait_jobs(qtbot, win)
    assert not row_shown(win) and win.details.namespaces.text() == ""
    assert any(name.startswith("preview") for name in started)
    assert not any(name.startswith("namespaces of") for name in started)  # nothing to ask a plain store
