"""The image layers dialog (dive's view) on a real umoci image: the layer list, each layer's
changes as a tree with marks, the squashed toggle, the wasted space; the tree model passes
qtmodeltester."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from gui import fmt
from gui.images.change_tree import COL_CHANGE, COL_NAME, COLOURS, ChangeTreeModel, layer_tree, squashed_tree
from store import LocalStore, imagepick, squash
from tests.gui.conftest import select_digests, wait_jobs
from tests.support.images import import_layout
from tests.support.layered import make_layered_layout, manifest_of


@pytest.fixture(scope="module")
def layered(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("layered")
    layout = make_layered_layout(tmp)
    return layout, manifest_of(layout)


def test_change_tree_model_passes_qtmodeltester(qapp, qtmodeltester, tmp_path, layered):
    layout, manifest = layered
    store = LocalStore(tmp_path / "content")
    import_layout(store, layout)
    a = squash.analyse(store, imagepick.resolve(store, manifest))
    m = ChangeTreeModel()
    m.set_root(layer_tree(a, 3))
    qtmodeltester.check(m, force_py=True)
    d = m.find("d")
    assert d.isValid() and m.rowCount(d) == 3 and d.siblingAtColumn(COL_CHANGE).data() == ""  # only holds changes
    x = m.find("d/x")
    assert m.index(x.row(), COL_CHANGE, d).data() == "deleted"
    assert not x.data(Qt.ItemDataRole.DecorationRole).isNull()
    assert x.data(Qt.ItemDataRole.ForegroundRole) == COLOURS["deleted"]
    assert x.data(Qt.ItemDataRole.FontRole).strikeOut()
    assert m.index(m.find("d/n").row(), COL_CHANGE, d).data() == "added"
    m.set_root(squashed_tree(a))
    qtmodeltester.check(m, force_py=True)
    assert [m.index(r, COL_NAME).data() for r in range(m.rowCount())] == ["d", "keep", "a"]  # directories first
    assert m.find("a").siblingAtColumn(4).data() == "1" and not m.find("b").isValid()
    assert m.find("d").siblingAtColumn(3).data() == fmt.size(70)  # a directory's size: the files below it


def test_the_dialog_shows_layers_changes_and_the_squashed_image(qtbot, make_window, store, layered):
    layout, manifest = layered
    import_layout(store, layout)
    win = make_window(store.root, wait=False)
    with qtbot.waitSignal(win.graphBuilt, timeout=30000):
        pass
    select_digests(win, [manifest])
    act = win.action_map["actionImageLayers"]
    qtbot.waitUntil(act.isEnabled)
    act.trigger()
    dlg = win.commands.image_layers.dialog
    assert dlg is not None and dlg.isVisible()
    qtbot.waitUntil(lambda: dlg.shown == (0, False), timeout=20000)
    assert dlg.layer_list.rowCount() == 4
    assert dlg.layer_list.item(3, 3).text() == "+1  ~0  −2"
    s = dlg.summary.text()
    assert f"wasted {fmt.size(2000)}" in s and "efficiency 51.5 %" in s
    assert f"By dive's own formula: efficiency 39.3 %, wasted {fmt.size(3500)}" in s
    assert dlg.model.find("keep/hl").isValid()
    dlg.layer_list.setCurrentCell(2, 0)
    qtbot.waitUntil(lambda: dlg.shown == (2, False), timeout=10000)
    b = dlg.model.find("b")
    assert b.siblingAtColumn(COL_CHANGE).data() == "deleted" and dlg.model.rowCount() == 1
    dlg.squashed.setChecked(True)
    qtbot.waitUntil(lambda: dlg.shown == (2, True), timeout=10000)
    assert not dlg.model.find("b").isValid() and dlg.model.find("d/n").isValid()
    # a layer blob is not an image: the action is off
    select_digests(win, [dlg.analysis.layers[0].digest])
    assert not act.isEnabled()
    dlg.close()
    wait_jobs(qtbot, win)

    # Enter on the image in the Images tab opens its layers too
    from PySide6.QtTest import QTest
    win.view_tabs.setCurrentWidget(win.images_view)
    assert win.images_view.reveal(manifest)
    win.images_view.view.setFocus()
    QTest.keyClick(win.images_view.view, Qt.Key.Key_Return)
    again = win.commands.image_layers.dialog
    assert again is not None and again is not dlg and again.digest == manifest
    qtbot.waitUntil(lambda: again.shown == (0, False), timeout=20000)
    again.close()
    wait_jobs(qtbot, win)


def test_the_image_layers_screenshot_is_rendered(qtbot):
    from pathlib import Path

    from PySide6.QtGui import QImage

    from gui.screenshots import save_layer_views
    out = Path(__file__).resolve().parents[1] / "_artifacts" / "screenshots"
    saved = save_layer_views(out, "en")
    assert [p.name for p in saved] == ["screenshot-image-layers.png"]
    img = QImage(str(saved[0]))
    assert not img.isNull() and img.width() > 300
    assert len({img.pixel(x, y) for x in range(0, img.width(), 5) for y in range(0, img.height(), 5)}) > 10


def test_one_layer_browser_shows_a_tree_with_whiteouts_marked(qtbot, qtmodeltester, make_window, store, layered):
    from gui.images.change_tree import entries_tree
    from gui.images.layer_browser import LayerBrowserDialog
    from store import layers
    layout, manifest = layered
    import_layout(store, layout)
    digests = [str(x.digest) for x in imagepick.resolve(store, manifest).layers]
    m = ChangeTreeModel()
    m.set_root(entries_tree(layers.list_layer(store, digests[0])[0]))
    qtmodeltester.check(m, force_py=True)
    assert m.rowCount(m.find("keep")) == 2 and m.find("keep/hl").isValid()

    win = make_window(store.root)
    dlg = LayerBrowserDialog(store, digests[0], win.runner, win)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.start()
    qtbot.waitUntil(lambda: dlg.tree_ready, timeout=15000)
    assert dlg.stack.currentWidget() is dlg.tree and dlg.as_tree.isChecked()
    assert dlg.select_path("/d/x")
    assert dlg.tree.currentIndex().data() == "x"
    qtbot.waitUntil(lambda: dlg.preview.toPlainText() == "x" * 300, timeout=10000)
    dlg.as_tree.setChecked(False)  # the list, the same path still selected
    assert dlg.stack.currentWidget() is dlg.view
    assert dlg.model.entry(dlg.view.currentIndex().row()).path == "d/x"
    dlg.close()

    dlg = LayerBrowserDialog(store, digests[2], win.runner, win)  # the layer that whites out b
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.start()
    qtbot.waitUntil(lambda: dlg.tree_ready, timeout=15000)
    b = dlg.tree_model.find("b")
    assert b.isValid() and b.siblingAtColumn(COL_CHANGE).data() == "deleted"
    assert ".wh.b" in dlg.model.paths()  # the list keeps the archive's own names
    dlg.close()
    wait_jobs(qtbot, win)
