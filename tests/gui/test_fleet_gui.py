"""The Fleet tab and ``ssh://`` sources against real sshd processes on loopback, each in front of
its own private containerd (tests/support/sshd.py), plus a dead node (a closed loopback port) and a
node that never answers (a listening port that sends no banner).  Every figure is checked against
each daemon's own ``ctr content ls``.  The machine's sshd, keys and ~/.ssh are never used."""

from __future__ import annotations

import socket
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from gui.fleet.node_table import RECLAIMABLE
from gui.fleet.settings import SSH_CONFIG_KEY, set_ssh_config
from store import Digest
from store.containerd import ContainerdStore
from store.fleet import SshOptions
from tests.gui.conftest import blob_digests, fit_node_columns, wait_jobs
from tests.support.sshd import FleetLab, free_port, ssh_clients
from tests.support.sshd import put_blob as put

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

ARTIFACTS = Path(__file__).resolve().parents[1] / "_artifacts" / "fleet"
SHARED, ONLY0, ONLY1 = b"on every node", b"only on node 0", b"only on node 1, and longer"
# image records: app:1 names different blobs on the two nodes, only1:1 is on node 1 alone (drift);
# base:1 is the same everywhere (not drift)
IMAGES = ({"example.org/app:1": SHARED, "example.org/base:1": SHARED},
          {"example.org/app:1": ONLY1, "example.org/base:1": SHARED, "example.org/only1:1": ONLY1})


def name_image(daemon, name: str, data: bytes) -> None:
    """An image record ``name`` -> the blob of ``data`` (the Images service's Create, as a pull ends;
    our stubs are read-only, so the request is the Image message in field 1, sent as bytes)."""
    import grpc

    from store.containerd._pb import images_pb2
    target = images_pb2.Descriptor(media_type="application/vnd.oci.image.manifest.v1+json",
                                   digest=str(Digest.from_bytes(data)), size=len(data))
    image = images_pb2.Image(name=name, target=target).SerializeToString()
    n, length = len(image), b""
    while True:  # the length as a protobuf varint
        length += bytes([(n & 0x7F) | (0x80 if n > 0x7F else 0)])
        n >>= 7
        if not n:
            break
    with grpc.insecure_channel(f"unix://{daemon.address}") as ch:
        create = ch.unary_unary("/containerd.services.images.v1.Images/Create",
                                request_serializer=lambda b: b, response_deserializer=lambda b: b)
        create(b"\x0a" + length + image, metadata=[("containerd-namespace", "default")], timeout=30)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    base = tmp_path_factory.mktemp("fleetgui")
    with FleetLab(base, 2) as lab:
        for i, extra in enumerate((ONLY0, ONLY1)):
            put(lab.daemons[i], SHARED, base)
            put(lab.daemons[i], extra, base)
        with ContainerdStore(lab.daemons[1].address) as s:  # an ingest left open: a stalled pull
            w = s.writer("stalled-pull", total=100)
            w.write(b"0123456789")
            w.close()
        for daemon, images in zip(lab.daemons, IMAGES):
            for name, data in images.items():
                name_image(daemon, name, data)
        yield lab


def ssh_processes(lab) -> list[str]:
    return ssh_clients(lab.client.config)


def run_fleet(qtbot, win, fleet: Path, *, stalled_after=None):
    tab = win.sources_ui.show_fleet(str(fleet))
    if stalled_after is not None:  # before any node's event: they arrive from the event loop
        tab.node_table.stalled_after = stalled_after
    qtbot.waitUntil(lambda: tab.fleet_path == str(fleet) and not tab.running
                    and set(tab.node_table.states.values()) <= {"done", "failed", "cancelled"}
                    and tab.digests.nodes != [], timeout=60000)
    return tab


def write_inventory(lab, path: Path, dead_port: int) -> list[str]:
    """An Ansible INI inventory: the names are its host names, as scripts outside match them."""
    lines = ["[nodes]"]
    for i, name in enumerate(("node-a", "node-b")):
        lines.append(f"{name} ansible_host=127.0.0.1 ansible_port={lab.servers[i].port} ansible_user=root "
                     f"containerd_socket={lab.daemons[i].address}")
    lines.append(f"node-down ansible_host=127.0.0.1 ansible_port={dead_port} ansible_user=root")
    path.write_text("\n".join(lines) + "\n")
    return ["node-a", "node-b", "node-down"]


def render(qtbot, win, tab, path: Path) -> None:
    win.resize(1360, 860)
    win.main_splitter.setSizes([1200, 160])  # the blob details pane has nothing to say about a fleet
    fit_node_columns(tab.node_table, name=140)
    qtbot.wait(50)  # the new size laid out
    # nothing pushed behind the toolbar's overflow arrow at this width, the filter row shown whole
    hidden = [a.text() for a in tab.toolbar.actions()
              if not a.isSeparator() and not tab.toolbar.widgetForAction(a).isVisible()]
    assert hidden == []
    for box in (tab.namespace_box, tab.scope_box, tab.filter_edit):
        assert box.isVisible() and box.width() >= box.minimumSizeHint().width()
    path.parent.mkdir(parents=True, exist_ok=True)
    assert tab.grab().save(str(path))
    img = QImage(str(path))
    assert not img.isNull() and img.width() > 900


def test_fleet_tab_fills_per_node_and_per_digest_like_each_daemon(qtbot, make_window, settings, lab, tmp_path):
    fleet = tmp_path / "fleet.ini"
    *names, dead = write_inventory(lab, fleet, free_port())  # nothing listens on node-down's port
    truth = [set(d.content_ls()) for d in lab.daemons]
    set_ssh_config(settings, str(lab.client.config))
    win = make_window(tmp_path / "store")
    tab = run_fleet(qtbot, win, fleet, stalled_after=timedelta(0))
    assert win.view_tabs.currentWidget() is tab

    nodes = tab.node_table
    assert list(nodes.items) == [*names, dead]  # named as the file writes them, in its order
    assert [nodes.states[n] for n in names] == ["done", "done"] and nodes.states[dead] == "failed"
    dead_row = nodes.row_texts(dead)
    assert "Connection refused" in dead_row["reason"] and tab.outcomes[dead].kind == "unreachable"
    for i, name in enumerate(names):
        row = nodes.row_texts(name)
        assert row["blobs"] == f"{len(truth[i]):,}" and row["reason"] == ""
        assert row["snapshots"] == "0 · 0 Bytes"  # no image unpacked (ctr snapshots usage: none)
    assert nodes.row_texts(names[0])["unique"] == f"1 · {len(ONLY0)} Bytes"  # the blob no other node has
    assert nodes.row_texts(names[1])["unique"] == f"1 · {len(ONLY1)} Bytes"
    assert nodes.row_texts(names[0])["ingests"] == "0"
    assert nodes.row_texts(names[1])["ingests"] == "1 (1 stalled)"
    # every blob is a gc.root or an image's target, the ingest is not expired: the dry run collects nothing
    assert [nodes.row_texts(n)["reclaimable"] for n in names] == ["0 Bytes", "0 Bytes"]
    assert nodes.row_texts(dead)["reclaimable"] == ""
    assert nodes.bars == {}  # every progress bar gave way to the figures

    model = tab.digests
    assert model.nodes == names
    shown = {model.row_at(i)["digest"]: set(model.row_at(i)["nodes"]) for i in range(model.rowCount())}
    assert shown == {d: {n for n, t in zip(names, truth) if d in t} for d in truth[0] | truth[1]}

    only0, only1 = str(Digest.from_bytes(ONLY0)), str(Digest.from_bytes(ONLY1))
    tab.drift_action.trigger()  # digests on some nodes and not others: here, on one node only
    assert {model.row_at(i)["digest"] for i in range(model.rowCount())} == truth[0] ^ truth[1] == {only0, only1}
    tab.drift_action.trigger()
    tab.scope_box.setCurrentIndex(tab.scope_box.findData("shared"))
    assert {model.row_at(i)["digest"] for i in range(model.rowCount())} == truth[0] & truth[1]
    tab.scope_box.setCurrentIndex(tab.scope_box.findData("unique"))
    assert {model.row_at(i)["digest"] for i in range(model.rowCount())} == {only0, only1}
    tab.scope_box.setCurrentIndex(tab.scope_box.findData("all"))
    tab.filter_edit.setText(only1[7:19])
    assert [model.row_at(i)["digest"] for i in range(model.rowCount())] == [only1]
    tab.filter_edit.clear()

    assert tab.select_digest(only1)  # which nodes hold it
    assert nodes.highlighted() == [names[1]]
    details = tab.details.toPlainText()
    assert f"Present on 1:\n  {names[1]}\nAbsent on 1:\n  {names[0]}\n" in details
    assert f"  {dead}: " in details  # not known: it did not answer
    render(qtbot, win, tab, ARTIFACTS / "screenshot-fleet.png")

    # one click: image names on some nodes and not on others, or on different digests
    tab.images_action.trigger()
    assert tab.showing_images and tab.images_action.isChecked() and not tab.scope_box.isEnabled()
    images = tab.images
    truth_images = [{n: str(Digest.from_bytes(d)) for n, d in i.items()} for i in IMAGES]
    assert [images.row_at(i)["name"] for i in range(images.rowCount())] == ["example.org/app:1",
                                                                            "example.org/only1:1"]
    app = images.row_at(0)
    assert app["present"] == names and app["absent"] == [] and not app["same_target"]
    assert app["targets"] == {n: t["example.org/app:1"] for n, t in zip(names, truth_images)}
    assert (images.row_at(1)["present"], images.row_at(1)["absent"]) == ([names[1]], [names[0]])
    assert tab.select_image("example.org/only1:1") and nodes.highlighted() == [names[1]]
    assert f"Absent on 1:\n  {names[0]}\n" in tab.details.toPlainText()
    assert tab.select_image("example.org/app:1")
    assert "The name points at 2 different digests." in tab.details.toPlainText()
    tab.filter_edit.setText("only1")
    assert images.rowCount() == 1
    tab.filter_edit.clear()
    assert tab.select_image("example.org/app:1")
    render(qtbot, win, tab, ARTIFACTS / "screenshot-fleet-images.png")
    tab.images_action.trigger()  # back to the digests
    assert not tab.showing_images and tab.scope_box.isEnabled()

    # a node, double-clicked, opens in the Blobs tab through its own tunnel
    with qtbot.waitSignal(win.scanFinished, timeout=60000):
        nodes.itemActivated.emit(nodes.items["node-b"], 0)
    assert win.view_tabs.currentIndex() == 0 and blob_digests(win) == truth[1]
    assert win.store.address == lab.address(1)
    win.view_tabs.setCurrentWidget(tab)

    # Refresh queries again and lands the same figures
    tab.refresh_action.trigger()
    qtbot.waitUntil(lambda: tab.running, timeout=10000)
    qtbot.waitUntil(lambda: not tab.running and set(nodes.states.values()) <= {"done", "failed"}, timeout=60000)
    assert [nodes.states[n] for n in names] == ["done", "done"]
    # another namespace: the same nodes, none of these blobs
    tab.set_namespace("bad/ns")
    tab.refresh_action.trigger()
    assert "bad/ns" in tab.summary.text() and not tab.running
    tab.set_namespace("nothing-here")
    tab.refresh_action.trigger()
    qtbot.waitUntil(lambda: tab.running, timeout=10000)
    qtbot.waitUntil(lambda: not tab.running and set(nodes.states.values()) <= {"done", "failed"}, timeout=60000)
    assert [nodes.row_texts(n)["blobs"] for n in names] == ["0", "0"] and model.rowCount() == 0
    wait_jobs(qtbot, win)
    # node-b's, which the Blobs tab shows, and the fleet view's own, one per answering node: kept
    # open (with each node's event stream) between refreshes, docs/fleet.md §9
    assert len(ssh_processes(lab)) == 1 + len(names)
    win.shutdown()
    assert ssh_processes(lab) == []  # every tunnel was torn down
    saved = settings.value(SSH_CONFIG_KEY)
    assert saved == str(lab.client.config)  # a path, nothing else of ssh's is kept
    assert not any("key" in k.lower() for k in settings.allKeys() if k.startswith("fleet/"))
    key_line = lab.client.key.read_text().split("\n", 1)[1].splitlines()[0]  # the private key's bytes
    assert not any("PRIVATE KEY" in str(settings.value(k)) or key_line in str(settings.value(k))
                   for k in settings.allKeys())


def test_a_node_that_never_answers_blocks_nobody_and_cancel_stops_it(qtbot, make_window, settings, lab, tmp_path):
    hang = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # accepts in the backlog, sends no banner
    hang.bind(("127.0.0.1", 0))
    hang.listen(4)
    try:
        names = lab.write_fleet(tmp_path / "two.txt")
        stuck = f"ssh://root@127.0.0.1:{hang.getsockname()[1]}"
        fleet = tmp_path / "fleet.txt"
        fleet.write_text(f"{stuck}\n" + (tmp_path / "two.txt").read_text())
        set_ssh_config(settings, str(lab.client.config))
        win = make_window(tmp_path / "store")
        tab = win.sources_ui.show_fleet(str(fleet))
        # before the run starts (the file is read first): ssh must not give up on the silent port by
        # itself during the test, however loaded the machine is
        tab.ssh_options = lambda: SshOptions(config=str(lab.client.config), connect_timeout=600, open_timeout=600)
        nodes = tab.node_table
        qtbot.waitUntil(lambda: [nodes.states.get(n) for n in names] == ["done", "done"], timeout=60000)
        assert tab.running and nodes.states[stuck] == "connecting" and stuck in nodes.bars, \
            {n: (tab.outcomes[n].state, tab.outcomes[n].reason) for n in tab.outcomes}
        assert tab.cancel_action.isEnabled()
        tab.cancel_action.trigger()
        qtbot.waitUntil(lambda: not tab.running, timeout=10000)
        assert nodes.states[stuck] == "cancelled" and nodes.row_texts(stuck)["reason"]
        assert tab.digests.nodes == names  # what the answering nodes said stays shown
        assert not tab.cancel_action.isEnabled() and tab.refresh_action.isEnabled()
        # closing the window in the middle of a run stops it too, and leaves no ssh behind
        tab.refresh_action.trigger()
        qtbot.waitUntil(lambda: nodes.states.get(stuck) == "connecting", timeout=60000)
        thread = tab.query._thread
        assert thread is not None and thread.is_alive()
        win.close()
        assert not thread.is_alive() and ssh_processes(lab) == []
    finally:
        hang.close()


def test_an_ssh_node_opens_in_the_blobs_tab(qtbot, make_window, settings, lab, tmp_path):
    set_ssh_config(settings, str(lab.client.config))
    win = make_window(tmp_path / "store")
    win.runner.pool.setExpiryTimeout(20)  # pool threads retire at once: a tunnel opened on one would die
    with qtbot.waitSignal(win.scanFinished, timeout=60000):
        win.open_store(lab.address(0))
    qtbot.wait(300)  # the pool thread that asked for the store has retired by now
    assert len(ssh_processes(lab)) == 1
    with qtbot.waitSignal(win.scanFinished, timeout=60000):
        win.refresh()  # listed again through the same tunnel
    assert blob_digests(win) == set(lab.daemons[0].content_ls())
    assert win.store.address == lab.address(0)
    assert len(ssh_processes(lab)) == 1
    with qtbot.waitSignal(win.scanFinished, timeout=60000):  # another node replaces it: its tunnel closes
        win.open_store(lab.address(1))
    assert blob_digests(win) == set(lab.daemons[1].content_ls())
    wait_jobs(qtbot, win)
    assert len(ssh_processes(lab)) == 1
    win.shutdown()
    assert ssh_processes(lab) == []


def test_an_unknown_host_key_is_refused_with_its_fingerprint(qtbot, make_window, dialogs, settings, lab, tmp_path):
    strict = tmp_path / "ssh_config"  # the lab's config with an empty known_hosts
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    strict.write_text(lab.client.config.read_text().replace(str(lab.client.known_hosts), str(empty)))
    set_ssh_config(settings, str(strict))
    win = make_window(tmp_path / "store")
    with qtbot.waitSignal(win.storeFailed, timeout=60000):
        win.open_store(lab.address(1))
    assert lab.servers[1].host_key_fingerprint in dialogs.errors[-1]
    assert empty.read_text() == ""  # refused, never added


def test_fleet_tab_in_chinese_renders_its_screenshot(qtbot, make_window, settings, lab, tmp_path):
    from PySide6.QtWidgets import QApplication

    from gui import i18n
    fleet = tmp_path / "fleet.ini"
    write_inventory(lab, fleet, free_port())
    set_ssh_config(settings, str(lab.client.config))
    i18n.install(QApplication.instance(), "zh_CN")
    try:
        win = make_window(tmp_path / "store")
        tab = run_fleet(qtbot, win, fleet, stalled_after=timedelta(0))
        assert tab.refresh_action.text() == "刷新" and tab.node_table.states["node-a"] == "done"
        assert tab.node_table.row_texts("node-a")["state"] == "完成"
        assert tab.node_table.row_texts("node-b")["ingests"] == "1（1 个停滞）"
        tab.select_digest(str(Digest.from_bytes(ONLY1)))
        render(qtbot, win, tab, ARTIFACTS / "screenshot-fleet-zh_CN.png")
    finally:
        i18n.install(QApplication.instance(), "en")


def test_refresh_lists_only_changed_nodes_and_refresh_all_or_selected_the_others(
        qtbot, make_window, settings, lab, tmp_path):
    fleet = tmp_path / "fleet.txt"
    a, b = lab.write_fleet(fleet)
    doomed = put(lab.daemons[1], b"on node 1 until the fleet view is open", tmp_path)
    set_ssh_config(settings, str(lab.client.config))
    win = make_window(tmp_path / "store")
    tab = run_fleet(qtbot, win, fleet)
    nodes, model = tab.node_table, tab.digests
    assert nodes.refreshes == {a: "new", b: "new"}
    fresh = nodes.row_texts(b)["reclaimable"]  # the GC dry run of the first listing
    assert fresh.endswith("Bytes") and nodes.stale == set()

    def refreshed(action) -> None:
        with qtbot.waitSignal(tab.queryFinished, timeout=60000):
            action.trigger()
        assert not tab.running and set(nodes.states.values()) <= {"done", "failed"}

    def shown(name: str) -> set[str]:
        return {model.row_at(i)["digest"] for i in range(model.rowCount()) if name in model.row_at(i)["nodes"]}

    deleted = "blob deleted: applied at the next refresh"
    # containerd does not acknowledge a subscription: delete probe blobs until node 1's stream shows one
    for k in range(100):
        probe = put(lab.daemons[1], f"probe {k}".encode(), tmp_path)
        with ContainerdStore(lab.daemons[1].address) as s:
            s.delete(probe)
        try:
            qtbot.waitUntil(lambda: nodes.row_texts(b)["refresh"] == deleted, timeout=500)
            break
        except qtbot.TimeoutError:
            continue
    assert nodes.stale == {b}  # a delete event: the figure is older than the node's news
    refreshed(tab.refresh_action)
    assert nodes.row_texts(b)["refresh"] == "unchanged: not contacted"
    # the deletes applied without listing node 1: its dry run did not run again, its figure stays stale
    assert nodes.row_texts(b)["reclaimable"] == f"{fresh} (stale)" and nodes.stale == {b}
    assert "blobs were deleted" in nodes.items[b].toolTip(RECLAIMABLE)

    # a blob deleted on node 1: its stream says so, and Refresh contacts nobody
    with ContainerdStore(lab.daemons[1].address) as s:
        s.delete(doomed)
    qtbot.waitUntil(lambda: nodes.row_texts(b)["refresh"] == deleted, timeout=30000)
    refreshed(tab.refresh_action)
    assert nodes.refreshes == {a: "unchanged", b: "unchanged"}
    assert [nodes.row_texts(n)["state"] for n in (a, b)] == ["unchanged", "unchanged"]
    assert shown(b) == set(lab.daemons[1].content_ls()) and doomed not in shown(b)
    assert nodes.row_texts(b)["blobs"] == f"{len(lab.daemons[1].content_ls()):,}"

    # a blob written on node 0 publishes no event: Refresh does not see it, Refresh Selected does
    quiet = put(lab.daemons[0], b"committed on node 0 without an event", tmp_path)
    refreshed(tab.refresh_action)
    assert nodes.refreshes[a] == "unchanged" and quiet not in shown(a)
    assert not tab.refresh_selected_action.isEnabled()  # no node selected
    nodes.items[a].setSelected(True)
    assert tab.refresh_selected_action.isEnabled()
    refreshed(tab.refresh_selected_action)
    assert nodes.refreshes == {a: "asked", b: "unchanged"}
    assert nodes.row_texts(a)["state"] == "done" and nodes.row_texts(a)["refresh"] == "listed: asked"
    assert shown(a) == set(lab.daemons[0].content_ls()) and quiet in shown(a)
    assert nodes.stale == {b}  # Refresh Selected listed node 0 alone
    refreshed(tab.refresh_all_action)
    assert nodes.refreshes == {a: "all", b: "all"}
    assert nodes.stale == set() and nodes.row_texts(b)["reclaimable"] == fresh  # listed: dry run again
    assert [shown(a), shown(b)] == [set(d.content_ls()) for d in lab.daemons]

    # node 1's daemon stops: its row says its stream is down, and Refresh lists it (and fails it)
    lab.daemons[1].stop()
    try:
        qtbot.waitUntil(lambda: nodes.row_texts(b)["refresh"].startswith("event stream down"), timeout=30000)
        refreshed(tab.refresh_action)
        assert nodes.refreshes == {a: "unchanged", b: "stale"} and nodes.states[b] == "failed"
        assert "containerd not running" in nodes.row_texts(b)["reason"]
    finally:
        lab.daemons[1].start()
    refreshed(tab.refresh_action)
    assert nodes.refreshes == {a: "unchanged", b: "failed"} and nodes.states[b] == "done"
    assert nodes.row_texts(b)["reason"] == "" and shown(b) == set(lab.daemons[1].content_ls())
    win.shutdown()
    assert ssh_processes(lab) == []
