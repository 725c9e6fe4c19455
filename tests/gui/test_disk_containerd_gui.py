"""The Disk tab on a containerd root a real private daemon made: an image imported with ctr
(overlayfs snapshots unpacked), a container on it, a blob held by a lease, a blob whose lease
has expired, and an orphaned snapshot directory.  The daemon is stopped and its root opened
offline; the treemap and the tree must show every item in its right state, a click on the map
selects the tree row and shows the why chain, a click on a link selects the item it names.
The daemon's actions are off with their reason; the orphaned directory is deleted from the tab
after one question (cancelled first: nothing changes).  The live tab: test_disk_live_gui.py."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from gui import i18n
from gui.disk import states
from gui.disk.disk_tree import link_target
from gui.disk.treemap_render import LEAF
from gui.screenshots import size_for_screenshot
from store.containerd import ContainerdStore
from store.disk.owners import chain_ids
from tests.gui.conftest import wait_jobs
from tests.support.containerd import ContainerdDaemon
from tests.support.images import describe_layout, make_oci_image

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

NAME = "example.org/fixture/disk:1.0"
OTHER = "example.org/fixture/other:2.0"  # no container: its snapshots are "image only"
ARTIFACTS = __import__("pathlib").Path(__file__).resolve().parents[1] / "_artifacts" / "screenshots"


def _write(store: ContainerdStore, ref: str, data: bytes) -> str:
    with store.writer(ref, total=len(data)) as w:
        w.write(data)
        return str(w.commit(len(data)))


def _config_diff_ids(layout) -> list[str]:
    import json
    desc = describe_layout(layout)
    config = next(iter(desc.configs.values()))
    return json.loads((layout / "blobs" / "sha256" / config.split(":", 1)[1]).read_bytes())["rootfs"]["diff_ids"]


def _disk_tab(qtbot, win):
    analysed = []
    win.disk.treeShown.connect(lambda complete: analysed.append(complete))
    with qtbot.waitSignal(win.disk_tab.pictureReady, timeout=60000):
        win.view_tabs.setCurrentWidget(win.disk_tab)
        assert win.disk_tab.progress.isVisible()
        qtbot.waitUntil(lambda: True in analysed, timeout=60000)
    assert analysed == [False, True]  # content first, then the snapshots once du is done
    qtbot.waitUntil(lambda: win.disk_tab.treemap.picture is not None
                    and win.disk_tab.treemap.root is win.disk_tab.tree.root, timeout=30000)
    return win.disk_tab


def _click(qtbot, tab, node) -> None:
    treemap = tab.treemap
    pic = treemap.picture
    i = pic.where[node]
    x, y, w, h, _node, what = pic.rects[i]
    assert what == LEAF
    sx, sy = treemap.width() / pic.width, treemap.height() / pic.height
    qtbot.mouseClick(treemap, Qt.MouseButton.LeftButton, pos=QPoint(int((x + w / 2) * sx), int((y + h / 2) * sy)))


def test_disk_tab_on_a_stopped_root_made_by_a_real_daemon(qtbot, make_window, dialogs, tmp_path, monkeypatch,
                                                           qtmodeltester):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    archive = make_oci_image(tmp_path / "img", NAME)
    other = make_oci_image(tmp_path / "other", OTHER, motd="another image\n" * 2000)
    layout = archive.parent / "layout"
    desc = describe_layout(layout)
    chains = chain_ids(_config_diff_ids(layout))
    with ContainerdDaemon(tmp_path) as d:
        d.ctr("images", "import", str(archive))
        d.ctr("images", "import", str(other))
        d.ctr("containers", "create", NAME, "c1")
        d.wait_for_gc()
        plain = ContainerdStore(d.address, "default", gc_root=False)
        plain.create_lease(expire=None, lease_id="hold")
        held = _write(plain.with_lease("hold"), "held", b"held only by a lease\n" * 300)
        plain.create_lease(expire=timedelta(seconds=1), lease_id="brief")
        gone = _write(plain.with_lease("brief"), "gone", b"kept by an expired lease\n" * 300)
        plain.close()
        time.sleep(1.2)  # the brief lease expires; no GC pass runs before the stop
        d.stop()
        orphan = d.root / "io.containerd.snapshotter.v1.overlayfs" / "snapshots" / "999"
        (orphan / "fs").mkdir(parents=True)
        (orphan / "fs" / "junk").write_bytes(b"j" * 50000)

        win = make_window(d.root)
        assert win.store.read_only
        tab = _disk_tab(qtbot, win)
        tree = tab.tree
        assert tree.complete
        assert not tab.progress.isVisible()
        qtmodeltester.check(tab.model)
        assert "offline containerd root" in tab.notice.text()
        # what acts through a daemon is off on an offline root, and says why
        a = win.action_map
        tab.select_ident(f"blob:{held}")
        assert not a["actionRemoveLease"].isEnabled() and "running daemon" in a["actionRemoveLease"].toolTip()
        assert not a["actionRunGc"].isEnabled()
        assert not a["actionDeleteOrphanDir"].isEnabled() and "orphaned" in a["actionDeleteOrphanDir"].toolTip()

        # the right state for every kind of item
        def state(ident):
            node = tree.find(ident)
            assert node is not None, ident
            return node.state

        assert state("snapshot:default:overlayfs/c1") == states.IN_USE
        for chain in chains:
            assert state(f"snapshot:default:overlayfs/{chain}") == states.IN_USE  # parents of c1's
        layers = desc.layers[next(iter(desc.layers))]
        for digest in [*layers, desc.top["digest"]]:
            assert state(f"blob:{digest}") == states.IMAGE
        assert state(f"blob:{held}") == states.LEASE
        assert state(f"blob:{gone}") == states.COLLECTABLE
        assert state("snapdir:overlayfs:999") == states.ORPHAN
        assert state("lease:default:brief") == states.COLLECTABLE
        assert tree.find(f"blob:{gone}").why == ()
        assert tree.find(f"blob:{held}").why[0].startswith("lease hold")
        assert state("container:default:c1") == states.IN_USE
        other_chain = chain_ids(_config_diff_ids(other.parent / "layout"))
        for chain in other_chain:  # umoci may make the same busybox layer twice: then c1 uses it too
            want = states.IN_USE if chain in chains else states.IMAGE
            assert state(f"snapshot:default:overlayfs/{chain}") == want
        assert other_chain[-1] not in chains
        assert tree.find(f"image:default:{NAME}") is not None
        # every byte of the root is in one place: kinds add up to the root
        assert tree.root.bytes == sum(c.bytes for c in tree.root.children) > 0

        # a click on the biggest layer's rect selects its tree row and shows its chain
        big = max((tree.find(f"blob:{x}") for x in layers), key=lambda n: n.bytes)
        assert big in tab.treemap.picture.where
        _click(qtbot, tab, big)
        assert tab.current_node() is big
        assert tab.view.currentIndex().data(Qt.ItemDataRole.UserRole + 1) is big
        assert tab.treemap.selected is big
        links = tab.details.links()
        assert [t for t, _i in links][0] == f"image {NAME}"
        assert links[-1][0].startswith(f"↳ content {big.ident[5:]} ")
        assert all(ident is not None for _t, ident in links)
        # Copy Why-Chain copies it, one link a line
        win.action_map["actionCopyWhyChain"].trigger()
        assert QGuiApplication.clipboard().text() == "\n".join(big.why)
        # a click on the chain's first link selects the image record
        item = tab.details.chain.item(0)
        rect = tab.details.chain.visualItemRect(item)
        qtbot.mouseClick(tab.details.chain.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        assert tab.current_node() is tree.find(f"image:default:{NAME}")
        assert tab.treemap.selected is tab.current_node()
        # the container's snapshot: its chain starts at the container
        tab.select_ident("snapshot:default:overlayfs/c1")
        texts = [t for t, _i in tab.details.links()]
        assert texts[0] == "container c1"
        assert link_target(texts[0], "default") == "container:default:c1"
        # the base layer's snapshot is kept by the image and by the container: both are listed
        with qtbot.waitSignal(tab.rootsShown, timeout=20000):
            tab.select_ident(f"snapshot:default:overlayfs/{chains[0]}")
        roots = tab.details.roots()
        assert "container c1" in roots and f"image {NAME}" in roots
        row = [t for t, _i in tab.details.links()].index("• container c1")
        item = tab.details.chain.item(row)
        chain = tab.details.chain

        def visible():
            chain.scrollToItem(item)
            return chain.viewport().rect().contains(chain.visualItemRect(item).center())

        qtbot.waitUntil(visible, timeout=5000)  # the list lays its items out later
        qtbot.mouseClick(tab.details.chain.viewport(), Qt.MouseButton.LeftButton,
                         pos=tab.details.chain.visualItemRect(item).center())
        assert tab.current_node() is tree.find("container:default:c1")
        # the tab, for a person to look at (docs/screenshot-disk*.png come from here: a containerd
        # root needs a daemon, and gui/screenshots.py runs none)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        tab.select_node(big)
        with qtbot.waitSignal(tab.pictureReady, timeout=30000):
            size_for_screenshot(win)
        win.grab().save(str(ARTIFACTS / "screenshot-disk.png"))
        wait_jobs(qtbot, win)
        # the orphaned directory of the stopped root: asked once with its size, deleted, analysed again
        tab.select_ident("snapdir:overlayfs:999")
        assert a["actionDeleteOrphanDir"].isEnabled()
        dialogs.answer("confirm", False)
        a["actionDeleteOrphanDir"].trigger()
        qtbot.waitUntil(lambda: not dialogs.answers["confirm"], timeout=20000)
        wait_jobs(qtbot, win)
        assert orphan.is_dir()  # cancelled: nothing changed
        assert "999" in dialogs.asked[-1][1][1] and "KiB" in dialogs.asked[-1][1][1]
        dialogs.answer("confirm", True)
        a["actionDeleteOrphanDir"].trigger()
        qtbot.waitUntil(lambda: not orphan.exists() and tab.tree is not tree and not win.disk.running,
                        timeout=60000)
        wait_jobs(qtbot, win)
        assert tab.tree.find("snapdir:overlayfs:999") is None
        assert tab.tree.find(f"blob:{held}") is not None  # nothing else went
        win.shutdown()
        app = QApplication.instance()
        i18n.install(app, "zh_CN")
        try:
            win = make_window(d.root)
            size_for_screenshot(win)
            tab = _disk_tab(qtbot, win)
            assert tab.legend.labels[states.IN_USE].text() == "被容器使用"
            tab.select_ident(big.ident)
            win.grab().save(str(ARTIFACTS / "screenshot-disk-zh_CN.png"))
            wait_jobs(qtbot, win)
        finally:
            i18n.install(app, "en")
