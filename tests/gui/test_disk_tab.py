"""The Disk tab's parts without a daemon: the squarified layout, the treemap's rectangles, the
tree model (qtmodeltester), selection between treemap, tree and why chain on a synthetic root,
and the tab on a plain Blobscope store."""

from __future__ import annotations

import itertools
import random

import pytest
from PySide6.QtCore import QPoint, Qt

from gui.disk import states
from gui.disk.disk_tree import KIND_ITEM, PAGE, build_tree, link_target
from gui.disk.squarify import squarify
from gui.disk.treemap_render import GROUP, LEAF, MIN_AREA, MORE, layout
from tests.gui.conftest import add_blob, wait_jobs
from tests.support.synthetic_disk import synthetic_facts


def _overlap(a, b) -> float:
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(0.0, w) * max(0.0, h)


@pytest.mark.parametrize("seed", range(8))
def test_squarify_tiles_the_area_exactly_in_proportion_without_overlap(seed):
    rnd = random.Random(seed)
    values = sorted((rnd.lognormvariate(3, 2) for _ in range(rnd.randint(1, 60))), reverse=True)
    x, y, w, h = rnd.uniform(0, 50), rnd.uniform(0, 50), rnd.uniform(10, 900), rnd.uniform(10, 700)
    rects = squarify(values, x, y, w, h)
    assert len(rects) == len(values)
    total = sum(values)
    assert sum(r[2] * r[3] for r in rects) == pytest.approx(w * h, rel=1e-9)
    for v, r in zip(values, rects):
        assert r[2] >= 0 and r[3] >= 0
        assert r[2] * r[3] == pytest.approx(v / total * w * h, rel=1e-6, abs=1e-9)
        assert x - 1e-9 <= r[0] and r[0] + r[2] <= x + w + 1e-6
        assert y - 1e-9 <= r[1] and r[1] + r[3] <= y + h + 1e-6
    for a, b in itertools.combinations(rects, 2):
        assert _overlap(a, b) < 1e-6 * w * h


def test_squarify_makes_squares_of_equal_values():
    rects = squarify([1.0] * 16, 0, 0, 400, 400)
    assert all(r[2] == pytest.approx(100) and r[3] == pytest.approx(100) for r in rects)
    assert squarify([], 0, 0, 10, 10) == []


def test_treemap_layout_nests_merges_small_items_and_stays_bounded():
    tree = build_tree(synthetic_facts(blobs=20000, snapshots=500, images=40, leases=20))
    rects = layout(tree.root, 800, 600)
    assert len(rects) < 800 * 600 / MIN_AREA  # bounded by the pixels, not by 20k blobs
    assert any(r[5] == MORE for r in rects)
    where = {r[4]: r for r in rects if r[5] != MORE}
    for x, y, w, h, node, what in rects:
        parent = node if what == MORE else node.parent
        while parent is not None and parent not in where:
            parent = parent.parent  # a page is no rect: its items sit in the page's group
        if parent is None:
            assert node is tree.root
            continue
        px, py, pw, ph = where[parent][:4]
        assert px - 1e-6 <= x and x + w <= px + pw + 1e-6 and py - 1e-6 <= y and y + h <= py + ph + 1e-6
    leaves = [r for r in rects if r[5] in (LEAF, MORE)]
    for a, b in itertools.combinations(leaves[:300], 2):
        assert _overlap(a, b) < 1e-6
    groups = {r[4] for r in rects if r[5] == GROUP}
    assert tree.root in groups


def test_a_big_group_is_paged_and_the_treemap_sees_through_the_pages():
    tree = build_tree(synthetic_facts(blobs=3 * PAGE + 17, snapshots=10, images=2, leases=1))
    content = next(c for c in tree.root.children if c.category == "content")
    ns = content.children[0]
    assert ns.paged and len(ns.children) == 4 and len(ns.children[-1].children) == 17
    sizes = [n.bytes for n in ns.items()]
    assert len(sizes) == 3 * PAGE + 17
    assert sizes == sorted(sizes, reverse=True)
    assert ns.bytes == sum(p.bytes for p in ns.children)


def test_the_model_passes_qtmodeltester(qtmodeltester):
    from gui.disk.disk_model import DiskTreeModel
    model = DiskTreeModel()
    qtmodeltester.check(model)
    model.set_tree(build_tree(synthetic_facts(blobs=600, snapshots=60, images=10, leases=3)))
    qtmodeltester.check(model)


def test_link_target_names_the_item_of_each_kind_of_link():
    assert link_target("image example.org/a:1", "default") == "image:default:example.org/a:1"
    assert link_target("content sha256:ab via label containerd.io/gc.ref.content.l.0", "ns") == "blob:sha256:ab"
    assert link_target("snapshot overlayfs/k (parent)", "ns") == "snapshot:ns:overlayfs/k"
    assert link_target("lease hold (no expiry)", "ns") == "lease:ns:hold"
    assert link_target("something else", "ns") is None


def test_selection_follows_between_treemap_tree_and_chain(qtbot):
    from gui.disk.disk_tab import DiskTab
    from gui.jobs import JobRunner

    runner = JobRunner()
    tab = DiskTab(runner)
    qtbot.addWidget(tab)
    tab.resize(1100, 700)
    tab.show()
    tree = build_tree(synthetic_facts(blobs=400, snapshots=40, images=8, leases=2))
    with qtbot.waitSignal(tab.pictureReady, timeout=20000):
        tab.set_tree(tree)
    pic = tab.treemap.picture
    # the biggest item that has a why chain of at least two links
    x, y, w, h, node, _what = max((r for r in pic.rects if r[5] == LEAF and len(r[4].why) > 1),
                                  key=lambda r: r[2] * r[3])
    qtbot.mouseClick(tab.treemap, Qt.MouseButton.LeftButton, pos=QPoint(int(x + w / 2), int(y + h / 2)))
    assert tab.current_node() is node and tab.treemap.selected is node
    assert [t for t, _i in tab.details.links()][0] == node.why[0]
    assert all(ident is not None for _t, ident in tab.details.links())
    # the first link is the image: clicking it selects the image record
    item = tab.details.chain.item(0)
    qtbot.mouseClick(tab.details.chain.viewport(), Qt.MouseButton.LeftButton,
                     pos=tab.details.chain.visualItemRect(item).center())
    selected = tab.current_node()
    assert selected is not node and selected.kind == KIND_ITEM and selected.ident.startswith("image:")
    # selecting in the tree moves the treemap's outline
    blob = next(n for n in tree.by_ident.values() if n.ident.startswith("blob:") and n in pic.where)
    tab.view.setCurrentIndex(tab.model.index_of(blob))
    assert tab.treemap.selected is blob and tab.details.node is blob
    # a newer tree of the same root keeps the selection, by ident
    again = build_tree(synthetic_facts(blobs=400, snapshots=40, images=8, leases=2))
    with qtbot.waitSignal(tab.pictureReady, timeout=20000):
        tab.set_tree(again)
    assert tab.current_node() is again.find(blob.ident)
    runner.wait()


# a popup menu on the offscreen platform: the platform says what it cannot do, not our code
@pytest.mark.qt_log_ignore("This plugin does not support raise", "This plugin does not support grabbing the keyboard")
def test_the_tab_on_a_plain_store_shows_its_content(qtbot, make_window, store):
    digests = [add_blob(store, b"disk tab %d " % i + b"x" * (i * 5000)) for i in range(5)]
    win = make_window(store.root)
    with qtbot.waitSignal(win.disk_tab.pictureReady, timeout=20000):
        win.view_tabs.setCurrentWidget(win.disk_tab)
    tree = win.disk_tab.tree
    for d in digests:
        node = tree.find(f"blob:{d}")
        assert node is not None and node.state == states.PLAIN
    assert "no containerd metadata" in win.disk_tab.notice.text()
    # a right click on the map selects what is under it and offers the tab's actions
    tab = win.disk_tab
    x, y, w, h, node, _what = max((r for r in tab.treemap.picture.rects if r[5] == LEAF), key=lambda r: r[2] * r[3])
    tab.treemap.customContextMenuRequested.emit(QPoint(int(x + w / 2), int(y + h / 2)))
    assert tab.current_node() is node
    from PySide6.QtWidgets import QApplication
    menu = QApplication.activePopupWidget()
    assert menu is not None
    assert [a.objectName() for a in menu.actions() if not a.isSeparator()] == [
        "actionCopyWhyChain", "actionRemoveLease", "actionRemoveGcRoot", "actionDeleteOrphanDir", "actionRunGc",
        "actionAnalyseDisk"]
    # a plain store: nothing to act on, each disk action says why
    for name in ("actionRemoveLease", "actionRemoveGcRoot", "actionRunGc", "actionDeleteOrphanDir"):
        act = win.action_map[name]
        assert not act.isEnabled() and act.toolTip(), name
    menu.close()
    assert not win.details.isVisible()  # the blob details give the tab their room
    win.view_tabs.setCurrentIndex(0)
    assert win.details.isVisible()
    wait_jobs(qtbot, win)


def test_analyse_again_and_another_store_drops_the_stale_result(qtbot, make_window, store, tmp_path):
    from store import LocalStore
    first = add_blob(store, b"first store " * 1000)
    win = make_window(store.root)
    shown = []
    win.disk.treeShown.connect(shown.append)
    with qtbot.waitSignal(win.disk.treeShown, timeout=20000):
        win.view_tabs.setCurrentWidget(win.disk_tab)
    assert win.disk_tab.tree.find(f"blob:{first}") is not None
    # F6 measures again: a blob added since is in the new tree
    added = add_blob(store, b"added later " * 1000)
    assert win.action_map["actionAnalyseDisk"].isEnabled()
    with qtbot.waitSignal(win.disk.treeShown, timeout=20000):
        win.action_map["actionAnalyseDisk"].trigger()
    assert win.disk_tab.tree.find(f"blob:{added}") is not None
    # another store while an analysis of this one runs: only the other store's tree is shown
    other = LocalStore(tmp_path / "other")
    theirs = add_blob(other, b"the other store " * 1000)
    win.disk.start()
    with qtbot.waitSignal(win.storeOpened, timeout=20000):
        win.open_store(str(other.root))
    qtbot.waitUntil(lambda: win.disk_tab.tree is not None and win.disk_tab.tree.find(f"blob:{theirs}") is not None,
                    timeout=20000)
    wait_jobs(qtbot, win)
    assert win.disk_tab.tree.find(f"blob:{first}") is None
    assert win.disk_tab.tree.root.name == str(other.root)
