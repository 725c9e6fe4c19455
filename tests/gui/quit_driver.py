"""Runs ``blobscope STORE`` as its own process and ends it one way, for test_quit.py.

``python -m tests.gui.quit_driver MODE STORE [FILE]``; MODE is one of
- ``quit-after-scan``, ``quit-mid-scan``, ``exit-7``: QApplication.quit()/exit(7), no window closed;
- ``signal``: print READY once listed and wait for the test's SIGTERM or SIGINT;
- ``sigterm-import``: import FILE and send itself SIGTERM once the ingest has data.
The hooks only watch the real window's signals; what runs is ``gui.app.main``.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

import gui.main_window
from gui.app import main

mode, store = sys.argv[1], sys.argv[2]
big = sys.argv[3] if len(sys.argv) > 3 else None
_init = gui.main_window.MainWindow.__init__
seen = {}


def once(key: str) -> bool:
    first = key not in seen
    seen[key] = True
    return first


def hooked_init(self, *args, **kwargs):
    _init(self, *args, **kwargs)
    self.scanner.worker.first_batch = 5
    if mode == "quit-after-scan":
        self.scanFinished.connect(lambda: once("q") and QApplication.quit())
    elif mode == "quit-mid-scan":
        self.scanner.blobsBatch.connect(lambda _rows: once("q") and QApplication.quit())
    elif mode == "exit-7":
        self.scanFinished.connect(lambda: once("q") and QApplication.exit(7))
    elif mode == "signal":
        self.scanFinished.connect(lambda: once("r") and print("READY", flush=True))
    elif mode == "sigterm-import":
        def start():
            if not once("i"):
                return
            self.commands.importer.run([big], labels={})
            timer = QTimer(self)
            ingest = Path(store) / "ingest"

            def check():
                if any((d / "data").exists() and (d / "data").stat().st_size > 0
                       for d in ingest.glob("*")):
                    timer.stop()
                    print("IMPORTING", flush=True)
                    os.kill(os.getpid(), signal.SIGTERM)
            timer.timeout.connect(check)
            timer.start(5)
        self.scanFinished.connect(start)


gui.main_window.MainWindow.__init__ = hooked_init
sys.exit(main([store]))
