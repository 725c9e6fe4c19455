"""blobs/<alg> is watched on the watcher's own thread (inotify_add_watch on a directory of a million
entries blocks ~80 ms): the listing waits for it, and an event that arrives before the GUI thread
knows the new watch is kept and reported, not dropped."""

from __future__ import annotations

import select

from gui.watcher import StoreWatcher
from store import Digest, LocalStore
from tests.gui.conftest import add_blob


def test_an_event_before_the_watch_is_handed_over_is_reported(qtbot, tmp_path):
    store = LocalStore(tmp_path / "content")
    add_blob(store, b"already there")
    watcher = StoreWatcher()
    try:
        watcher.watch_store(store.root)
        assert watcher.ready.wait(10)  # the kernel has the watch; the GUI thread has not heard yet
        assert str(store.root / "blobs" / "sha256") not in watcher.watched()
        data = b"committed in between"
        d = Digest.from_bytes(data)
        (store.root / "blobs" / "sha256" / d.encoded).write_bytes(data)
        fd = watcher._ino.fileno()  # type: ignore[union-attr]
        assert select.select([fd], [], [], 5)[0]
        watcher._read()  # the events come in before the watch descriptor is known
        assert watcher._early
        with qtbot.waitSignal(watcher.changed, timeout=5000) as got:
            pass  # the hand-over replays the kept events
        assert str(d) in got.args[0].blobs
        assert str(store.root / "blobs" / "sha256") in watcher.watched()
    finally:
        watcher.stop()


def test_the_window_lists_only_once_the_watch_is_in(qtbot, make_window, store):
    add_blob(store, b"one")
    win = make_window(store.root)
    assert win.watcher.ready.is_set()
    assert str(store.root / "blobs" / "sha256") in win.watcher.watched()
    late = add_blob(LocalStore(store.root), b"after the listing")
    qtbot.waitUntil(lambda: win.blob_model.row_for(str(late)) >= 0, timeout=5000)
