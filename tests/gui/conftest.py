"""Fixtures for the GUI tests: offscreen Qt, a temp store, scripted dialogs, a window on it."""

from __future__ import annotations

import hashlib
import os
from contextlib import contextmanager

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["QT_QPA_PLATFORM"] = "offscreen"


import pytest  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402

from store import Digest, LocalStore  # noqa: E402


def pytest_configure(config):
    # The offscreen platform cannot pass size hints to a window manager; it says so on every
    # QMainWindow with docks. That is the test platform talking, not our code.
    config.addinivalue_line("qt_log_ignore", "This plugin does not support propagateSizeHints")


class ScriptedDialogs:
    """The dialog service, answered by the test: each kind of question pops its next answer."""

    def __init__(self):
        self.answers: dict[str, list] = {"confirm": [], "open_files": [], "save_file": [],
                                         "open_directory": [], "edit_labels": [], "text": []}
        self.asked: list[tuple[str, tuple]] = []
        self.errors: list[str] = []
        self.infos: list[str] = []

    def answer(self, kind: str, value) -> None:
        self.answers[kind].append(value)

    def _next(self, kind: str, args: tuple):
        self.asked.append((kind, args))
        if not self.answers[kind]:
            raise AssertionError(f"unexpected question {kind}: {args!r}")
        return self.answers[kind].pop(0)

    def confirm(self, parent, title, text, detail="", ok_text=""):
        return self._next("confirm", (title, text, detail))

    def ask_text(self, parent, title, label, text=""):
        return self._next("text", (title, label))

    def error(self, parent, title, text, detail=""):
        self.errors.append(text + ("\n" + detail if detail else ""))

    def info(self, parent, title, text):
        self.infos.append(text)

    def open_files(self, parent, title, directory=""):
        return self._next("open_files", (title,))

    def save_file(self, parent, title, suggested=""):
        return self._next("save_file", (title, suggested))

    def open_directory(self, parent, title, directory=""):
        return self._next("open_directory", (title,))

    def edit_labels(self, parent, title, labels, intro=""):
        answer = self._next("edit_labels", (title, dict(labels)))
        return answer(labels) if callable(answer) else answer


def add_blob(store: LocalStore, data: bytes, labels: dict[str, str] | None = None) -> Digest:
    d = Digest.from_bytes(data)
    with store.writer(f"test-{d.encoded[:16]}", total=len(data), expected=d) as w:
        w.write(data)
        w.commit(len(data), d, labels=labels or None)
    return d


def write_blobs(store: LocalStore, n: int, text: bytes, pad: int = 1) -> list[str]:
    """``n`` small blobs written straight into the store's directory (no ingest: quick for thousands),
    ``text % i`` followed by ``i % pad`` dots; their digests in order."""
    d = store.root / "blobs" / "sha256"
    d.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        data = text % i + b"." * (i % pad)
        hexd = hashlib.sha256(data).hexdigest()
        (d / hexd).write_bytes(data)
        out.append("sha256:" + hexd)
    return out


def disk_digests(store: LocalStore) -> set[str]:
    """The digests on disk now, as another process lists them."""
    return {str(i.digest) for i in LocalStore(store.root).walk()}


@pytest.fixture
def store(tmp_path) -> LocalStore:
    return LocalStore(tmp_path / "content")


@pytest.fixture
def dialogs() -> ScriptedDialogs:
    return ScriptedDialogs()


@pytest.fixture
def settings(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@contextmanager
def windows_on(qtbot, new_context, *, timeout=15000):
    """``make(path, wait=True)``: a shown MainWindow (on ``new_context()``) opening ``path``, after its
    first scan has landed unless ``wait`` is False; every window made is shut down on exit."""
    from gui.main_window import MainWindow

    windows = []

    def make(path, *, wait=True):
        w = MainWindow(new_context())
        qtbot.addWidget(w)
        windows.append(w)
        w.show()
        if wait:
            with qtbot.waitSignal(w.scanFinished, timeout=timeout):
                w.open_store(str(path))
        else:
            w.open_store(str(path))
        return w

    try:
        yield make
    finally:
        for w in windows:
            w.shutdown()


@pytest.fixture
def make_window(qtbot, dialogs, settings, tmp_path):
    """Open a MainWindow on a store path and wait until the first scan has landed."""
    from gui.context import AppContext

    with windows_on(qtbot, lambda: AppContext(dialogs=dialogs, settings=settings,
                                              default_store=lambda: tmp_path / "default-store")) as make:
        yield make


def wait_jobs(qtbot, window, timeout=15000):
    qtbot.waitUntil(lambda: window.runner.active == 0, timeout=timeout)


def blob_digests(window) -> set[str]:
    m = window.blob_model
    return {m.row_at(i).digest for i in range(m.rowCount())}


def select_digests(window, digests) -> None:
    from PySide6.QtCore import QItemSelectionModel
    view = window.blob_view
    sm = view.selectionModel()
    sm.clearSelection()
    for d in digests:
        row = window.blob_model.row_for(str(d))
        assert row >= 0, d
        sm.select(window.blob_model.index(row, 0),
                  QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)
    if digests:
        sm.setCurrentIndex(window.blob_model.index(window.blob_model.row_for(str(list(digests)[-1])), 0),
                           QItemSelectionModel.SelectionFlag.NoUpdate)


def fit_node_columns(table, *, name: int, reason: int = 200, refresh: int = 250) -> None:
    """Size the Fleet node table's columns to their contents for a screenshot (headers included),
    the node names, reasons and refresh notes capped at ``name``, ``reason`` and ``refresh`` pixels
    (they elide)."""
    from gui.fleet.node_table import NAME, REASON, REFRESH
    for col in range(table.columnCount()):
        table.resizeColumnToContents(col)
    for col, cap in ((NAME, name), (REASON, reason), (REFRESH, refresh)):
        table.setColumnWidth(col, min(table.columnWidth(col), cap))
