"""Removals bigger than one chunk (``REMOVE_CHUNK``): taken out a chunk per event-loop turn, whether
the window's own Delete removed them or another process did, and the view ends equal to the disk."""

from __future__ import annotations

from gui.blobs.blob_model import REMOVE_CHUNK
from store import LocalStore
from tests.gui.conftest import blob_digests, disk_digests, write_blobs

MANY = REMOVE_CHUNK + 300


def test_an_outside_delete_of_many_blobs_reaches_the_view(qtbot, make_window, store):
    digests = write_blobs(store, MANY + 50, b"big removal %d")
    win = make_window(store.root)
    assert blob_digests(win) == set(digests)
    other = LocalStore(store.root)  # another process's view of the same root, as blobctl rm is
    for d in digests[:MANY]:
        other.delete(d)
    qtbot.waitUntil(lambda: win.blob_model.total_count == 50 and not win.blob_model.busy, timeout=30000)
    qtbot.waitUntil(lambda: blob_digests(win) == disk_digests(store), timeout=10000)
    assert blob_digests(win) == set(digests[MANY:])
    assert win.blob_model.total_bytes == sum(len(b"big removal %d" % i) for i in range(MANY, MANY + 50))


def test_the_windows_own_delete_of_many_rows_ends_equal_to_the_disk(qtbot, make_window, store, dialogs):
    write_blobs(store, MANY + 40, b"big removal %d")
    win = make_window(store.root)
    win.selection.select_blob_rows(list(range(MANY)))
    assert win.selection.blob_count() == MANY
    dialogs.answer("confirm", True)
    win.action_map["actionDelete"].trigger()
    qtbot.waitUntil(lambda: win.blob_model.total_count == 40 and not win.blob_model.removing, timeout=60000)
    qtbot.waitUntil(lambda: not win.blob_model.busy and not win.scanner.busy, timeout=30000)
    assert len(disk_digests(store)) == 40
    qtbot.waitUntil(lambda: blob_digests(win) == disk_digests(store), timeout=10000)
    assert dialogs.errors == []
