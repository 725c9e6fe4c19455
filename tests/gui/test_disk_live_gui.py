"""The Disk tab on a running private daemon (its GC runs only when asked): the tree read through
the daemon's services, every item in its state; then acting from the tab: cancelling changes
nothing, removing a lease and a gc.root label then running a garbage collection from the tab
frees the blobs only they held (``ctr content ls``), and the measured figure shown equals the
predicted one."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtGui import QPainter

from gui.disk import states
from gui.screenshots import size_for_screenshot
from tests.gui.conftest import wait_jobs
from tests.support.gc_scenarios import GC_ROOT, ImageSpec, Scenario, gc_passes, new_daemon

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

NS = "default"
APP = ImageSpec("example.org/live/app:1", ("base", "app"))
OLD = ImageSpec("example.org/live/old:1", ("base", "old"))
KEPT = ImageSpec("example.org/live/kept:1", ("base", "kept"))  # no container: its own snapshot is "image only"
ARTIFACTS = __import__("pathlib").Path(__file__).resolve().parents[1] / "_artifacts" / "screenshots"


def _analysed(qtbot, win) -> None:
    done = []
    win.disk.treeShown.connect(lambda complete: done.append(complete))
    if win.view_tabs.currentWidget() is not win.disk_tab:
        win.view_tabs.setCurrentWidget(win.disk_tab)
    qtbot.waitUntil(lambda: True in done and not win.disk.running, timeout=60000)


def _content(sc: Scenario) -> set[str]:
    return {line.split()[0] for line in sc.ctr("content", "ls", namespace=NS).splitlines()[1:] if line.strip()}


def test_live_disk_tab_acts_through_the_daemon(qtbot, make_window, dialogs, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    with new_daemon(tmp_path) as d:
        sc = Scenario(d, tmp_path / "work")
        sc.workdir.mkdir()
        sc.import_image(NS, APP)
        sc.import_image(NS, OLD)
        sc.import_image(NS, KEPT)
        kept_chain = sc.image_chain(NS, KEPT.name)
        old_chain = sc.image_chain(NS, OLD.name)
        sc.remove_image(NS, OLD.name)  # its own layer and snapshot: collectable
        sc.create_container(NS, APP.name, "c-app")
        rooted = sc.ingest_blob(NS, b"a blob labelled gc.root\n")
        sc.label_content(NS, rooted, {GC_ROOT: "by hand"})
        leased = sc.ingest_blob(NS, b"a blob only a lease keeps\n" * 50)
        sc.create_lease(NS, "hold")
        sc.lease_add(NS, "hold", "content", leased)
        app_chain = sc.image_chain(NS, APP.name)

        # the running daemon's root read as files (the socket offered and declined): its meta.db is
        # locked, nothing is analysed, and deleting an orphaned directory is off, saying why
        orphan = d.root / "io.containerd.snapshotter.v1.overlayfs" / "snapshots" / "999"
        (orphan / "fs").mkdir(parents=True)
        dialogs.answer("confirm", False)
        files = make_window(d.root)
        assert dialogs.asked[-1][1][0] == "containerd is running"
        files.view_tabs.setCurrentWidget(files.disk_tab)
        qtbot.waitUntil(lambda: "could not be analysed" in files.disk_tab.status.text(), timeout=30000)
        act = files.action_map["actionDeleteOrphanDir"]
        assert not act.isEnabled() and "running containerd" in act.toolTip(), act.toolTip()
        act.trigger()  # off: nothing asked, nothing deleted
        assert orphan.is_dir() and not dialogs.answers["confirm"]
        wait_jobs(qtbot, files)
        files.shutdown()

        win = make_window(d.address)
        _analysed(qtbot, win)
        tab = win.disk_tab
        tree = tab.tree
        assert tree.live and tree.complete
        assert "live: the picture can move" in tab.notice.text()
        assert tab.status.text().startswith("live:")

        def state(ident):
            node = tree.find(ident)
            assert node is not None, (ident, sorted(tree.by_ident)[:40])
            return node.state

        assert state("snapshot:default:overlayfs/c-app") == states.IN_USE
        for key in app_chain:
            assert state(f"snapshot:default:overlayfs/{key}") == states.IN_USE  # parents of c-app's
        assert state(f"snapshot:default:overlayfs/{old_chain[-1]}") == states.COLLECTABLE
        assert state(f"snapshot:default:overlayfs/{kept_chain[-1]}") == states.IMAGE
        # images by name, read from the manifests through the daemon: the shared base layer has both
        base = dict(tree.find(f"snapshot:default:overlayfs/{app_chain[0]}").details)
        assert set(base["images"]) == {f"default/{APP.name}", f"default/{KEPT.name}"}
        assert dict(tree.find("snapshot:default:overlayfs/c-app").details)["containers"] == ("default/c-app",)
        app_blobs = [n for n in tree.by_ident.values()
                     if n.ident.startswith("blob:") and f"default/{APP.name}" in dict(n.details).get("images", ())]
        assert len(app_blobs) >= 4 and all(n.state == states.IMAGE for n in app_blobs)  # index/manifest, config, layers
        assert state(f"blob:{leased}") == states.LEASE
        assert state(f"blob:{rooted}") == states.OTHER
        assert state("lease:default:hold") == states.LEASE
        assert tree.find("container:default:c-app") is not None
        assert tree.find(f"image:default:{APP.name}") is not None
        snapshot = tree.find("snapshot:default:overlayfs/c-app")
        assert tree.find(f"snapshot:default:overlayfs/{app_chain[-1]}").bytes > 0  # the daemon's Usage

        a = win.action_map
        # what does not apply here is off, and says why
        assert not a["actionDeleteOrphanDir"].isEnabled()
        assert "running daemon" in a["actionDeleteOrphanDir"].toolTip()
        tab.select_node(snapshot)
        assert not a["actionRemoveLease"].isEnabled() and "lease" in a["actionRemoveLease"].toolTip()
        assert not a["actionRemoveGcRoot"].isEnabled() and GC_ROOT in a["actionRemoveGcRoot"].toolTip()
        assert a["actionRunGc"].isEnabled()
        tab.select_ident(f"blob:{rooted}")
        assert a["actionRemoveGcRoot"].isEnabled()

        # the leased blob's menu, for a person to look at
        tab.select_ident(f"blob:{leased}")
        assert a["actionRemoveLease"].isEnabled()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        size_for_screenshot(win)
        qtbot.waitUntil(lambda: tab.treemap.picture is not None and tab.treemap.root is tab.tree.root,
                        timeout=30000)
        # the menu as it pops up over the selected row (painted in: offscreen has no popups to grab)
        menu = win.disk_menu()
        menu.adjustSize()
        at = tab.view.viewport().mapTo(win, tab.view.visualRect(tab.view.currentIndex()).center())
        shot = win.grab()
        painter = QPainter(shot)
        painter.drawPixmap(QPoint(at.x(), at.y()), menu.grab())
        painter.end()
        shot.save(str(ARTIFACTS / "screenshot-disk-live.png"))
        menu.deleteLater()

        # cancelling either question changes nothing
        before, passes = _content(sc), gc_passes(d)
        dialogs.answer("confirm", False)
        a["actionRemoveLease"].trigger()
        qtbot.waitUntil(lambda: not dialogs.answers["confirm"], timeout=30000)
        wait_jobs(qtbot, win, timeout=30000)
        title, text, _detail = dialogs.asked[-1][1]
        assert title == "Remove lease" and "hold" in text and "1 record(s)" in text
        dialogs.answer("confirm", False)
        a["actionRunGc"].trigger()
        qtbot.waitUntil(lambda: not dialogs.answers["confirm"], timeout=30000)
        wait_jobs(qtbot, win, timeout=30000)
        title, text, _detail = dialogs.asked[-1][1]
        assert title == "Run garbage collection" and "blobs: " in text and "snapshots: " in text
        assert "hold" in sc.ctr("leases", "ls", namespace=NS)
        assert _content(sc) == before and gc_passes(d) == passes
        assert not dialogs.infos

        # remove the lease from the tab: the tab is analysed again, the blob is now collectable
        dialogs.answer("confirm", True)
        a["actionRemoveLease"].trigger()
        qtbot.waitUntil(lambda: tab.tree is not tree and not win.disk.running, timeout=60000)
        wait_jobs(qtbot, win, timeout=30000)
        assert "hold" not in sc.ctr("leases", "ls", namespace=NS)
        assert leased in _content(sc)  # no pass yet
        assert tab.tree.find(f"blob:{leased}").state == states.COLLECTABLE

        # remove the gc.root label of the other blob, from its why-chain
        tab.select_ident(f"blob:{rooted}")
        assert tab.details.links()[0][0] == f"content {rooted} labelled {GC_ROOT}"
        shown = tab.tree
        dialogs.answer("confirm", True)
        a["actionRemoveGcRoot"].trigger()
        qtbot.waitUntil(lambda: tab.tree is not shown and not win.disk.running, timeout=60000)
        wait_jobs(qtbot, win, timeout=30000)
        assert "24 B" in dialogs.asked[-1][1][1]
        assert GC_ROOT not in sc.ctr("content", "ls", namespace=NS)
        assert tab.tree.find(f"blob:{rooted}").state == states.COLLECTABLE
        predicted_tree = tab.tree.reclaimable_bytes

        # run a collection from the tab: the blob goes, measured equals predicted
        dialogs.answer("confirm", True)
        a["actionRunGc"].trigger()
        qtbot.waitUntil(lambda: bool(dialogs.infos), timeout=60000)
        result = win.commands.run_gc.last_result
        assert result is not None
        assert result.measured == result.predicted
        assert result.predicted["blob"][1] >= 50 * len(b"a blob only a lease keeps\n") + 24
        assert not result.deleted_unpredicted and not result.predicted_not_deleted
        assert dialogs.infos[-1].startswith("Garbage collection done: measured ")
        assert leased not in _content(sc) and rooted not in _content(sc)
        assert set(_content(sc)) < before
        assert gc_passes(d) == passes + 1  # the pass asked for, and none before it
        assert predicted_tree is not None and predicted_tree > 0
        qtbot.waitUntil(lambda: not win.disk.running and tab.tree.find(f"blob:{leased}") is None, timeout=60000)
        wait_jobs(qtbot, win, timeout=30000)
