"""Several sources in the window: the saved list (QSettings), switching between a local store and a
daemon, Compare with…, a daemon stopped and restarted under an open window, the offer to use a
running daemon's socket, and ``blobscope --address``."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QSettings

from gui.sources.saved import SETTINGS_KEY, Source, SourceList
from store import Digest, LocalStore
from tests.gui.conftest import add_blob, blob_digests, wait_jobs

GC = "containerd.io/gc.root=keep"




def daemon_blob(daemon, data: bytes, namespace: str = "default") -> str:
    d = Digest.from_bytes(data)
    daemon.ctr("content", "ingest", "--expected-size", str(len(data)), "--expected-digest", d, f"r-{d.encoded[:8]}",
               input=data, namespace=namespace)
    daemon.ctr("content", "label", d, GC, namespace=namespace)
    return d


# ---------------------------------------------------------------------------------- persistence

def test_source_list_round_trip_keeps_unknown_keys(tmp_path):
    path = str(tmp_path / "s.ini")
    settings = QSettings(path, QSettings.Format.IniFormat)
    lst = SourceList(settings)
    assert lst.load() == []
    lst.add(Source("/data/store"))
    lst.add(Source("tcp://node-3:1234", name="node-3", namespace="k8s.io", tls_ca="/etc/ca.pem"))
    lst.add(Source("unix:///run/containerd/containerd.sock", namespace="moby"))
    lst.add(Source("/data/store", name="renamed"))  # same target: updated in place, not duplicated
    lst.set_namespace("unix:///run/containerd/containerd.sock", "default")
    raw = json.loads(settings.value(SETTINGS_KEY))
    raw[0]["added_by_a_newer_version"] = 1
    settings.setValue(SETTINGS_KEY, json.dumps(raw))
    settings.sync()
    again = SourceList(QSettings(path, QSettings.Format.IniFormat)).load()
    assert [s.target for s in again] == ["/data/store", "tcp://node-3:1234", "unix:///run/containerd/containerd.sock"]
    assert again[0].name == "renamed" and again[1].tls_ca == "/etc/ca.pem" and again[1].namespace == "k8s.io"
    assert again[2].namespace == "default" and again[1].label == "node-3 [k8s.io]"
    assert again[0].extra == {"added_by_a_newer_version": 1}
    assert again[0].to_json()["added_by_a_newer_version"] == 1
    settings.setValue(SETTINGS_KEY, "{not json")
    assert SourceList(settings).load() == []


def test_sources_dialog_edits_the_saved_list(qtbot, make_window, store, tmp_path, settings, dialogs):
    add_blob(store, b"local")
    win = make_window(store.root)
    assert win.sources_ui.source_box.currentText() == str(store.root)  # an opened store joins the list
    dlg = win.sources_ui.show_sources_dialog()
    ca, cert, key = (tmp_path / n for n in ("ca.pem", "cert.pem", "key.pem"))
    for f in (ca, cert, key):
        f.write_text("-----BEGIN CERTIFICATE-----\n")
    # refused forms say why and save nothing
    for target, tls, ns, why in [("", "", "default", "Give a directory"),
                                 ("ftp://x", "", "default", "unix://, tcp:// or ssh://"),
                                 ("ssh://-oProxyCommand=x", "", "default", "which ssh would read as an option"),
                                 ("ssh://root@h/run/c:d.sock", "", "default", "no ':'"),
                                 ("unix:///x.sock", str(ca), "default", "tcp:// addresses only"),
                                 ("tcp://h:1", str(tmp_path / "nope.pem"), "default", "no file"),
                                 ("tcp://h:1", "", "bad/ns", "not a valid containerd identifier")]:
        dlg.target_edit.setText(target)
        dlg.ca_edit.setText(tls)
        dlg.namespace_edit.setText(ns)
        assert not dlg.save_current()
        assert why in dlg.error_label.text()
    dlg.target_edit.setText("tcp://node-3:7777")
    dlg.name_edit.setText("node-3")
    dlg.namespace_edit.setText("k8s.io")
    dlg.ca_edit.setText(str(ca))
    dlg.cert_edit.setText(str(cert))
    dlg.key_edit.setText(str(key))
    assert dlg.save_current() and dlg.error_label.text() == ""
    for f in (dlg.ca_edit, dlg.cert_edit, dlg.key_edit, dlg.name_edit):
        f.clear()
    dlg.namespace_edit.setText("default")
    dlg.target_edit.setText("unix:///run/other.sock")
    assert dlg.save_current()
    assert dlg.list.count() == 3
    box = win.sources_ui.source_box
    assert [box.itemText(i) for i in range(box.count())] == [str(store.root), "node-3 [k8s.io]",
                                                             "unix:///run/other.sock"]
    dlg.reload(select="unix:///run/other.sock")
    dlg.remove_selected()
    assert dlg.list.count() == 2
    dlg.close()
    # a fresh window on the same settings file has the same list
    settings.sync()
    fresh = SourceList(QSettings(settings.fileName(), QSettings.Format.IniFormat)).load()
    assert [s.target for s in fresh] == [str(store.root), "tcp://node-3:7777"]
    tcp = fresh[1]
    assert (tcp.name, tcp.namespace, tcp.tls_ca, tcp.tls_cert, tcp.tls_key) == \
        ("node-3", "k8s.io", str(ca), str(cert), str(key))
    assert tcp.tls().ca == str(ca)
    assert dialogs.errors == []


def test_sources_dialog_takes_ssh_nodes_fleet_files_and_an_ssh_config_path(qtbot, make_window, store, tmp_path,
                                                                         settings, dialogs):
    from gui.fleet.settings import SSH_CONFIG_KEY
    win = make_window(store.root)
    dlg = win.sources_ui.show_sources_dialog()
    dlg.ssh_config_edit.setText(str(tmp_path / "no-such-config"))
    assert not dlg.save_ssh_config() and "There is no file" in dlg.error_label.text()
    assert settings.value(SSH_CONFIG_KEY) is None
    config = tmp_path / "ssh_config"
    config.write_text("Host *\n  BatchMode yes\n")
    dlg.ssh_config_edit.setText(str(config))
    dlg.target_edit.setText("ssh://root@node-7:2222/run/k3s/containerd/containerd.sock")
    assert dlg.save_current()
    assert settings.value(SSH_CONFIG_KEY) == str(config)  # the path, nothing else
    fleet = tmp_path / "fleet.txt"
    fleet.write_text("# nothing but a comment\n")
    dlg.target_edit.setText(str(fleet))
    assert dlg.save_current()
    saved = {s.target: s for s in win.sources_ui.sources.load()}
    assert saved["ssh://root@node-7:2222/run/k3s/containerd/containerd.sock"].is_ssh
    assert saved[str(fleet)].is_fleet and not saved[str(fleet)].is_plain_directory
    assert str(fleet) not in [c.target for c in win.sources_ui.compare_choices()]  # many stores, not one
    # opening a fleet file that names no node: the Fleet tab says why, and so does a dialog
    dlg.reload(select=str(fleet))
    dlg.open_selected()
    tab = win.sources_ui.fleet_tab
    qtbot.waitUntil(lambda: bool(dialogs.errors), timeout=10000)
    assert "names no node" in dialogs.errors[-1] and "names no node" in tab.summary.text()
    assert win.view_tabs.currentWidget() is tab and not tab.running
    dlg.close()


# ---------------------------------------------------------------------------------- with a daemon

@pytest.mark.integration
@pytest.mark.timeout(180)
def test_switch_between_local_store_and_daemon_and_compare(qtbot, make_window, store, containerd, dialogs,
                                                           tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    only_local = add_blob(store, b"only on this laptop")
    shared_local = add_blob(store, b"shared bytes")
    shared = daemon_blob(containerd, b"shared bytes")
    only_daemon = daemon_blob(containerd, b"only on the node")
    other_ns = daemon_blob(containerd, b"team b", namespace="team-b")
    assert shared == shared_local
    win = make_window(store.root)
    assert blob_digests(win) == {only_local, shared}
    # add the daemon through the dialog, then pick it in the source bar
    dlg = win.sources_ui.show_sources_dialog()
    dlg.target_edit.setText(f"unix://{containerd.address}")
    dlg.name_edit.setText("test node")
    assert dlg.save_current()
    dlg.close()
    box = win.sources_ui.source_box
    index = box.findData(f"unix://{containerd.address}")
    assert box.itemText(index) == "test node"
    with qtbot.waitSignal(win.scanFinished, timeout=20000):
        box.activated.emit(index)
    assert type(win.store).__name__ == "ContainerdStore" and win.store.namespace == "default"
    assert blob_digests(win) == {shared, only_daemon}
    wait_jobs(qtbot, win)
    assert [win.namespace_box.itemText(i) for i in range(win.namespace_box.count())] == ["default", "team-b"]
    # the namespace chooser on the daemon source; the saved source remembers it
    with qtbot.waitSignal(win.scanFinished, timeout=20000):
        win.namespace_box.setCurrentText("team-b")
    assert blob_digests(win) == {other_ns}
    assert win.sources_ui.sources.find(f"unix://{containerd.address}").namespace == "team-b"
    assert box.currentText() == "test node [team-b]"
    with qtbot.waitSignal(win.scanFinished, timeout=20000):
        win.namespace_box.setCurrentText("default")
    # back to the local store
    with qtbot.waitSignal(win.scanFinished, timeout=20000):
        box.activated.emit(box.findData(str(store.root)))
    assert isinstance(win.store, LocalStore) and blob_digests(win) == {only_local, shared}
    wait_jobs(qtbot, win)

    # Compare with… the daemon (namespace default), on a worker
    win.action_map["actionCompare"].trigger()
    cmp = win.sources_ui.compare_dialog
    assert cmp.isVisible()
    assert cmp.select(f"unix://{containerd.address}", "default")
    with qtbot.waitSignal(win.sources_ui.compareDone, timeout=30000):
        cmp.compare_button.click()
    assert cmp.digests("here") == [only_local]
    assert cmp.digests("there") == [only_daemon]
    assert "1 blobs in both, 1 only here, 1 only there" in cmp.summary.text()
    assert "test node" in cmp.there_caption.text()
    row = cmp.only_there.topLevelItem(0)
    assert "containerd.io/gc.root=keep" in row.text(2)
    # the daemon's namespaces are choices too when the window is on the daemon
    with qtbot.waitSignal(win.scanFinished, timeout=20000):
        box.activated.emit(index)
    wait_jobs(qtbot, win)
    win.action_map["actionCompare"].trigger()
    assert cmp.select(f"unix://{containerd.address}", "team-b")
    with qtbot.waitSignal(win.sources_ui.compareDone, timeout=30000):
        cmp.compare_button.click()
    assert sorted(cmp.digests("here")) == sorted([shared, only_daemon]) and cmp.digests("there") == [other_ns]
    cmp.close()
    assert dialogs.errors == []


@pytest.mark.integration
@pytest.mark.timeout(180)
def test_daemon_stopped_and_restarted_under_the_window(qtbot, make_window, containerd, dialogs, tmp_path,
                                                        monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    first = daemon_blob(containerd, b"before the restart")
    win = make_window(f"unix://{containerd.address}")
    assert blob_digests(win) == {first}
    ui = win.sources_ui
    wait_jobs(qtbot, win)
    with qtbot.waitSignal(ui.connectionLost, timeout=20000):
        containerd.stop()
        win.refresh()  # F5 while the daemon is gone
    qtbot.waitUntil(lambda: not win._scanning, timeout=20000)
    assert ui.connection_badge.isVisible() and ui.lost
    assert "Lost the connection" in win.statusBar().currentMessage()
    assert f"containerd at unix://{containerd.address}" in ui.connection_badge.toolTip()
    assert dialogs.errors == []  # a status, not an error box per scan
    assert blob_digests(win) == {first}  # the last listing stays visible
    win.refresh()  # F5 again while still down: still just the status
    qtbot.waitUntil(lambda: not win._scanning, timeout=20000)
    assert ui.connection_badge.isVisible() and dialogs.errors == []
    containerd.start()
    second = daemon_blob(containerd, b"after the restart")
    with qtbot.waitSignal(ui.connectionRestored, timeout=30000):
        pass  # by itself (channel state or the reconnect timer), no restart of the window
    if win._scanning or blob_digests(win) != {first, second}:
        with qtbot.waitSignal(win.scanFinished, timeout=20000):
            win.refresh()
    assert blob_digests(win) == {first, second}
    assert not ui.connection_badge.isVisible() and ui.lost is None
    assert dialogs.errors == []


@pytest.mark.integration
@pytest.mark.timeout(180)
def test_opening_a_running_daemons_root_offers_its_socket(qtbot, make_window, containerd, dialogs, tmp_path,
                                                          monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    d = daemon_blob(containerd, b"live node")
    dialogs.answer("confirm", True)
    win = make_window(containerd.root, wait=False)
    qtbot.waitUntil(lambda: win.store is not None and blob_digests(win) == {d}, timeout=20000)
    kind, (title, text, detail) = dialogs.asked[0]
    assert kind == "confirm" and str(containerd.root) in text and "running" in text
    assert containerd.address in detail
    assert type(win.store).__name__ == "ContainerdStore" and containerd.address in win.store.address
    assert blob_digests(win) == {d} and not win.store.read_only
    win.shutdown()
    # declined: the files, read-only, and the question was asked once
    dialogs.answer("confirm", False)
    win2 = make_window(containerd.content_root, wait=False)
    qtbot.waitUntil(lambda: win2.store is not None and d in blob_digests(win2), timeout=20000)
    assert len([a for a in dialogs.asked if a[0] == "confirm"]) == 2
    assert isinstance(win2.store, LocalStore) and win2.store.read_only
    assert d in blob_digests(win2)
    # a stopped root is opened offline without a question
    win2.shutdown()
    containerd.stop()
    win3 = make_window(containerd.root, wait=False)
    qtbot.waitUntil(lambda: win3.store is not None and blob_digests(win3) == {d}, timeout=20000)
    assert len([a for a in dialogs.asked if a[0] == "confirm"]) == 2
    assert win3.store.read_only and blob_digests(win3) == {d}


@pytest.mark.integration
@pytest.mark.timeout(180)
def test_blobscope_address_opens_the_daemon(qtbot, containerd, tmp_path, monkeypatch):
    import gui
    from gui import main_window

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    d = daemon_blob(containerd, b"in namespace ops", namespace="ops")
    opened = []
    real = main_window.MainWindow.set_store

    def record(self, store, **kw):
        opened.append(store)
        return real(self, store, **kw)

    monkeypatch.setattr(main_window.MainWindow, "set_store", record)
    shot = tmp_path / "shot.png"
    code = gui.main(["--address", containerd.address, "-n", "ops", "--screenshot", str(shot)])
    assert code == 0 and shot.is_file()
    assert opened and type(opened[0]).__name__ == "ContainerdStore"
    assert opened[0].namespace == "ops" and opened[0].address == containerd.address
    assert [i.digest for i in opened[0].walk()] == [d]


def test_compare_needs_an_open_source_and_another_one(qtbot, make_window, store, dialogs, settings):
    from gui.context import AppContext
    from gui.main_window import MainWindow

    empty = MainWindow(AppContext(dialogs=dialogs, settings=settings))
    qtbot.addWidget(empty)
    assert not empty.action_map["actionCompare"].isEnabled()
    empty.shutdown()
    add_blob(store, b"x")
    win = make_window(store.root)
    assert win.action_map["actionCompare"].isEnabled()
    win.action_map["actionCompare"].trigger()
    dlg = win.sources_ui.compare_dialog
    assert not dlg.compare_button.isEnabled() and "no other source" in dlg.summary.text()
    dlg.close()


def test_a_store_kept_out_of_the_list_still_names_itself(qtbot, dialogs, settings, store, tmp_path):
    """--demo and --screenshot stores are not saved; the Source box then says so instead of
    looking empty, and a saved store shows its own entry."""
    from gui.context import AppContext
    from gui.main_window import MainWindow

    add_blob(store, b"unsaved")
    ctx = AppContext(dialogs=dialogs, settings=settings, default_store=lambda: tmp_path / "default-store")
    ctx.remember = False
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.show()
    try:
        with qtbot.waitSignal(w.scanFinished, timeout=15000):
            w.open_store(str(store.root))
        box = w.sources_ui.source_box
        assert box.currentIndex() == -1 and box.placeholderText() == "(not in the list)"
        assert SourceList(settings).load() == []
    finally:
        w.shutdown()


def test_a_lost_daemon_is_told_from_a_refusal():
    """is_connection_error: a transport failure (or a scan's text of one) is a lost daemon; a held ref lock,
    the daemon's or a local store's, is a refusal, not a reason to show "Lost the connection"."""
    import grpc

    from gui.sources import opening as sources
    from store import errors
    from store.containerd import _rpc
    from tests.unit.test_containerd_rpc import FakeRpcError

    gone = _rpc.translate(FakeRpcError(grpc.StatusCode.UNAVAILABLE, "failed to connect to all addresses"), "/s.sock")
    locked = _rpc.translate(FakeRpcError(grpc.StatusCode.UNAVAILABLE, "ref default/1/r locked for 1s"), "/s.sock")
    assert sources.is_connection_error(gone) and sources.is_connection_error(str(gone))
    assert not sources.is_connection_error(locked)
    assert not sources.is_connection_error(errors.Unavailable("content sha256:ab is locked by another writer"))
    assert not sources.is_connection_error(errors.NotFound("no such blob"))
