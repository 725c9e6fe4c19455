"""Removals bigger than one chunk (``REMOVE_CHUNK``): taken out a chunk per event-loop turn, whether
the window's own Delete removed them or another process did, and the view ends equal to the disk."""

from __future__ import annotations

import hashlib

from gui.blobs.blob_model import REMOVE_CHUNK
from store import LocalStore
from tests.gui.conftest import blob_digests

MANY = REMOVE_CHUNK + 300


def _fill(store: LocalStore, n: int) -> list[str]:
    d = store.root / "blobs" / "sha256"
    d.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        data = b"big removal %d" % i
        hexd = hashlib.sha256(data).hexdigest()
        (d / hexd).write_bytes(data)
        out.append("sha256:" + hexd)
    return out


def _disk(store: LocalStore) -> set[str]:
    return {str(i.digest) for i in LocalStore(store.root).walk()}


def test_an_outside_delete_of_many_blobs_reaches_the_view(qtbot, make_window, store):
    digests = _fill(store, MANY + 50)
    win = make_window(store.root)
    assert blob_digests(win) == set(digests)
    other = LocalStore(store.root)  # another process's view of the same root, as blobctl rm is
    for d in digests[:MANY]:
        other.delete(d)
    qtbot.waitUntil(lambda: win.blob_model.total_count == 50 and not win.blob_model.busy, timeout=30000)
    qtbot.waitUntil(lambda: blob_digests(win) == _disk(store), timeout=10000)
    assert blob_digests(win) == set(digests[MANY:])
    assert win.blob_model.total_bytes == sum(len(b"big removal %d" % i) for i in range(MANY, MANY + 50))


def test_the_windows_own_delete_of_many_rows_ends_equal_to_the_disk(qtbot, make_window, store, dialogs):
    _fill(store, MANY + 40)
    win = make_window(store.root)
    win.selection.select_blob_rows(list(range(MANY)))
    assert win.selection.blob_count() == MANY
    dialogs.answer("confirm", True)
    win.action_map["actionDelete"].trigger()
    qtbot.waitUntil(lambda: win.blob_model.total_count == 40 and not win.blob_model.removing, timeout=60000)
    qtbot.waitUntil(lambda: not win.blob_model.busy and not win.scanner.busy, timeout=30000)
    assert len(_disk(store)) == 40
    qtbot.waitUntil(lambda: blob_digests(win) == _disk(store), timeout=10000)
    assert dialogs.errors == []
