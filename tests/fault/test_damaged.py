"""Damaged stores (issue 6 item 5): corrupt blobs, broken ingests, unreadable entries, a store deleted under the GUI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel

from store import Digest, LocalStore
from store.ingest import ref_hash
from tests.fault.conftest import PYTHON, REPO

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def blobctl(*args: str, user: str | None = None, env=None) -> subprocess.CompletedProcess:
    prefix = ["setpriv", f"--reuid={user}", "--regid=nogroup", "--clear-groups"] if user else []
    return subprocess.run([*prefix, PYTHON, "-m", "store", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=120, env=env)


def make_blobs(store: LocalStore, n: int) -> list[Digest]:
    out = []
    for i in range(n):
        with store.writer(f"b{i}") as w:
            w.write(os.urandom(1000 + i * 100))
            out.append(w.commit(labels={"i": str(i)}))
    return out


def test_truncated_and_bit_flipped_blobs(qtbot, tmp_path, make_window, figures):
    store = LocalStore(tmp_path / "store")
    digests = make_blobs(store, 20)
    truncated, flipped = digests[3], digests[11]
    with open(store.blob_path(truncated), "r+b") as f:
        f.truncate(500)
    with open(store.blob_path(flipped), "r+b") as f:
        f.seek(700)
        b = f.read(1)
        f.seek(700)
        f.write(bytes([b[0] ^ 0x10]))
    # the library
    results = {d: store.verify(d) for d in digests}
    assert [d for d, ok in results.items() if not ok] == sorted([truncated, flipped], key=digests.index)
    # blobctl: exit 1, both named, the rest ok
    out = blobctl("--root", str(store.root), "verify", "--json")
    assert out.returncode == 1, out
    rows = {r["digest"]: r for r in json.loads(out.stdout)}
    assert {d for d, r in rows.items() if not r["ok"]} == {truncated, flipped}
    assert sum(r["ok"] for r in rows.values()) == 18
    text = blobctl("--root", str(store.root), "verify")
    assert text.returncode == 1 and truncated in text.stdout + text.stderr and flipped in text.stdout + text.stderr
    # the GUI: actionVerify marks them
    win = make_window(store.root)
    win.action_map["actionVerify"].trigger()
    qtbot.waitUntil(lambda: win.commands.verify.job is None, timeout=30000)
    marks = {win.blob_model.row_at(i).digest: win.blob_model.row_at(i).verified
             for i in range(win.blob_model.rowCount())}
    assert {d for d, v in marks.items() if v is False} == {truncated, flipped}
    assert sum(v is True for v in marks.values()) == 18
    assert win.ctx.dialogs.errors and "2 blob(s)" in win.ctx.dialogs.errors[0]
    assert truncated in win.ctx.dialogs.errors[0] and flipped in win.ctx.dialogs.errors[0]
    figures.update(blobs=20, found_by_library=2, found_by_blobctl=2, flagged_in_gui=2,
                   blobctl_summary=(text.stderr.strip().splitlines() or [""])[-1][:160])


def damage_ingests(store: LocalStore) -> dict[str, str]:
    """Ingests with a missing file or a garbage timestamp; returns {dir name: what was done}."""
    damage = {}

    def make(ref: str) -> Path:
        with store.writer(ref, total=100) as w:
            w.write(b"partial")
        return store.ingest_dir(ref)

    (make("no-data") / "data").unlink()
    damage[ref_hash("no-data")] = "missing data"
    (make("no-ref") / "ref").unlink()
    damage[ref_hash("no-ref")] = "missing ref"
    (make("no-started") / "startedat").unlink()
    damage[ref_hash("no-started")] = "missing startedat"
    (make("bad-updated") / "updatedat").write_text("yesterday at noon")
    damage[ref_hash("bad-updated")] = "garbage"
    (make("bad-started") / "startedat").write_bytes(b"\xff\x00\x13 not a time")
    damage[ref_hash("bad-started")] = "binary"
    (make("huge-year") / "startedat").write_text("99999-01-01T00:00:00Z")
    damage[ref_hash("huge-year")] = "year 99999"
    (make("wrong-ref") / "ref").write_text("some other ref")
    damage[ref_hash("wrong-ref")] = "ref mismatch"
    (store.ingest_root / ("e" * 64)).mkdir()
    damage["e" * 64] = "empty dir"
    (store.ingest_root / "stray-file").write_text("x")
    damage["stray-file"] = "stray file"
    return damage


def test_broken_ingests_listed_and_removable(qtbot, tmp_path, make_window, figures):
    store = LocalStore(tmp_path / "store")
    make_blobs(store, 3)
    with store.writer("healthy", total=10) as w:
        w.write(b"12345")
    damage = damage_ingests(store)
    assert [s.ref for s in store.list_statuses()] == ["healthy"]
    broken = {b.ref_hash: b.reason for b in store.broken_ingests()}
    assert set(broken) == set(damage), broken
    for name, reason in broken.items():
        assert reason and len(reason) > 10, (damage[name], reason)
    # blobctl: active says they exist; abort --broken removes one
    out = blobctl("--root", str(store.root), "active")
    assert out.returncode == 0 and "healthy" in out.stdout and f"{len(damage)} damaged" in out.stderr
    victim = ref_hash("no-data")
    out = blobctl("--root", str(store.root), "abort", "--broken", victim)
    assert out.returncode == 0, out.stderr
    assert victim not in {b.ref_hash for b in store.broken_ingests()}
    # the library removes another one
    store.remove_broken_ingest("stray-file")
    # the GUI shows the rest as broken rows and aborts them all; the healthy ingest stays
    win = make_window(store.root)
    rows = win.ingest_model.rows()
    shown = {r.ref: r.broken for r in rows if r.broken is not None}
    assert set(shown) == set(damage) - {victim, "stray-file"}
    assert [r.ref for r in rows if r.broken is None] == ["healthy"]
    sm = win.ingest_view.selectionModel()
    for i, r in enumerate(rows):
        if r.broken is not None:
            sm.select(win.ingest_model.index(i, 0),
                      QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)
    win.ctx.dialogs.answer("confirm", True)
    win.action_map["actionAbort"].trigger()
    qtbot.waitUntil(lambda: [r.ref for r in win.ingest_model.rows()] == ["healthy"], timeout=10000)
    assert store.broken_ingests() == [] and [s.ref for s in store.list_statuses()] == ["healthy"]
    assert len(list(store.walk())) == 3
    figures.update(damaged_kinds=len(damage), removed_by_blobctl=1, removed_by_library=1,
                   removed_by_gui=len(shown), reasons={damage[k]: v[:90] for k, v in broken.items()})


@pytest.fixture
def shared_dir():
    """A directory ``nobody`` can reach (pytest's tmp_path is private to root)."""
    d = Path(tempfile.mkdtemp(prefix="blobscope-fault-"))
    os.chmod(d, 0o755)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_unreadable_entries_as_nobody(shared_dir, figures):
    store = LocalStore(shared_dir / "store")
    digests = make_blobs(store, 4)
    with store.writer("x") as w:
        w.write(b"sha512 blob")
        w.commit(expected=Digest.from_bytes(b"sha512 blob", "sha512"))
    for ref in ("ok-ingest", "locked-dir", "locked-ref", "locked-data"):
        with store.writer(ref) as w:
            w.write(b"abc")
    locked_blob = digests[1]
    os.chmod(store.blob_path(locked_blob), 0)
    os.chmod(store.blobs_root / "sha512", 0)
    os.chmod(store.ingest_dir("locked-dir"), 0)
    os.chmod(store.ingest_dir("locked-ref") / "ref", 0)
    os.chmod(store.ingest_dir("locked-data") / "data", 0)
    scratch = shared_dir / "scratch"
    scratch.mkdir(mode=0o777)
    os.chmod(scratch, 0o777)
    env = {**os.environ, "HOME": str(scratch), "XDG_RUNTIME_DIR": str(scratch), "QT_QPA_PLATFORM": "offscreen"}
    probe = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", PYTHON, "-m",
                            "tests.fault._probe_store", str(store.root), str(scratch)], cwd=REPO, env=env,
                           capture_output=True, text=True, timeout=120)
    assert probe.returncode == 0, probe.stderr[-2000:]
    seen = json.loads(probe.stdout.strip().splitlines()[-1])
    assert seen["uid"] != 0
    lib, gui = seen["library"], seen["gui"]
    # the library: every sha256 blob listed (stat needs no read permission), the unreadable directory reported
    assert sorted(lib["blobs"]) == sorted(digests)
    assert "permission denied" in lib["strays"]["sha512"]
    assert "permission denied" in lib["verify"][locked_blob].lower()
    assert all(lib["verify"][d] is True for d in digests if d != locked_blob)
    assert lib["ingests"] == ["locked-data", "ok-ingest"]
    assert set(lib["broken"]) == {ref_hash("locked-dir"), ref_hash("locked-ref")}
    assert all("permission denied" in r.lower() for r in lib["broken"].values())
    # the GUI (a real MainWindow as nobody): the same, the damaged ones as broken rows, no error dialog
    assert gui["scan_finished"] and gui["errors"] == []
    assert sorted(gui["blobs"]) == sorted(digests)
    assert gui["ingests"] == ["locked-data", "ok-ingest"]
    assert set(gui["broken"]) == {ref_hash("locked-dir"), ref_hash("locked-ref")}
    assert "sha512" in gui["log"] and "permission denied" in gui["log"].lower()
    # blobctl as nobody
    ls = blobctl("--root", str(store.root), "ls", "-q", user="nobody", env=env)
    assert ls.returncode == 0 and sorted(ls.stdout.split()) == sorted(digests), ls
    assert "permission denied" in ls.stderr.lower()
    active = blobctl("--root", str(store.root), "active", user="nobody", env=env)
    assert active.returncode == 0 and "ok-ingest" in active.stdout and "2 damaged" in active.stderr
    verify = blobctl("--root", str(store.root), "verify", user="nobody", env=env)
    assert verify.returncode == 1 and locked_blob in verify.stdout + verify.stderr
    assert "internal error" not in verify.stderr
    figures.update(as_user="nobody", blobs_listed=len(lib["blobs"]), broken_listed=len(lib["broken"]),
                   unreadable_dir_reason=lib["strays"]["sha512"], ls_stderr=ls.stderr.strip()[:200])


def test_store_deleted_while_the_gui_is_open(qtbot, tmp_path, make_window, figures):
    root = tmp_path / "store"
    store = LocalStore(root)
    make_blobs(store, 5)
    with store.writer("pending") as w:
        w.write(b"abc")
    win = make_window(root)
    assert win.blob_model.total_count == 5
    qtbot.waitUntil(lambda: bool(win.watcher.watched()), timeout=5000)  # the window is watching the store
    t0 = time.monotonic()
    shutil.rmtree(root)
    # the watcher notices; the window shows an empty store and says the directory is gone
    qtbot.waitUntil(lambda: win.blob_model.total_count == 0 and win.ingest_model.rowCount() == 0, timeout=10000)
    noticed = time.monotonic() - t0
    qtbot.waitUntil(lambda: "no longer exists" in win.statusBar().currentMessage(), timeout=5000)
    assert str(root) in win.statusBar().currentMessage()
    assert win.ctx.dialogs.errors == []
    # F5 on the missing store: still no crash, no new store created behind the user's back
    win.action_map["actionRefresh"].trigger()
    qtbot.wait(500)
    assert not root.exists()
    # recreated: a refresh lists it again
    store2 = LocalStore(root)
    again = make_blobs(store2, 2)
    win.action_map["actionRefresh"].trigger()
    qtbot.waitUntil(lambda: {win.blob_model.row_at(i).digest for i in range(win.blob_model.rowCount())}
                    == set(again), timeout=10000)
    # another store opens fine
    other = LocalStore(tmp_path / "other")
    third = make_blobs(other, 3)
    with qtbot.waitSignal(win.scanFinished, timeout=15000):
        win.open_store(str(other.root))
    assert {win.blob_model.row_at(i).digest for i in range(win.blob_model.rowCount())} == set(third)
    figures.update(noticed_deletion_s=round(noticed, 2))
