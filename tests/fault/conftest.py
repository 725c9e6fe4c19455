"""Fault suites (issue 6): crash loops, concurrency, full disk, hostile input, damaged stores, GUI load.

Every test here is ``@pytest.mark.slow``: the default run skips them, CI runs ``-m slow``.
Tests record their figures with the ``figures`` fixture; they are printed at the end of
the run and merged into ``tests/_artifacts/fault/figures.json``.
"""

from __future__ import annotations

import json
import os
import time

os.environ["QT_QPA_PLATFORM"] = "offscreen"

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "tests" / "_artifacts" / "fault"
PYTHON = os.environ.get("BLOBSCOPE_PYTHON") or str(REPO / ".venv" / "bin" / "python")

_FIGURES: dict[str, dict] = {}
_DURATIONS: dict[str, float] = {}


def pytest_configure(config):
    config.addinivalue_line("qt_log_ignore", "This plugin does not support propagateSizeHints")


class Figures:
    def __init__(self, name: str):
        self.name = name
        self.values = _FIGURES.setdefault(name, {})

    def __setitem__(self, key: str, value) -> None:
        self.values[key] = value

    def __getitem__(self, key: str):
        return self.values[key]

    def update(self, **kw) -> None:
        self.values.update(kw)


@pytest.fixture
def figures(request) -> Figures:
    """Numbers this test measured, reported at the end of the session under the test's name."""
    return Figures(request.node.nodeid.split("::", 1)[-1])


def pytest_runtest_logreport(report):
    if report.when == "call" and "tests/fault/" in report.nodeid.replace(os.sep, "/"):
        _DURATIONS[report.nodeid.split("::", 1)[-1]] = round(report.duration, 1)


def pytest_terminal_summary(terminalreporter):
    if not _FIGURES and not _DURATIONS:
        return
    tr = terminalreporter
    tr.section("fault-suite figures")
    for name in sorted(set(_FIGURES) | set(_DURATIONS)):
        took = _DURATIONS.get(name)
        tr.write_line(f"{name}  ({took} s)" if took is not None else name)
        for key, value in _FIGURES.get(name, {}).items():
            tr.write_line(f"    {key}: {value}")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "figures.json"
    try:
        old = json.loads(path.read_text())
    except (OSError, ValueError):
        old = {}
    for name in set(_FIGURES) | set(_DURATIONS):
        old[name] = {"seconds": _DURATIONS.get(name), "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                     **_FIGURES.get(name, {})}
    path.write_text(json.dumps(old, indent=2, sort_keys=True, default=str) + "\n")
    tr.write_line(f"figures written to {path}")


def blob_problems(root: Path) -> list[str]:
    """Everything wrong under ``blobs/``: non-files, bad names, temp files, bytes that do not hash to the name."""
    import hashlib
    problems = []
    blobs = Path(root) / "blobs"
    if not blobs.exists():
        return problems
    for alg_dir in blobs.iterdir():
        if alg_dir.name not in ("sha256", "sha384", "sha512") or alg_dir.is_symlink() or not alg_dir.is_dir():
            problems.append(f"stray {alg_dir}")
            continue
        for p in alg_dir.iterdir():
            if p.is_symlink() or not p.is_file():
                problems.append(f"not a regular file: {p}")
                continue
            h = hashlib.new(alg_dir.name)
            with open(p, "rb") as f:
                while chunk := f.read(1 << 20):
                    h.update(chunk)
            if h.hexdigest() != p.name:
                problems.append(f"{p} hashes to {h.hexdigest()}")
    return problems


@pytest.fixture
def make_window(qtbot, tmp_path):
    """A real MainWindow (offscreen) on a store path, with scripted dialogs; waits for the first scan."""
    import itertools

    from PySide6.QtCore import QSettings

    from gui.context import AppContext
    from tests.gui.conftest import ScriptedDialogs, windows_on

    count = itertools.count()

    def new_context():  # each window its own dialogs and settings file
        settings = QSettings(str(tmp_path / f"settings-{next(count)}.ini"), QSettings.Format.IniFormat)
        return AppContext(dialogs=ScriptedDialogs(), settings=settings,
                          default_store=lambda: tmp_path / "default-store")

    with windows_on(qtbot, new_context, timeout=60000) as make:
        yield make  # a window's scripted dialogs: win.ctx.dialogs


class Heartbeat:
    """A 10 ms QTimer on the GUI thread; the longest gap between its ticks is the worst stall.

    A watchdog thread samples the GUI thread's stack whenever a tick is 80 ms late, so a
    stall can be blamed on a line (``stall_sites``: the most frequent innermost frames).
    """

    def __init__(self, interval_ms: int = 10):
        import threading

        from PySide6.QtCore import QTimer
        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.last = None
        self.max_gap = 0.0
        self.ticks = 0
        self.gaps_over_100ms = 0
        self._gui_thread = threading.get_ident()
        self._samples: dict[str, int] = {}
        self._stop = threading.Event()
        self._watchdog = None

    def _tick(self):
        now = time.perf_counter()
        if self.last is not None:
            gap = now - self.last
            self.max_gap = max(self.max_gap, gap)
            if gap > 0.1:
                self.gaps_over_100ms += 1
        self.last = now
        self.ticks += 1

    def _watch(self):
        import sys
        import traceback
        while not self._stop.wait(0.02):
            last = self.last
            if last is not None and time.perf_counter() - last > 0.08:
                frame = sys._current_frames().get(self._gui_thread)
                if frame is None:
                    continue
                inner = [f for f in traceback.extract_stack(frame) if "/site-packages/" not in f.filename][-3:]
                key = " < ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(inner))
                self._samples[key] = self._samples.get(key, 0) + 1

    def start(self):
        import threading
        self.last = None
        self.timer.start()
        self._stop.clear()
        self._watchdog = threading.Thread(target=self._watch, daemon=True, name="heartbeat-watchdog")
        self._watchdog.start()

    def stop(self):
        self.timer.stop()
        self._stop.set()

    @property
    def stall_sites(self) -> list[str]:
        """Where the GUI thread was during stalls (20 ms samples), most frequent first."""
        top = sorted(self._samples.items(), key=lambda kv: -kv[1])[:3]
        return [f"{n}x {where}" for where, n in top]

    @property
    def max_stall_ms(self) -> float:
        return round(self.max_gap * 1000, 1)
