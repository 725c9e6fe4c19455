"""Put the window in a state worth a picture (used by ``--screenshot`` and the screenshot test)."""

from __future__ import annotations

from contextlib import contextmanager

from PySide6.QtCore import QItemSelectionModel

from .blobs.blob_model import COL_SIZE
from .rows import GC_REF_CONTENT


def prepare_for_screenshot(window) -> None:
    """Sort by size, select the image manifest (or the first blob) so the details pane has content."""
    view = window.blob_view
    model = window.blob_model
    view.sortByColumn(COL_SIZE, view.horizontalHeader().sortIndicatorOrder().DescendingOrder)
    target = 0
    for i in range(model.rowCount()):
        if f"{GC_REF_CONTENT}.config" in model.row_at(i).labels:
            target = i
            break
    if model.rowCount():
        index = model.index(target, 0)
        view.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        view.scrollTo(index)
    if window.ingest_model.rowCount():
        window.ingest_view.selectRow(0)
        window.ingest_view.clearSelection()


def _wait(predicate, timeout_s: float = 20.0) -> None:
    import time

    from PySide6.QtCore import QCoreApplication, QEventLoop
    end = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > end:
            raise TimeoutError("the window did not finish loading in time")
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.01)


def size_for_screenshot(window) -> None:
    """The size the pictures in docs/ are taken at."""
    window.resize(1360, 860)
    window.main_splitter.setSizes([860, 500])


def _save(widget, path):
    widget.grab().save(str(path))
    return path


@contextmanager
def _demo_window(outdir, lang: str, *, growing: bool):
    """A 1360x860 MainWindow (not yet showing a store) beside a fresh demo store, in ``lang``;
    yields ``(window, demo, outdir)`` and puts everything back afterwards."""
    from pathlib import Path

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from . import i18n
    from .context import AppContext
    from .demo import build_demo_store
    from .main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    i18n.install(app, lang)
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    demo = build_demo_store()
    if growing:
        demo.start_growing()
    try:
        ctx = AppContext(settings=QSettings(str(outdir / ".screenshot-settings.ini"),
                                            QSettings.Format.IniFormat))
        ctx.remember = False
        win = MainWindow(ctx)
        size_for_screenshot(win)
        try:
            yield win, demo, outdir
        finally:
            win.close()
    finally:
        demo.close()
        i18n.install(app, "en")


def save_all(outdir, lang: str = "en", suffix: str = "") -> list:
    """Render the main window on the demo store, the label editor and the import dialog to PNGs."""
    import time

    from .details.label_editor import LabelEditorDialog
    from .ingests.import_dialog import ImportProgressDialog

    saved = []
    with _demo_window(outdir, lang, growing=True) as (win, demo, outdir):
        done = []
        win.mediaTypesDone.connect(lambda: done.append(True))
        win.show()
        win.open_store(str(demo.root))
        _wait(lambda: bool(done))
        prepare_for_screenshot(win)
        _wait(lambda: "schemaVersion" in win.details.preview.toPlainText())
        end = time.monotonic() + 1.2  # let the growing ingest move once or twice
        _wait(lambda: time.monotonic() > end)
        saved.append(_save(win, outdir / f"screenshot-main{suffix}.png"))

        rows = win.selection.blob_rows()
        dlg = LabelEditorDialog(rows[0].labels if rows else {"a": "b"}, parent=win,
                                title=win.tr("Labels of {short}").format(short=rows[0].short if rows else ""))
        dlg.resize(760, 360)
        dlg.show()
        _wait(lambda: dlg.isVisible())
        saved.append(_save(dlg, outdir / f"screenshot-labels{suffix}.png"))
        dlg.close()

        imp = ImportProgressDialog(win)
        imp.start_file("ubuntu-rootfs-layer.tar.gz", 1, 3)
        imp._file_started -= 2.0  # as if two seconds had passed
        imp.set_progress(137 * 1024 * 1024, 312 * 1024 * 1024)
        imp.show()
        _wait(lambda: imp.isVisible())
        saved.append(_save(imp, outdir / f"screenshot-import{suffix}.png"))
        imp.done(0)
    return saved


def save_graph_views(outdir, lang: str = "en", suffix: str = "") -> list:
    """Render the Images tab with a manifest's references, and the layer browser previewing a file."""
    saved = []
    with _demo_window(outdir, lang, growing=False) as (win, demo, outdir):
        built = []
        win.graphBuilt.connect(lambda: built.append(True))
        win.show()
        win.open_store(str(demo.root))
        _wait(lambda: bool(built) and win.runner.active == 0)
        prepare_for_screenshot(win)  # selects the manifest: its references fill the details pane
        manifest = win.details.current
        _wait(lambda: win.details.refs.digest == manifest and win.details.refs.items())
        win.view_tabs.setCurrentWidget(win.images_view)
        win.images_view.reveal(manifest)
        _wait(lambda: "schemaVersion" in win.details.preview.toPlainText())
        saved.append(_save(win, outdir / f"screenshot-images{suffix}.png"))

        layer = next(r for r in win.blob_model.all_rows() if any(
            n.name == "l.0" and str(n.digest) == r.digest for n in win.image_graph.graph.refs(manifest).children))
        win.view_tabs.setCurrentIndex(0)
        win.commands.select_blob.run(layer.digest)
        win.commands.browse_layer.trigger()
        dlg = win.commands.browse_layer.dialog
        _wait(lambda: dlg.finished_listing and dlg.tree_ready)
        dlg.select_path("etc/os-release")
        _wait(lambda: "NAME=" in dlg.preview.toPlainText())
        saved.append(_save(dlg, outdir / f"screenshot-layer{suffix}.png"))
        dlg.close()
    return saved


def save_layer_views(outdir, lang: str = "en", suffix: str = "") -> list:
    """Render Image Layers on a small image whose layers rewrite, white out and hide files."""
    from store.local import LocalStore

    from .images.layers_demo import add_layered_image
    saved = []
    with _demo_window(outdir, lang, growing=False) as (win, demo, outdir):
        manifest = str(add_layered_image(LocalStore(demo.root)))
        built = []
        win.graphBuilt.connect(lambda: built.append(True))
        win.show()
        win.open_store(str(demo.root))
        _wait(lambda: bool(built) and win.runner.active == 0)
        win.commands.select_blob.run(manifest)
        dlg = win.commands.image_layers.open(manifest)
        assert dlg is not None
        _wait(lambda: dlg.shown == (0, False))
        dlg.layer_list.setCurrentCell(2, 0)
        _wait(lambda: dlg.shown == (2, False))
        dlg.tree.setCurrentIndex(dlg.model.find("var/cache/apt/pkgcache.bin"))
        saved.append(_save(dlg, outdir / f"screenshot-image-layers{suffix}.png"))
        dlg.close()
    return saved


if __name__ == "__main__":
    import os
    import sys
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    target = sys.argv[1] if len(sys.argv) > 1 else "docs"
    for lang, suffix in (("en", ""), ("zh_CN", "-zh_CN")):
        for path in save_all(target, lang, suffix) + save_graph_views(target, lang, suffix) + \
                save_layer_views(target, lang, suffix):
            print(path)
