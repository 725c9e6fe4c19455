"""Delete of a big selection: the question is worked out on a worker behind a "Preparing…" box
(gui/commands/delete.py); it still says exactly what goes, Cancel there changes nothing, and a
selection changed meanwhile is not the one deleted.

To catch the box while it shows, the job pool's threads are first all taken by jobs that wait on
a gate: the plan's job then queues behind them until the test opens the gate."""

from __future__ import annotations

import threading
from contextlib import contextmanager

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QProgressDialog, QPushButton

from gui import fmt
from gui.commands.delete import PLAN_ON_GUI
from store import LocalStore
from tests.gui.conftest import add_blob, blob_digests, disk_digests, wait_jobs, write_blobs

BIG = PLAN_ON_GUI + 300


def _fill(store: LocalStore, n: int) -> list[str]:
    return write_blobs(store, n, b"delete prepare %d", pad=7)


@contextmanager
def pool_held(win):
    """Every thread of the window's job pool busy until the block ends."""
    gate = threading.Event()
    started = []
    n = win.runner.pool.maxThreadCount()
    for _ in range(n):
        win.runner.start("test gate", lambda job: (started.append(1), gate.wait(60)))
    try:
        yield
    finally:
        gate.set()


def _preparing_box(win) -> QProgressDialog | None:
    box = win.findChild(QProgressDialog, "deletePreparing")
    return box if box is not None and box.isVisible() else None


def test_a_big_selection_is_asked_about_exactly(qtbot, make_window, store, dialogs):
    plain = _fill(store, BIG)
    roots = [add_blob(store, b"root %d" % i, {"containerd.io/gc.root": "x"}) for i in range(3)]
    target = add_blob(store, b"pointed at")
    keeper = add_blob(store, b"keeper", {"containerd.io/gc.ref.content.l.0": str(target)})
    win = make_window(store.root)
    chosen = [*plain, *map(str, roots), str(target)]
    rows = sorted(win.blob_model.row_for(d) for d in chosen)
    win.selection.select_blob_rows(rows)
    assert win.selection.blob_count() == len(chosen) > PLAN_ON_GUI
    total = sum(map(len, _contents(store, chosen)))
    with pool_held(win):
        win.action_map["actionDelete"].trigger()
        qtbot.waitUntil(lambda: _preparing_box(win) is not None)
        assert str(len(chosen)) in _preparing_box(win).labelText()
        assert dialogs.asked == []  # nothing asked while the plan is worked out
        dialogs.answer("confirm", True)
    qtbot.waitUntil(lambda: bool(dialogs.asked))
    assert _preparing_box(win) is None
    (_kind, (_title, text, detail)), = dialogs.asked
    assert f"Delete {len(chosen)} blob(s), {fmt.size(total)} in total?" == text
    assert "3 of them are garbage-collection roots" in detail and roots[0].encoded[:12] in detail
    assert "1 of them are referenced" in detail and target.encoded[:12] in detail
    assert keeper.encoded[:12] in detail
    qtbot.waitUntil(lambda: disk_digests(store) == {str(keeper)}, timeout=30000)
    qtbot.waitUntil(lambda: blob_digests(win) == {str(keeper)}, timeout=30000)
    wait_jobs(qtbot, win)
    assert dialogs.errors == []


def _contents(store: LocalStore, digests) -> list[bytes]:
    blobs = store.root / "blobs" / "sha256"
    return [(blobs / d.split(":", 1)[1]).read_bytes() for d in digests]


def test_cancel_while_preparing_changes_nothing(qtbot, make_window, store, dialogs):
    digests = _fill(store, BIG + 10)
    win = make_window(store.root)
    win.selection.select_blob_rows(list(range(BIG)))
    with pool_held(win):
        win.action_map["actionDelete"].trigger()
        qtbot.waitUntil(lambda: _preparing_box(win) is not None)
        button = _preparing_box(win).findChild(QPushButton)
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        assert _preparing_box(win) is None
    wait_jobs(qtbot, win)
    qtbot.wait(100)
    assert dialogs.asked == []  # never asked, so never deleted
    assert disk_digests(store) == set(digests) == blob_digests(win)
    assert "nothing was deleted" in win.statusBar().currentMessage()
    assert win.selection.blob_count() == BIG  # the selection is left as it was


def test_a_selection_changed_while_preparing_is_not_deleted(qtbot, make_window, store, dialogs):
    digests = _fill(store, 2 * BIG)
    win = make_window(store.root)
    win.selection.select_blob_rows(list(range(BIG)))
    first = set(win.blob_model.columns.digests_of(win.selection.blob_rids()))
    with pool_held(win):
        win.action_map["actionDelete"].trigger()
        qtbot.waitUntil(lambda: _preparing_box(win) is not None)
        win.selection.select_blob_rows(list(range(BIG, 2 * BIG)))  # the person selects other rows
    wait_jobs(qtbot, win)
    qtbot.wait(100)
    assert dialogs.asked == [] and _preparing_box(win) is None
    assert "selection changed" in win.statusBar().currentMessage()
    assert disk_digests(store) == set(digests)
    # Delete again: the new selection is the one asked about and deleted, the first one stays
    second = set(win.blob_model.columns.digests_of(win.selection.blob_rids()))
    assert not first & second
    dialogs.answer("confirm", True)
    win.action_map["actionDelete"].trigger()
    qtbot.waitUntil(lambda: bool(dialogs.asked))
    assert f"Delete {BIG} blob(s)" in dialogs.asked[0][1][1]
    qtbot.waitUntil(lambda: disk_digests(store) == first, timeout=30000)
    qtbot.waitUntil(lambda: blob_digests(win) == first, timeout=30000)
    wait_jobs(qtbot, win)


@pytest.fixture(params=["en", "zh_CN"])
def lang(request, qapp):
    """The window's language for one test, English again after it."""
    from gui import i18n
    assert i18n.install(qapp, request.param) == request.param
    yield request.param
    i18n.install(qapp, "en")


def test_screenshots_of_preparing_and_the_question(qtbot, lang, make_window, store):
    """The real "Preparing…" box, then the real question (Cancel answered): both rendered to
    tests/_artifacts/screenshots for a person to look at, in English and Chinese, and nothing
    deleted."""
    from pathlib import Path

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from gui.dialogs import DialogService

    suffix = "" if lang == "en" else f"-{lang}"
    out = Path(__file__).resolve().parents[1] / "_artifacts" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    digests = _fill(store, BIG)
    add_blob(store, b"a root", {"containerd.io/gc.root": "x"})
    win = make_window(store.root)
    win.resize(1100, 700)
    win.ctx.dialogs = DialogService()
    win.selection.select_blob_rows(list(range(BIG + 1)))
    seen: dict = {}

    def answer():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, answer)
            return
        seen["text"], seen["detail"] = box.text(), box.informativeText()
        box.grab().save(str(out / f"screenshot-delete-question{suffix}.png"))
        box.button(QMessageBox.StandardButton.Cancel).click()

    with pool_held(win):
        win.action_map["actionDelete"].trigger()
        qtbot.waitUntil(lambda: _preparing_box(win) is not None)
        box = _preparing_box(win)
        qtbot.wait(50)
        box.grab().save(str(out / f"screenshot-delete-preparing{suffix}.png"))
        preparing = box.labelText()
        QTimer.singleShot(0, answer)
    qtbot.waitUntil(lambda: "text" in seen, timeout=15000)
    wait_jobs(qtbot, win)
    if lang == "en":
        assert preparing.startswith(f"Preparing to delete {BIG + 1} blob(s)")
        assert seen["text"].startswith(f"Delete {BIG + 1} blob(s)")
        assert "1 of them are garbage-collection roots" in seen["detail"]
    else:  # every line translated, the figures the same
        assert preparing.startswith(f"正在准备删除 {BIG + 1} 个")
        assert str(BIG + 1) in seen["text"] and "Delete" not in seen["text"]
        assert "garbage-collection" not in seen["detail"] and "containerd.io/gc.root" in seen["detail"]
    assert disk_digests(store) >= set(digests)
    for name in (f"screenshot-delete-question{suffix}.png", f"screenshot-delete-preparing{suffix}.png"):
        assert (out / name).stat().st_size > 1000


def test_closing_the_window_while_preparing_asks_nothing(qtbot, make_window, store, dialogs):
    digests = _fill(store, BIG)
    win = make_window(store.root)
    win.selection.select_blob_rows(list(range(BIG)))
    with pool_held(win):
        win.action_map["actionDelete"].trigger()
        qtbot.waitUntil(lambda: _preparing_box(win) is not None)
    assert win.runner.pool.waitForDone(20000)  # the plan is made; its answer waits for the event loop
    win.close()  # which delivers it after the window closed: it is dropped
    qtbot.wait(300)
    assert dialogs.asked == [] and dialogs.errors == []
    assert disk_digests(store) == set(digests)


def test_a_blob_that_many_labels_name_is_planned_on_the_worker(qtbot, make_window, store, dialogs):
    """One shared layer, named by more manifests (each its own label set) than the GUI thread
    searches for in a table this size: prepared behind the box too, and the question still names
    a parent that stays."""
    from gui.commands.delete import SEARCH_ON_GUI
    sets = 60
    _fill(store, SEARCH_ON_GUI // sets)  # sets x rows: more searching than the GUI thread does
    layer = add_blob(store, b"a shared layer")
    parents = [add_blob(store, b"manifest %d" % i, {f"containerd.io/gc.ref.content.l.{i % 3}": str(layer),
                                                    "test/manifest": str(i)})
               for i in range(sets)]
    win = make_window(store.root)
    select = [win.blob_model.row_for(str(layer))]
    win.selection.select_blob_rows(select)
    with pool_held(win):
        win.action_map["actionDelete"].trigger()
        qtbot.waitUntil(lambda: _preparing_box(win) is not None)
        assert dialogs.asked == []
        dialogs.answer("confirm", False)
    qtbot.waitUntil(lambda: bool(dialogs.asked))
    (_kind, (_title, text, detail)), = dialogs.asked
    assert text.startswith("Delete 1 blob(s)")
    assert "1 of them are referenced" in detail and layer.encoded[:12] in detail
    assert any(p.encoded[:12] in detail for p in parents)
    wait_jobs(qtbot, win)
    assert str(layer) in disk_digests(store)  # answered Cancel


def test_a_filter_typed_while_preparing_drops_the_plan(qtbot, make_window, store, dialogs):
    """A filter that hides selected rows moves the selection without a selectionChanged (a layout
    change): the plan for the rows selected before is dropped all the same."""
    digests = _fill(store, BIG)
    win = make_window(store.root)
    win.selection.select_blob_rows(list(range(BIG)))
    keep = win.blob_model.columns.digests_of(win.selection.blob_rids()[:1])[0]
    with pool_held(win):
        win.action_map["actionDelete"].trigger()
        qtbot.waitUntil(lambda: _preparing_box(win) is not None)
        win.filter_edit.setText(keep)
        win.apply_filter()
        qtbot.waitUntil(lambda: win.blob_model.rowCount() == 1)
    wait_jobs(qtbot, win)
    qtbot.wait(100)
    assert dialogs.asked == []
    assert "selection changed" in win.statusBar().currentMessage()
    assert disk_digests(store) == set(digests)
