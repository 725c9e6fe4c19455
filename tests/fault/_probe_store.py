"""Look at a store the way an unprivileged user does (run as ``nobody`` by test_damaged.py).

Prints one JSON object: what the library lists and reports, and what a real MainWindow shows.
Usage: python -m tests.fault._probe_store STORE_ROOT SCRATCH_DIR
"""

from __future__ import annotations

import json
import os
import sys


def library(root: str) -> dict:
    from store import LocalStore, errors
    out: dict = {}
    store = LocalStore(root)
    strays: list = []
    try:
        out["blobs"] = [i.digest for i in store.walk(strays=strays)]
    except errors.ContentError as exc:
        out["walk_error"] = str(exc)
    out["strays"] = {s.name: s.reason for s in strays}
    out["ingests"] = [s.ref for s in store.list_statuses()]
    out["broken"] = {b.ref_hash: b.reason for b in store.broken_ingests()}
    verify = {}
    for d in out.get("blobs", []):
        try:
            verify[d] = store.verify(d)
        except errors.ContentError as exc:
            verify[d] = str(exc)
    out["verify"] = verify
    return out


def gui(root: str, scratch: str) -> dict:
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from gui.context import AppContext
    from gui.main_window import MainWindow
    from tests.gui.conftest import ScriptedDialogs

    app = QApplication.instance() or QApplication([])
    dialogs = ScriptedDialogs()
    ctx = AppContext(dialogs=dialogs, settings=QSettings(os.path.join(scratch, "s.ini"), QSettings.Format.IniFormat))
    win = MainWindow(ctx)
    win.show()
    done = {"ok": False}

    def finished():
        done["ok"] = True
        app.quit()

    win.scanFinished.connect(finished)
    win.storeFailed.connect(lambda _m: app.quit())
    QTimer.singleShot(30000, app.quit)
    win.open_store(root)
    app.exec()
    m = win.blob_model
    result = {"scan_finished": done["ok"],
              "blobs": [m.row_at(i).digest for i in range(m.rowCount())],
              "ingests": [r.ref for r in win.ingest_model.rows() if r.broken is None],
              "broken": {r.ref: r.broken for r in win.ingest_model.rows() if r.broken is not None},
              "errors": list(dialogs.errors),
              "log": win.log_dock.text.toPlainText()}
    win.shutdown()
    return result


if __name__ == "__main__":
    root, scratch = sys.argv[1], sys.argv[2]
    print(json.dumps({"uid": os.getuid(), "library": library(root), "gui": gui(root, scratch)}))
