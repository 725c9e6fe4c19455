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


def test_a_cancelled_delete_job_stops_between_blobs(store, caplog):
    """The window closing (or the app quitting) cancels every job; a Delete of a million rows then
    stops at the next blob instead of holding the quit until every file is unlinked."""
    import logging

    from gui import operations
    from gui.jobs import Job

    digests = write_blobs(store, 40, b"big removal %d")
    half = digests[:20]
    job = Job("delete", lambda job: operations.delete_blobs(store, digests, job))
    deleted: list[str] = []
    real_delete = store.delete

    def delete_then_cancel_at_half(d):  # the real delete; the cancel arrives half-way
        real_delete(d)
        deleted.append(d)
        if len(deleted) == len(half):
            job.cancel()

    store.delete = delete_then_cancel_at_half  # type: ignore[method-assign]
    with caplog.at_level(logging.INFO, logger="gui.operations"):
        result = operations.delete_blobs(store, digests, job)
    assert result.done == half and not result.failed
    assert disk_digests(store) == set(digests[20:])
    assert "delete stopped after 20 of 40 blobs" in caplog.text
