"""A change made at any point while the window opens a store reaches the view without F5.

The watch used to be installed by a pool job after the listing; a commit or delete in
between was lost until the next change.  Each case below changes the store at one point
of that window (on the scanner thread, between its steps, or on the GUI thread as the
scan lands) and waits for the view to equal the disk.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from store.local import LocalStore
from tests.gui.conftest import add_blob, blob_digests

POINTS = ["store opened", "first batch", "walk done", "ingests listed", "scan finished"]


def _hook(win, point: str, action) -> list[bool]:
    """Run ``action`` once, the first time the window reaches ``point``; the list returned holds
    True once the action has finished (it runs on the scanner thread, beside the GUI thread)."""
    fired: list[bool] = []
    done: list[bool] = []

    def once(*_args):
        if not fired:
            fired.append(True)
            action()
            done.append(True)

    direct = Qt.ConnectionType.DirectConnection  # on the scanner thread, before the GUI sees the result
    worker = win.scanner.worker
    signal, conn = {
        "store opened": (win.storeOpened, direct),
        "first batch": (worker.blobsBatch, direct),
        "walk done": (worker.blobsDone, direct),
        "ingests listed": (worker.ingestsListed, direct),
        "scan finished": (win.scanFinished, direct),
    }[point]
    signal.connect(once, conn)
    return done


def _disk(root) -> set[str]:
    return {str(i.digest) for i in LocalStore(root).walk()}


@pytest.mark.parametrize("point", POINTS)
@pytest.mark.parametrize("change", ["commit", "delete"])
def test_a_change_anywhere_in_the_opening_window_is_seen(qtbot, make_window, store, point, change):
    digests = [add_blob(store, f"blob {i}".encode()) for i in range(40)]
    other = LocalStore(store.root)  # another writer on the same root, as blobctl or containerd is

    def act():
        if change == "commit":
            add_blob(other, b"committed while the window was opening")
        else:
            other.delete(digests[-1])

    win = make_window(store.root, wait=False)
    win.scanner.worker.first_batch = 5  # "first batch" falls in the middle of the walk
    acted = _hook(win, point, act)
    # the GUI thread can finish the scan while the scanner thread is still inside the action
    qtbot.waitUntil(lambda: win.blob_model.rowCount() > 0 and not win._scanning and bool(acted), timeout=10000)
    want = _disk(store.root)
    assert len(want) == (41 if change == "commit" else 39)
    qtbot.waitUntil(lambda: {str(d) for d in blob_digests(win)} == want, timeout=5000)
