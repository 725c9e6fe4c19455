"""Full disk (issue 6 item 3): an import that fills an 8 MiB tmpfs fails clearly everywhere and loses nothing."""

from __future__ import annotations

import os
import subprocess

import pytest

from store import Digest, LocalStore, errors
from tests.fault.conftest import PYTHON, REPO, blob_problems

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

NOSPACE = "no space left on device"


@pytest.fixture
def small_disk(tmp_path):
    """An 8 MiB tmpfs mounted for this test (we are root); always unmounted."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mnt)], check=True)
    try:
        yield mnt
    finally:
        if subprocess.run(["umount", str(mnt)]).returncode != 0:
            subprocess.run(["umount", "-l", str(mnt)], check=True)


@pytest.fixture
def setup(small_disk, tmp_path):
    """A store on the small disk with one labelled blob and one unfinished ingest, and a 12 MB file."""
    store = LocalStore(small_disk / "store")
    with store.writer("keep-blob") as w:
        w.write(b"precious bytes" * 1000)
        kept = w.commit(labels={"containerd.io/gc.root": "yes", "note": "keep"})
    with store.writer("keep-ingest", total=1 << 20) as w:
        w.write(b"p" * 100_000)
    big = tmp_path / "big-image-layer.tar"  # on the real disk: only the store is small
    big.write_bytes(os.urandom(12 << 20))
    return store, kept, big


def free_bytes(path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def check_nothing_else_lost(store: LocalStore, kept: Digest) -> None:
    s = LocalStore(store.root)  # a fresh open: what a new process sees
    assert [i.digest for i in s.walk()] == [kept]
    assert s.info(kept).labels == {"containerd.io/gc.root": "yes", "note": "keep"}
    assert s.verify(kept)
    keep = [st for st in s.list_statuses() if st.ref == "keep-ingest"]
    assert keep and keep[0].offset == 100_000
    assert not blob_problems(s.root)


def test_library_import_on_a_full_disk(setup, small_disk, figures):
    store, kept, big = setup
    free_before = free_bytes(small_disk)
    with pytest.raises(errors.ContentError) as caught:
        store.import_file(big)
    message = str(caught.value)
    assert NOSPACE in message.lower(), message
    assert big.name in message, "the error must say which file/ref failed"
    assert "resume" in message  # it says what happens to the partial ingest
    check_nothing_else_lost(store, kept)
    partial = [st for st in store.list_statuses() if st.ref != "keep-ingest"]
    assert len(partial) == 1 and 0 < partial[0].offset < big.stat().st_size
    assert big.name in partial[0].ref
    # a second attempt on the still-full disk fails the same clear way, before or while writing
    with pytest.raises(errors.ContentError) as again:
        store.import_file(big)
    assert NOSPACE in str(again.value).lower(), str(again.value)
    # labels cannot be written either: a clear error, and the old ones stay
    from store.types import Info
    info = store.info(kept)
    try:
        store.update(Info(kept, 0, info.created_at, info.updated_at, {"big": "v" * 4000}), "labels.big")
        label_write = "succeeded"
    except errors.ContentError as exc:
        label_write = str(exc)
        assert "full" in label_write.lower() or NOSPACE in label_write.lower(), label_write
    # the partial ingest is aborted and the space comes back; nothing else moved
    store.abort(partial[0].ref)
    freed = free_bytes(small_disk)
    assert freed >= free_before - (64 << 10) - (4 << 10), (free_before, freed)
    check_nothing_else_lost(store, kept)
    figures.update(error=message, free_before_kib=free_before >> 10, partial_offset=partial[0].offset,
                   label_update_on_full_disk=label_write[:120])


def test_blobctl_import_on_a_full_disk(setup, small_disk, figures):
    store, kept, big = setup
    root = str(store.root)
    out = subprocess.run([PYTHON, "-m", "store", "--root", root, "import", str(big)], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("blobctl: ") and NOSPACE in lines[0].lower() and big.name in lines[0]
    assert out.stdout == ""
    ls = subprocess.run([PYTHON, "-m", "store", "--root", root, "ls", "-q"], cwd=REPO, capture_output=True,
                        text=True, timeout=60)
    assert ls.returncode == 0 and ls.stdout.split() == [kept], ls
    active = subprocess.run([PYTHON, "-m", "store", "--root", root, "active"], cwd=REPO, capture_output=True,
                            text=True, timeout=60)
    assert active.returncode == 0 and big.name in active.stdout and "keep-ingest" in active.stdout
    ref = next(st.ref for st in store.list_statuses() if st.ref != "keep-ingest")
    ab = subprocess.run([PYTHON, "-m", "store", "--root", root, "abort", ref], cwd=REPO, capture_output=True,
                        text=True, timeout=60)
    assert ab.returncode == 0, ab.stderr
    check_nothing_else_lost(store, kept)
    figures.update(stderr=lines[0])


def test_gui_import_on_a_full_disk(qtbot, setup, make_window, figures):
    from PySide6.QtCore import QItemSelectionModel
    store, kept, big = setup
    win = make_window(store.root)
    win.log_dock.show()
    win.commands.importer.run([str(big)], labels={})
    qtbot.waitUntil(lambda: bool(win.ctx.dialogs.errors), timeout=60000)
    shown = win.ctx.dialogs.errors[0]
    assert NOSPACE in shown.lower() and big.name in shown, shown
    assert shown.startswith(f"Importing {big}"), shown
    qtbot.waitUntil(lambda: NOSPACE in win.log_dock.text.toPlainText().lower(), timeout=5000)
    # the window still shows the store, and the partial ingest next to the kept one
    qtbot.waitUntil(lambda: win.ingest_model.rowCount() == 2, timeout=10000)
    assert [win.blob_model.row_at(i).digest for i in range(win.blob_model.rowCount())] == [kept]
    # abort the partial ingest from the window
    row = next(i for i in range(2) if win.ingest_model.row_at(i).ref != "keep-ingest")
    win.ingest_view.selectionModel().select(
        win.ingest_model.index(row, 0), QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)
    win.ctx.dialogs.answer("confirm", True)
    win.action_map["actionAbort"].trigger()
    qtbot.waitUntil(lambda: win.ingest_model.rowCount() == 1, timeout=10000)
    assert win.ingest_model.row_at(0).ref == "keep-ingest"
    check_nothing_else_lost(store, kept)
    figures.update(dialog=shown.replace("\n", " | ")[:300])
