"""Blobscope ends cleanly however it is told to: QApplication.quit()/exit(), SIGTERM, SIGINT.

Each case runs ``gui.app.main`` as its own process (tests/gui/quit_driver.py), because the
failure it guards against is the process aborting on exit: ``QThread: Destroyed while
thread 'blobscope-scanner' is still running``, SIGABRT, exit code 134.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from store.digest import Digest
from store.local import LocalStore
from tests.gui.conftest import add_blob

REPO = Path(__file__).resolve().parents[2]


def _driver(mode: str, *args: str, **kw) -> subprocess.Popen:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONDONTWRITEBYTECODE="1")
    return subprocess.Popen([sys.executable, "-m", "tests.gui.quit_driver", mode, *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def _clean(err: str) -> None:
    assert "QThread" not in err and "Traceback" not in err, err
    assert "CRITICAL" not in err and "WARNING qt" not in err, err


@pytest.fixture
def listed_store(tmp_path) -> LocalStore:
    s = LocalStore(tmp_path / "content")
    for i in range(300):
        add_blob(s, f"blob {i}".encode())
    return s


@pytest.mark.parametrize("mode, code", [("quit-after-scan", 0), ("quit-mid-scan", 0), ("exit-7", 7)])
def test_quit_without_closing_the_window_ends_cleanly(listed_store, mode, code):
    p = _driver(mode, str(listed_store.root))
    out, err = p.communicate(timeout=60)
    assert p.returncode == code, err  # 134 (SIGABRT) before aboutToQuit stopped the threads
    _clean(err)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_sigint_close_the_window(listed_store, signum):
    p = _driver("signal", str(listed_store.root))
    try:
        assert p.stdout.readline().strip() == "READY"
        p.send_signal(signum)
        out, err = p.communicate(timeout=60)
    finally:
        p.kill()
    assert p.returncode == 0, err
    _clean(err)
    assert "KeyboardInterrupt" not in err


def test_sigterm_during_an_import_leaves_it_resumable(listed_store, tmp_path):
    big = tmp_path / "big.bin"
    with open(big, "wb") as f:  # 1 GiB of mostly holes: reading it takes longer than the signal
        for i in range(256):
            f.seek(i * 4 * 1024 * 1024)
            f.write(os.urandom(64))
        f.truncate(1024 * 1024 * 1024)
    p = _driver("sigterm-import", str(listed_store.root), str(big))
    out, err = p.communicate(timeout=120)
    assert "IMPORTING" in out, err
    assert p.returncode == 0, err
    _clean(err)
    store = LocalStore(listed_store.root)
    statuses = store.list_statuses()
    assert len(statuses) == 1, statuses  # the ingest is kept, as the import dialog's Cancel keeps it
    kept = statuses[0].offset
    assert 0 < kept < big.stat().st_size
    h = hashlib.sha256()
    with open(big, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    expected = Digest.from_hasher(h)
    assert expected not in {i.digest for i in store.walk()}
    # importing the same file again starts where the ingest stopped and commits the right blob
    seen: list[int] = []
    info = store.import_file(big, progress=lambda done, _total: seen.append(done))
    assert info.digest == expected and info.size == big.stat().st_size
    assert seen and min(seen) >= kept
    assert store.list_statuses() == []
