"""Every action driven through the real window on a temp store, its effect checked on disk."""

from __future__ import annotations

import os
import time

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMessageBox

from store import Digest, errors
from tests.gui.conftest import add_blob, blob_digests, select_digests, wait_jobs


def blob_file(store, d):
    d = Digest(d)
    return store.root / "blobs" / d.algorithm / d.encoded


def test_delete_asks_once_with_count_size_and_gc_warnings(qtbot, make_window, store, dialogs):
    root = add_blob(store, b"root" * 10, {"containerd.io/gc.root": "yes"})
    child = add_blob(store, b"child" * 20)
    add_blob(store, b"parent", {"containerd.io/gc.ref.content.l.0": str(child)})
    plain = add_blob(store, b"plain")
    win = make_window(store.root)
    select_digests(win, [root, child, plain])
    dialogs.answer("confirm", True)
    win.action_map["actionDelete"].trigger()
    wait_jobs(qtbot, win)
    (kind, (title, text, detail)), = dialogs.asked
    assert "3 blob(s)" in text and "145 Bytes" in text
    assert "gc.root" in detail and root.encoded[:12] in detail
    assert "gc.ref.content" in detail and child.encoded[:12] in detail
    for d in (root, child, plain):
        assert not blob_file(store, d).exists()
        assert d not in blob_digests(win)
    assert len(blob_digests(win)) == 1
    assert dialogs.errors == []


def test_delete_cancelled_changes_nothing(qtbot, make_window, store, dialogs):
    d = add_blob(store, b"keep me")
    win = make_window(store.root)
    select_digests(win, [d])
    dialogs.answer("confirm", False)
    qtbot.keyClick(win.blob_view, Qt.Key.Key_Delete)
    wait_jobs(qtbot, win)
    assert blob_file(store, d).exists() and d in blob_digests(win)


def test_delete_through_the_real_message_box(qtbot, make_window, store):
    from gui.dialogs import DialogService
    d = add_blob(store, b"real box")
    win = make_window(store.root)
    win.ctx.dialogs = DialogService()
    select_digests(win, [d])
    seen = {}

    def answer():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, answer)
            return
        seen["text"] = box.text()
        assert box.textFormat() == Qt.TextFormat.PlainText
        box.button(QMessageBox.StandardButton.Ok).click()

    QTimer.singleShot(0, answer)
    win.action_map["actionDelete"].trigger()
    wait_jobs(qtbot, win)
    assert "1 blob(s)" in seen["text"]
    assert not blob_file(store, d).exists()


def test_abort_selected_ingests(qtbot, make_window, store, dialogs):
    for ref in ("one", "two", "three"):
        with store.writer(ref, total=100) as w:
            w.write(b"z" * 10)
    win = make_window(store.root)
    sm = win.ingest_view.selectionModel()
    refs = [win.ingest_model.row_at(i).ref for i in range(3)]
    from PySide6.QtCore import QItemSelectionModel
    for i, ref in enumerate(refs):
        if ref != "two":
            sm.select(win.ingest_model.index(i, 0),
                      QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)
    dialogs.answer("confirm", True)
    win.action_map["actionAbort"].trigger()
    wait_jobs(qtbot, win)
    assert "2 ingest(s)" in dialogs.asked[0][1][1]
    assert [s.ref for s in store.list_statuses()] == ["two"]
    assert [win.ingest_model.row_at(i).ref for i in range(win.ingest_model.rowCount())] == ["two"]


def test_edit_labels_through_the_label_editor(qtbot, make_window, store):
    from gui.details.label_editor import LabelEditorDialog
    from gui.dialogs import DialogService
    d = add_blob(store, b"labelled", {"old": "1", "drop": "me"})
    win = make_window(store.root)
    win.ctx.dialogs = DialogService()
    select_digests(win, [d])

    def drive():
        dlg = QApplication.activeModalWidget()
        if not isinstance(dlg, LabelEditorDialog):
            QTimer.singleShot(20, drive)
            return
        table = dlg.findChild(type(dlg.table), "labelEditor")
        # remove "drop" (rows are sorted: drop, old)
        table.selectRow(0)
        dlg.remove_button.click()
        dlg.root_button.click()
        row = dlg.add_row()
        table.item(row, 0).setText("example.com/x")
        ok = dlg.box.button(QDialogButtonBox.StandardButton.Ok)
        assert not ok.isEnabled()  # empty value: the dialog says why and refuses
        assert "empty" in dlg.error_label.text()
        table.item(row, 1).setText("<b>y</b>")
        assert ok.isEnabled()
        ok.click()

    QTimer.singleShot(0, drive)
    win.action_map["actionEditLabels"].trigger()
    wait_jobs(qtbot, win)
    labels = store.info(d).labels
    assert labels["old"] == "1" and "drop" not in labels
    assert labels["example.com/x"] == "<b>y</b>"
    assert "containerd.io/gc.root" in labels
    assert win.blob_model.get(d).labels == labels


def test_label_editor_rejects_oversized_labels(qtbot):
    from gui.details.label_editor import LabelEditorDialog
    dlg = LabelEditorDialog({"k": "v" * 4095})
    qtbot.addWidget(dlg)
    assert dlg.problem() is None
    dlg.table.item(0, 1).setText("v" * 4096)
    assert "4097 bytes" in dlg.problem()
    assert not dlg.box.button(QDialogButtonBox.StandardButton.Ok).isEnabled()


def test_store_refusing_labels_is_reported_and_model_unchanged(qtbot, make_window, store, dialogs):
    d = add_blob(store, b"x", {"a": "b"})
    win = make_window(store.root)
    select_digests(win, [d])
    dialogs.answer("edit_labels", {"k": "v" * 5000})  # bypasses the dialog's own check
    win.action_map["actionEditLabels"].trigger()
    wait_jobs(qtbot, win)
    assert dialogs.errors and "were not changed" in dialogs.errors[0] and "4096" in dialogs.errors[0]
    assert store.info(d).labels == {"a": "b"}
    assert win.blob_model.get(d).labels == {"a": "b"}
    qtbot.waitUntil(lambda: "were not changed" in win.log_dock.text.toPlainText(), timeout=3000)


def test_import_with_labels_and_progress(qtbot, make_window, store, dialogs, tmp_path):
    src = tmp_path / "file.bin"
    data = os.urandom(3 * 1024 * 1024 + 17)
    src.write_bytes(data)
    win = make_window(store.root)
    dialogs.answer("open_files", [str(src)])
    dialogs.answer("edit_labels", {"example.com/source": "import test"})
    win.action_map["actionImport"].trigger()
    wait_jobs(qtbot, win)
    d = Digest.from_bytes(data)
    assert blob_file(store, d).read_bytes() == data
    assert store.info(d).labels == {"example.com/source": "import test"}
    assert d in blob_digests(win)
    assert store.list_statuses() == []


def test_import_cancel_leaves_resumable_ingest(qtbot, make_window, store, dialogs, tmp_path):
    src = tmp_path / "big.bin"
    data = os.urandom(64 * 1024 * 1024)
    src.write_bytes(data)
    win = make_window(store.root)
    done = []
    win.runner.jobFinished.connect(done.append)

    class SlowDisk:  # the real store, with each progress report taking a little while
        def __getattr__(self, name):
            return getattr(store, name)

        def import_file(self, path, *, progress=None, **kw):
            def slow(done, total):
                time.sleep(0.15)
                progress(done, total)
            return store.import_file(path, progress=slow, **kw)

    win.store = SlowDisk()

    def cancel_when_moving(value=None):
        dlg = win.commands.importer.dialog
        if dlg is not None and dlg.bar.value() > 0:
            dlg.buttons.button(QDialogButtonBox.StandardButton.Cancel).click()
        elif not any(n.startswith("import") for n in done):
            QTimer.singleShot(5, cancel_when_moving)

    dialogs.answer("open_files", [str(src)])
    dialogs.answer("edit_labels", {})
    QTimer.singleShot(0, cancel_when_moving)
    win.action_map["actionImport"].trigger()
    wait_jobs(qtbot, win, timeout=60000)
    statuses = store.list_statuses()
    assert len(statuses) == 1 and 0 < statuses[0].offset < len(data)
    assert not blob_file(store, Digest.from_bytes(data)).exists()
    assert dialogs.errors == []  # a cancel is not an error
    qtbot.waitUntil(lambda: win.ingest_model.rowCount() == 1, timeout=5000)
    # importing the same file again resumes and completes it
    win.store = store
    dialogs.answer("edit_labels", {})
    win.commands.importer.run([str(src)])
    wait_jobs(qtbot, win, timeout=60000)
    assert blob_file(store, Digest.from_bytes(data)).read_bytes() == data
    assert store.list_statuses() == []


def test_import_progress_dialog_shows_bytes_and_speed(qtbot):
    from gui.ingests.import_dialog import ImportProgressDialog
    dlg = ImportProgressDialog()
    qtbot.addWidget(dlg)
    dlg.start_file("<b>name</b>.tar", 1, 2)
    dlg.set_progress(512 * 1024, 1024 * 1024)
    assert dlg.bar.value() == 500
    assert "512.0 KiB of 1.0 MiB" in dlg.bytes_label.text() and "/s" in dlg.bytes_label.text()
    assert "<b>name</b>.tar" in dlg.file_label.text()
    assert dlg.file_label.textFormat() == Qt.TextFormat.PlainText


def test_export_blob_to_file(qtbot, make_window, store, dialogs, tmp_path):
    data = os.urandom(2 * 1024 * 1024 + 3)
    d = add_blob(store, data)
    win = make_window(store.root)
    select_digests(win, [d])
    target = tmp_path / "out" / "blob.bin"
    target.parent.mkdir()
    dialogs.answer("save_file", str(target))
    win.action_map["actionExport"].trigger()
    wait_jobs(qtbot, win)
    assert target.read_bytes() == data
    assert [p.name for p in target.parent.iterdir()] == ["blob.bin"]  # no temp file left


def test_export_into_missing_directory_reports_and_leaves_nothing(qtbot, make_window, store, dialogs,
                                                                   tmp_path):
    d = add_blob(store, b"data")
    win = make_window(store.root)
    select_digests(win, [d])
    dialogs.answer("save_file", str(tmp_path / "nope" / "x.bin"))
    win.action_map["actionExport"].trigger()
    wait_jobs(qtbot, win)
    assert dialogs.errors and "Exporting" in dialogs.errors[0]
    assert not (tmp_path / "nope").exists()


def test_verify_flags_a_corrupted_blob(qtbot, make_window, store, dialogs):
    good = add_blob(store, b"good content")
    bad = add_blob(store, b"will be damaged")
    path = blob_file(store, bad)
    os.chmod(path, 0o644)
    path.write_bytes(b"WILL be damaged")
    win = make_window(store.root)
    win.blob_view.clearSelection()
    win.action_map["actionVerify"].trigger()
    wait_jobs(qtbot, win)
    assert win.blob_model.get(good).verified is True
    assert win.blob_model.get(bad).verified is False
    assert dialogs.errors and str(bad) in dialogs.errors[0]
    row = win.blob_model.row_for(bad)
    assert win.blob_model.data(win.blob_model.index(row, 0), Qt.ItemDataRole.ForegroundRole) is not None


def test_copy_digest(qtbot, make_window, store):
    d = add_blob(store, b"copy me")
    win = make_window(store.root)
    select_digests(win, [d])
    win.action_map["actionCopyDigest"].trigger()
    assert QApplication.clipboard().text() == d


def test_open_store_switches_and_remembers(qtbot, make_window, store, dialogs, tmp_path):
    add_blob(store, b"in the first")
    other = tmp_path / "other"
    from store import LocalStore
    second = LocalStore(other)
    d2 = add_blob(second, b"in the second")
    win = make_window(store.root)
    dialogs.answer("open_directory", str(other))
    with qtbot.waitSignal(win.scanFinished, timeout=10000):
        win.action_map["actionOpenStore"].trigger()
    assert blob_digests(win) == {d2}
    assert win.ctx.recent_stores()[:2] == [str(other), str(store.root)]
    assert win.ctx.last_store() == str(other)


def test_open_missing_parent_reports_error(qtbot, make_window, dialogs, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    win = make_window(tmp_path / "ok")
    with qtbot.waitSignal(win.storeFailed, timeout=10000):
        win.open_store(str(blocker / "store"))
    assert dialogs.errors and "Could not open the store" in dialogs.errors[0]


def test_read_only_store_disables_mutations_with_reason(qtbot, make_window, tmp_path, dialogs):
    containerd_root = tmp_path / "var-lib-containerd"
    (containerd_root / "io.containerd.metadata.v1.bolt").mkdir(parents=True)
    (containerd_root / "io.containerd.metadata.v1.bolt" / "meta.db").write_bytes(b"\0" * 64)
    from store import LocalStore
    content = containerd_root / "io.containerd.content.v1.content"
    writable = LocalStore(content, writable=True)
    d = add_blob(writable, b"owned by containerd")
    win = make_window(content)
    assert win.store.read_only
    assert win.readonly_action.isVisible() and win.status_badge.isVisible()
    select_digests(win, [d])
    for name in ("actionDelete", "actionEditLabels", "actionImport"):
        act = win.action_map[name]
        assert not act.isEnabled(), name
        assert "read-only" in act.toolTip()
    assert win.action_map["actionExport"].isEnabled() and win.action_map["actionVerify"].isEnabled()
    qtbot.keyClick(win.blob_view, Qt.Key.Key_Delete)
    assert dialogs.asked == [] and blob_file(writable, d).exists()


def test_background_failure_reaches_user_and_log(qtbot, make_window, store, dialogs):
    d = add_blob(store, b"vanishes")
    win = make_window(store.root)
    win.log_dock.show()
    select_digests(win, [d])

    class Failing:
        def __getattr__(self, name):
            return getattr(store, name)

        def delete(self, digest):
            raise errors.Unavailable(f"content {digest} is locked by another writer")

    win.store = Failing()
    dialogs.answer("confirm", True)
    win.action_map["actionDelete"].trigger()
    wait_jobs(qtbot, win)
    assert dialogs.errors and "could not be deleted" in dialogs.errors[0] and "locked" in dialogs.errors[0]
    assert d in blob_digests(win)  # nothing half-applied
    qtbot.waitUntil(lambda: "locked by another writer" in win.log_dock.text.toPlainText(), timeout=3000)


@pytest.mark.parametrize("text", ['labels."containerd.io/gc.root"', "gc.root"])
def test_filter_box_accepts_both_syntaxes(qtbot, make_window, store, text):
    r = add_blob(store, b"root", {"containerd.io/gc.root": "x"})
    add_blob(store, b"other")
    win = make_window(store.root)
    qtbot.keyClicks(win.filter_edit, text)
    qtbot.waitUntil(lambda: win.blob_model.rowCount() == 1, timeout=3000)
    assert win.blob_model.row_at(0).digest == r
    assert "1 shown" in win.counts_label.text()


def test_bad_filter_shows_inline_message_and_keeps_rows(qtbot, make_window, store):
    add_blob(store, b"a")
    add_blob(store, b"b")
    win = make_window(store.root)
    qtbot.keyClicks(win.filter_edit, "digest~=(")
    qtbot.waitUntil(lambda: win.filter_error.isVisible(), timeout=3000)
    assert "cannot be used" in win.filter_error.text()
    assert win.blob_model.rowCount() == 2


def test_damaged_ingest_is_shown_and_can_be_removed(qtbot, make_window, store, dialogs):
    import hashlib
    junk = store.root / "ingest" / hashlib.sha256(b"lost-ref").hexdigest()
    junk.mkdir(parents=True)
    (junk / "data").write_bytes(b"partial")  # no ref, no timestamps: cannot be resumed
    win = make_window(store.root)
    assert win.ingest_model.rowCount() == 1
    from gui.ingests.ingest_model import COL_STATE
    assert win.ingest_model.data(win.ingest_model.index(0, COL_STATE)) == "damaged"
    win.ingest_view.selectRow(0)
    dialogs.answer("confirm", True)
    win.action_map["actionAbort"].trigger()
    wait_jobs(qtbot, win)
    assert not junk.exists()
    assert win.ingest_model.rowCount() == 0
    assert dialogs.errors == []


def test_drop_files_onto_the_window_imports_them(qtbot, make_window, store, dialogs, tmp_path):
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    src = tmp_path / "dropped.txt"
    src.write_bytes(b"dropped on the window")
    win = make_window(store.root)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(src))])
    enter = QDragEnterEvent(win.rect().center(), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(win, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(win.rect().center()), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    dialogs.answer("edit_labels", {"example.com/how": "dropped"})
    QApplication.sendEvent(win, drop)
    d = Digest.from_bytes(b"dropped on the window")
    qtbot.waitUntil(lambda: blob_file(store, d).exists(), timeout=10000)
    wait_jobs(qtbot, win)
    assert store.info(d).labels == {"example.com/how": "dropped"}


def test_window_geometry_and_last_store_are_remembered(qtbot, make_window, store, settings):
    win = make_window(store.root)
    win.resize(700, 500)  # inside the offscreen screen (800x600), which restoreGeometry respects
    win.shutdown()
    win2 = make_window(store.root)
    assert (win2.size().width(), win2.size().height()) == (700, 500)
    assert settings.value("lastStore") == str(store.root)


def test_verify_uses_several_workers_and_reports_progress(store):
    from gui.operations import verify_blobs
    digests = [str(add_blob(store, os.urandom(1000 + i))) for i in range(50)]
    progress = []

    class FakeJob:
        cancelled = False

        def progress(self, done, total):
            progress.append((done, total))

    out = verify_blobs(store, digests, FakeJob(), workers=3)
    assert out == {d: True for d in digests}
    assert progress[-1] == (50, 50)


def test_opening_a_missing_store_creates_it(qtbot, make_window, tmp_path):
    target = tmp_path / "first-run" / "content"
    win = make_window(target)
    assert target.is_dir() and win.blob_model.total_count == 0
    assert not win.store.read_only


def test_default_store_is_shared_with_blobctl(monkeypatch, tmp_path):
    from gui.context import default_store_path
    monkeypatch.setenv("BLOBSCOPE_ROOT", str(tmp_path / "mine"))
    assert default_store_path() == tmp_path / "mine"
    monkeypatch.delenv("BLOBSCOPE_ROOT")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_store_path() == tmp_path / "data" / "blobscope" / "store"


def test_label_key_editor_offers_containerd_keys(qtbot):
    from PySide6.QtWidgets import QLineEdit, QStyleOptionViewItem

    from gui.details.label_editor import LabelEditorDialog
    dlg = LabelEditorDialog({})
    qtbot.addWidget(dlg)
    row = dlg.add_row("k", "v")
    editor = dlg.table.itemDelegate().createEditor(dlg.table.viewport(), QStyleOptionViewItem(),
                                                   dlg.table.model().index(row, 0))
    assert isinstance(editor, QLineEdit)
    keys = editor.completer().model().stringList()
    assert "containerd.io/gc.root" in keys and "containerd.io/gc.ref.content.l.0" in keys
    value_editor = dlg.table.itemDelegate().createEditor(dlg.table.viewport(), QStyleOptionViewItem(),
                                                         dlg.table.model().index(row, 1))
    assert value_editor.completer() is None


def test_delete_key_in_the_filter_box_edits_text_not_blobs(qtbot, make_window, store, dialogs):
    d = add_blob(store, b"safe")
    win = make_window(store.root)
    select_digests(win, [d])
    win.filter_edit.setFocus()
    qtbot.keyClicks(win.filter_edit, "ab")
    qtbot.keyClick(win.filter_edit, Qt.Key.Key_Home)
    qtbot.keyClick(win.filter_edit, Qt.Key.Key_Delete)
    assert win.filter_edit.text() == "b"
    assert dialogs.asked == [] and blob_file(store, d).exists()


def test_choosing_a_containerd_root_opens_its_content_store_read_only(qtbot, make_window, tmp_path):
    from store import LocalStore
    root = tmp_path / "containerd"
    (root / "io.containerd.metadata.v1.bolt").mkdir(parents=True)
    (root / "io.containerd.metadata.v1.bolt" / "meta.db").write_bytes(b"\0" * 32)
    d = add_blob(LocalStore(root / "io.containerd.content.v1.content", writable=True), b"in containerd")
    win = make_window(root)
    assert str(win.store.root).endswith("io.containerd.content.v1.content")
    assert win.store.read_only and d in blob_digests(win)
    assert sorted(p.name for p in root.iterdir()) == ["io.containerd.content.v1.content",
                                                      "io.containerd.metadata.v1.bolt"]


def test_a_filter_that_clears_the_selection_disables_the_selection_actions(qtbot, make_window, store):
    """A model reset drops the selection without selectionChanged: the actions must follow anyway."""
    keep = add_blob(store, b"keep")
    other = add_blob(store, b"other")
    win = make_window(store.root)
    select_digests(win, [other])
    assert win.action_map["actionDelete"].isEnabled()
    win.filter_edit.setText(str(keep))
    win.apply_filter()
    assert win.blob_model.rowCount() == 1 and win.selection.blob_count() == 0
    assert not win.action_map["actionDelete"].isEnabled()
    assert not win.action_map["actionCopyDigest"].isEnabled()


def test_deleting_hundreds_of_blobs_at_once_leaves_a_consistent_window(qtbot, make_window, store, dialogs):
    """Above the model's incremental limit a delete resets the table in one go; the actions still follow."""
    from gui.blobs.blob_model import _INCREMENTAL_LIMIT
    many = [add_blob(store, b"many %d" % i) for i in range(_INCREMENTAL_LIMIT + 20)]
    keep = add_blob(store, b"keep")
    win = make_window(store.root)
    select_digests(win, many)
    qtbot.waitUntil(lambda: win.details.current is None)  # many selected: no single blob shown
    dialogs.answer("confirm", True)
    win.action_map["actionDelete"].trigger()
    wait_jobs(qtbot, win)
    assert blob_digests(win) == {str(keep)}
    assert win.blob_model.total_count == 1 and win.blob_model.total_bytes == len(b"keep")
    assert win.details.current is None
    assert not win.action_map["actionDelete"].isEnabled()
    assert dialogs.errors == []
