"""The entry point: --version without a display, --demo --screenshot in-process, languages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QImage

import gui
from gui.app import split_qt_args

REPO = Path(__file__).resolve().parents[2]


def test_version_needs_no_display():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    out = subprocess.run([sys.executable, "-m", "gui", "--version"], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=60)
    from store import __version__
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"blobscope {__version__}"


def test_qt_options_pass_through():
    ours, qt = split_qt_args(["-platform", "offscreen", "/some/store", "--lang", "zh_CN", "-reverse"])
    assert ours == ["/some/store", "--lang", "zh_CN"]
    assert qt == ["-platform", "offscreen", "-reverse"]


def _run_main_in_process(qtbot, argv):
    return gui.main(argv)


def test_demo_screenshot_in_process_reuses_the_application(qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QApplication

    import gui.demo
    app = QApplication.instance()
    built = []
    real_build = gui.demo.build_demo_store

    def build(parent=None):
        built.append(real_build(str(tmp_path)))
        return built[-1]

    monkeypatch.setattr(gui.demo, "build_demo_store", build)
    from store import workers
    warmed: list = []
    real_warm_up = workers.warm_up
    monkeypatch.setattr(workers, "warm_up", lambda: warmed.append(real_warm_up()) or warmed[-1])
    target = tmp_path / "shot.png"
    code = gui.main(["--demo", "--screenshot", str(target)])
    assert code == 0
    assert warmed == [True]  # the media-type workers' fork server started with the application
    assert QApplication.instance() is app
    img = QImage(str(target))
    assert img.width() >= 800 and img.height() >= 500
    # the picture has content: many distinct colours, not an empty grey window
    colours = {img.pixel(x, y) for x in range(0, img.width(), 7) for y in range(0, img.height(), 7)}
    assert len(colours) > 20
    assert len(built) == 1 and tmp_path in built[0].root.parents
    assert not built[0].root.exists()  # the demo store is cleaned up


def test_chinese_translation_is_shipped_and_loads(qtbot):
    from PySide6.QtWidgets import QWidget

    from gui import i18n
    from gui.actions import make_actions
    app = QCoreApplication.instance()
    assert "zh_CN" in i18n.available()
    try:
        assert i18n.install(app, "zh_CN") == "zh_CN"
        w = QWidget()
        qtbot.addWidget(w)
        acts = make_actions(w)
        assert acts["actionImport"].text() == "导入文件(&I)…"
        from gui.ingests.ingest_model import IngestTableModel
        m = IngestTableModel()
        assert m.headerData(0, __import__("PySide6.QtCore", fromlist=["Qt"]).Qt.Orientation.Horizontal) == "引用"
        from gui import fmt
        assert "之前" in fmt.ago(1, 1 + 180 * 10**9)  # humanize's own zh_CN strings
    finally:
        i18n.install(app, "en")
    assert make_actions(w)["actionImport"].text() == "&Import Files…"


def test_every_translation_is_filled():
    import xml.etree.ElementTree as ET
    ts = REPO / "resources" / "i18n" / "blobscope_zh_CN.ts"
    tree = ET.parse(ts)
    messages = list(tree.getroot().iter("message"))
    assert len(messages) > 100
    for m in messages:
        tr = m.find("translation")
        assert tr.text and tr.get("type") != "unfinished", m.find("source").text
        src = m.find("source").text
        for field in ("{n}", "{path}", "{digest}", "{size}", "{short}"):
            assert (field in src) == (field in tr.text), (src, tr.text)


def test_resources_found_and_icons_load(qtbot):
    from gui.resources import app_icon, icon, path
    assert path("icons", "org.blobscope.Blobscope.svg").is_file()
    assert path("org.blobscope.Blobscope.desktop").is_file()
    assert not app_icon().isNull()
    for name in ("import", "delete", "abort", "labels", "verify", "refresh", "export", "open-store"):
        assert not icon(name).pixmap(24, 24).isNull(), name


def test_resources_from_a_frozen_bundle(tmp_path, monkeypatch):
    from gui import resources
    (tmp_path / "resources" / "icons").mkdir(parents=True)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    resources.resource_dir.cache_clear()
    try:
        assert resources.resource_dir() == tmp_path / "resources"
    finally:
        monkeypatch.delattr(sys, "_MEIPASS")
        resources.resource_dir.cache_clear()
    assert resources.resource_dir() == REPO / "resources"


def test_demo_store_content():
    from gui.demo import GROWING_REF, STALLED_REF, build_demo_store
    demo = build_demo_store()
    try:
        infos = {str(i.digest): i for i in demo.store.walk()}
        assert len(infos) >= 15
        roots = [i for i in infos.values() if "containerd.io/gc.root" in i.labels]
        assert roots
        manifests = [i for i in infos.values() if "containerd.io/gc.ref.content.config" in i.labels]
        assert len(manifests) == 1
        for key, target in manifests[0].labels.items():
            if key.startswith("containerd.io/gc.ref.content."):
                assert target in infos  # every reference points at a blob that is there
        assert [s.ref for s in demo.store.list_statuses()] == [STALLED_REF]
        demo.start_growing(chunk=4096, interval=0.05)
        import time
        first = demo.store.status(GROWING_REF).offset
        time.sleep(0.3)
        assert demo.store.status(GROWING_REF).offset > first
        for d in infos:
            assert demo.store.verify(d)
    finally:
        demo.close()
    assert not demo.root.exists()


def test_translation_file_covers_every_string_in_the_code(tmp_path):
    """pyside6-lupdate over gui/ (subpackages too) finds no source text that the shipped .ts lacks,
    nor one under a context (the class that calls ``tr``) the .ts files it elsewhere: Qt looks a
    translation up by context, so a string moved to another class is untranslated until the .ts follows."""
    import subprocess
    import sys
    import xml.etree.ElementTree as ET
    shipped = REPO / "resources" / "i18n" / "blobscope_zh_CN.ts"
    fresh = tmp_path / "fresh.ts"
    sources = sorted(str(p) for p in (REPO / "gui").rglob("*.py") if p.name != "_zh_CN.py")
    lupdate = Path(sys.executable).parent / "pyside6-lupdate"
    subprocess.run([str(lupdate), *sources, "-no-obsolete", "-locations", "none", "-ts", str(fresh)],
                   check=True, capture_output=True)

    def texts(ts):
        return {(c.find("name").text, m.find("source").text)
                for c in ET.parse(ts).getroot().iter("context") for m in c.iter("message")}

    missing = texts(fresh) - texts(shipped)
    assert not missing, f"run `python -m gui._zh_CN` and translate: {sorted(missing)}"


def test_default_store_is_in_qts_data_location(qapp):
    """The default store (shared with blobctl) sits in the directory Qt names for user data."""
    from PySide6.QtCore import QStandardPaths

    from gui.context import default_store_path
    qt_data = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericDataLocation)
    assert default_store_path() == Path(qt_data) / "blobscope" / "store"


def test_strings_in_command_objects_are_translated_at_run_time(qtbot, make_window, store, dialogs, tmp_path):
    """The commands (gui/commands/), the image graph and the reporter look their strings up under
    their own class, as pyside6-lupdate files them: Chinese reaches the person from there too."""
    from gui import i18n
    from gui._zh_CN import ZH_CN
    from store import LocalStore
    from tests.gui.conftest import add_blob, select_digests
    d = add_blob(store, b"translated")
    root = tmp_path / "containerd"
    (root / "io.containerd.metadata.v1.bolt").mkdir(parents=True)
    (root / "io.containerd.metadata.v1.bolt" / "meta.db").write_bytes(b"\0" * 64)
    add_blob(LocalStore(root / "io.containerd.content.v1.content", writable=True), b"owned")
    app = QCoreApplication.instance()
    try:
        assert i18n.install(app, "zh_CN") == "zh_CN"
        win = make_window(store.root)
        qtbot.waitUntil(lambda: win.image_graph.graph is not None, timeout=15000)
        tabs = win.view_tabs
        assert tabs.tabText(tabs.indexOf(win.images_view)) == ZH_CN["Images ({n})"].format(n=0)  # ImageGraph
        select_digests(win, [d])
        dialogs.answer("confirm", False)
        win.action_map["actionDelete"].trigger()  # DeleteBlobs
        (_kind, (title, _text, detail)), = dialogs.asked
        assert title == ZH_CN["Delete blobs"] and ZH_CN["This cannot be undone."] in detail
        ro = make_window(root / "io.containerd.content.v1.content")
        assert ro.action_map["actionImport"].toolTip().startswith(ZH_CN["The store is read-only: {reason}"]
                                                              .split("{")[0])  # Commands
    finally:
        i18n.install(app, "en")
