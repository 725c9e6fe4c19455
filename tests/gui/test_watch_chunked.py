"""A Delete of many blobs queues one inotify event each; the watcher reads them a bounded chunk
per event-loop turn (parsing 100k events at once stalled the GUI thread) and reports every one."""

from __future__ import annotations

import os
import select

from gui.watcher import READ_BYTES, StoreWatcher
from tests.gui.test_scanner import fill_store

EVENT_BYTES = 16 + 80  # struct inotify_event and a sha256 name, NUL-padded to 16 bytes


def test_thousands_of_deletes_are_read_in_chunks_and_all_reported(qtbot, tmp_path):
    n = 3 * READ_BYTES // EVENT_BYTES
    store = fill_store(tmp_path / "content", n)
    folder = store.root / "blobs" / "sha256"
    names = sorted(os.listdir(folder))
    watcher = StoreWatcher()
    got: set[str] = set()
    watcher.changed.connect(lambda c: got.update(c.blobs))
    try:
        watcher.watch_store(store.root)
        assert watcher.ready.wait(10)
        qtbot.waitUntil(lambda: str(folder) in watcher.watched(), timeout=5000)
        for name in names:
            os.unlink(folder / name)
        assert watcher._ino is not None
        assert select.select([watcher._ino.fileno()], [], [], 5)[0]
        before = watcher.events_read
        watcher._read()  # one turn: one bounded chunk, the rest left for the next turns
        first = watcher.events_read - before
        assert 0 < first <= READ_BYTES // EVENT_BYTES
        qtbot.waitUntil(lambda: len(got) == n, timeout=20000)
    finally:
        watcher.stop()
    assert got == {f"sha256:{name}" for name in names}
