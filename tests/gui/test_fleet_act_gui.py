"""Acting on the fleet from the Fleet tab, against real sshd processes on loopback each in front of
its own private containerd (tests/support/sshd.py): plan on the selected nodes, ONE confirmation
(answered by the test) listing each node and its bytes and the nodes that will not be touched, then
the per-node results.  What changed is read back from each daemon's own ``ctr content ls``, never
through the tunnel that changed it."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QMessageBox

from gui.dialogs import DialogService
from gui.fleet.settings import set_ssh_config
from store import Digest
from store.containerd import ContainerdStore
from tests.gui.conftest import fit_node_columns
from tests.support.sshd import FleetLab
from tests.support.sshd import put_blob as put

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

ARTIFACTS = Path(__file__).resolve().parents[1] / "_artifacts" / "fleet"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    base = tmp_path_factory.mktemp("fleetact")
    with FleetLab(base, 3) as lab:
        yield lab


def holders(lab, digest: str) -> list[bool]:
    return [digest in d.content_ls() for d in lab.daemons]


def open_tab(qtbot, make_window, settings, lab, tmp_path):
    fleet = tmp_path / "fleet.txt"
    names = lab.write_fleet(fleet)
    set_ssh_config(settings, str(lab.client.config))
    win = make_window(tmp_path / "store")
    with qtbot.waitSignal(win.sources_ui.show_fleet(str(fleet)).queryFinished, timeout=60000):
        pass
    return win, win.sources_ui.fleet_tab, names


def choose(tab, digest: str, nodes: list[str]) -> None:
    assert tab.select_digest(digest)
    tab.node_table.clearSelection()
    for n in nodes:
        tab.node_table.items[n].setSelected(True)


def test_delete_on_two_of_three_nodes_after_one_confirmation(qtbot, make_window, settings, dialogs, lab, tmp_path):
    data = b"a blob on every node, deleted from the Fleet tab"
    digest = [put(d, data, tmp_path) for d in lab.daemons][0]
    win, tab, names = open_tab(qtbot, make_window, settings, lab, tmp_path)
    choose(tab, digest, names[:2])
    assert tab.delete_action.isEnabled()

    # the real QMessageBox, answered Cancel by the test: nothing changes on any node
    seen: dict = {}

    def answer_box() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, answer_box)
            return
        seen.update(text=box.text(), detail=box.informativeText(), ok=box.button(QMessageBox.StandardButton.Ok).text())
        box.resize(box.sizeHint())
        shot = ARTIFACTS / "screenshot-fleet-confirm.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        seen["saved"] = box.grab().save(str(shot))
        box.button(QMessageBox.StandardButton.Cancel).click()

    tab.dialogs = DialogService()
    QTimer.singleShot(20, answer_box)
    tab.delete_action.trigger()
    assert not tab.delete_action.isEnabled()  # one action at a time
    qtbot.waitUntil(lambda: not tab.acting and "text" in seen, timeout=60000)
    assert seen["text"].startswith("delete 1 blob on 2 of 2 nodes") and seen["ok"] == "Change 2 nodes"
    assert seen["detail"].splitlines() == [f"{n}: {len(data)} B (1 steps)" for n in names[:2]]
    assert seen["saved"]
    assert holders(lab, digest) == [True, True, True]
    assert [tab.node_table.results[n][0] for n in names[:2]] == ["cancelled", "cancelled"]
    tab.dialogs = dialogs

    # answered Yes: deleted on exactly the two selected nodes, and the tab refreshes
    dialogs.answer("confirm", True)
    with qtbot.waitSignal(tab.queryFinished, timeout=90000):
        tab.delete_action.trigger()
    assert holders(lab, digest) == [False, False, True]
    assert [r.state for r in tab.last_results] == ["done", "done"]
    assert [tab.node_table.row_texts(n)["result"] for n in names[:2]] == [f"done: {len(data)} B"] * 2
    assert tab.node_table.row_texts(names[2])["result"] == ""
    assert [tab.node_table.states[n] for n in names] == ["done"] * 3
    row = next(tab.digests.row_at(i) for i in range(tab.digests.rowCount()) if tab.digests.row_at(i)["digest"] == digest)
    assert row["nodes"] == [names[2]]  # the refreshed inventory
    win.resize(1360, 860)
    win.main_splitter.setSizes([1200, 160])
    fit_node_columns(tab.node_table, name=150)
    qtbot.wait(50)
    out = ARTIFACTS / "screenshot-fleet-acted.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    assert tab.grab().save(str(out)) and not QImage(str(out)).isNull()
    win.shutdown()


def test_a_node_with_a_changed_host_key_is_listed_as_not_touched_and_keeps_the_blob(
        qtbot, make_window, settings, dialogs, lab, tmp_path):
    digest = [put(d, b"kept where the host key changed", tmp_path) for d in lab.daemons][0]
    win, tab, names = open_tab(qtbot, make_window, settings, lab, tmp_path)
    assert tab.select_digest(digest)
    tab.node_table.clearSelection()  # no node selected: every node of the fleet
    server = lab.servers[2]
    known = lab.client.known_hosts.read_bytes()
    server.new_host_key()
    try:
        dialogs.answer("confirm", True)
        with qtbot.waitSignal(tab.queryFinished, timeout=90000):
            tab.delete_action.trigger()
        (_title, text, detail), = [a for k, a in dialogs.asked if k == "confirm"]
        assert text.startswith("delete 1 blob on 2 of 3 nodes")
        last = detail.splitlines()[-1]
        assert last.startswith(f"{names[2]}: will not be touched: ") and "CHANGED" in last
        assert server.host_key_fingerprint in last
        assert holders(lab, digest) == [False, False, True]
        assert [r.state for r in tab.last_results] == ["done", "done", "failed"]
        assert tab.node_table.results[names[2]][0] == "failed"
        assert lab.client.known_hosts.read_bytes() == known  # never accepted silently
    finally:
        lab.client.known_hosts.write_text("".join(s.known_hosts_line() for s in lab.servers))
        win.shutdown()
    with ContainerdStore(lab.daemons[2].address) as s:
        s.delete(digest)


def age_ingest(daemon, ref: str, by: timedelta) -> None:
    """Make ingest ``ref`` look idle for ``by`` (its updatedat file and data mtime moved back)."""
    for d in (daemon.content_root / "ingest").iterdir():
        if (d / "ref").read_text().split("/", 2)[-1] == ref:
            when = datetime.now(timezone.utc) - by
            (d / "updatedat").write_text(when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
            os.utime(d / "data", (when.timestamp(), when.timestamp()))
            return
    raise AssertionError(f"no ingest {ref} on {daemon.address}")


def refs(daemon) -> set[str]:
    with ContainerdStore(daemon.address) as s:
        return {st.ref for st in s.list_statuses()}


def act(qtbot, tab, action) -> None:
    with qtbot.waitSignal(tab.queryFinished, timeout=90000):
        action.trigger()


def test_import_abort_stalled_and_remove_lease_from_the_tab(qtbot, make_window, settings, dialogs, lab, tmp_path):
    win, tab, names = open_tab(qtbot, make_window, settings, lab, tmp_path)
    try:
        # import a file on nodes 1 and 2 (chosen in the file dialog)
        f = tmp_path / "payload.bin"
        f.write_bytes(b"imported from the Fleet tab\n" * 100)
        digest = str(Digest.from_bytes(f.read_bytes()))
        tab.node_table.clearSelection()
        for n in names[1:]:
            tab.node_table.items[n].setSelected(True)
        dialogs.answer("open_files", [str(f)])
        dialogs.answer("edit_labels", None)  # Cancel in the label editor: nothing is planned
        tab.import_action.trigger()
        assert not tab.acting and holders(lab, digest) == [False, False, False]
        dialogs.answer("open_files", [str(f)])
        dialogs.answer("edit_labels", {"example.org/team": "fleet-gui"})
        dialogs.answer("confirm", True)
        act(qtbot, tab, tab.import_action)
        assert holders(lab, digest) == [False, True, True]
        assert all(lab.daemons[i].content_ls()[digest]["labels"].get("example.org/team") == "fleet-gui"
                   for i in (1, 2))
        detail = [a for k, a in dialogs.asked if k == "confirm"][-1][2]
        from gui import fmt
        size = fmt.exact_size(f.stat().st_size)
        assert detail.splitlines() == [f"{n}: {size} (1 steps)" for n in names[1:]]  # node 0 was not selected
        assert [r.state for r in tab.last_results] == ["done", "done"]
        assert all(lab.daemons[i].content_ls()[digest]["labels"].get("containerd.io/gc.root") for i in (1, 2))

        # abort the stalled ingests: only the one idle for an hour, on every node (none selected)
        with ContainerdStore(lab.daemons[0].address) as s:
            for ref in ("old-pull", "fresh-pull"):
                w = s.writer(ref, total=100)
                w.write(b"0123456789")
                w.close()
        age_ingest(lab.daemons[0], "old-pull", timedelta(hours=1))
        tab.node_table.clearSelection()
        dialogs.answer("confirm", True)
        act(qtbot, tab, tab.abort_action)
        assert refs(lab.daemons[0]) == {"fresh-pull"}
        assert [r.state for r in tab.last_results] == ["done", "skipped", "skipped"]
        with ContainerdStore(lab.daemons[0].address) as s:
            s.abort("fresh-pull")

        # remove a lease, its id typed, on nodes 0 and 1
        for d in lab.daemons[:2]:
            d.ctr("leases", "create", "--id", "tab-lease")
        for n in names:
            tab.node_table.items[n].setSelected(n in names[:2])
        dialogs.answer("text", "tab-lease")
        dialogs.answer("confirm", True)
        act(qtbot, tab, tab.lease_action)
        assert ["tab-lease" in d.ctr("leases", "ls", "-q").stdout.split() for d in lab.daemons] == [False] * 3
        assert [r.state for r in tab.last_results] == ["done", "done"]

        # Cancel while the plan runs: no confirmation is asked, nothing changes
        asked = len(dialogs.asked)
        tab.node_table.clearSelection()
        assert tab.select_digest(digest) and tab.delete_action.isEnabled()
        tab.delete_action.trigger()
        assert tab.cancel_action.isEnabled()
        tab.cancel_action.trigger()
        qtbot.waitUntil(lambda: not tab.acting, timeout=60000)
        assert len(dialogs.asked) == asked and holders(lab, digest) == [False, True, True]
        assert {tab.node_table.results[n][0] for n in names} <= {"cancelled", "failed", "skipped"}

        # bad input: an empty lease id is a one-line error and starts nothing
        dialogs.answer("text", "   ")
        tab.lease_action.trigger()
        assert not tab.acting and dialogs.errors[-1] == "a lease id must be a non-empty printable string"
    finally:
        win.shutdown()
    for i in (1, 2):
        with ContainerdStore(lab.daemons[i].address) as s:
            s.delete(digest)
