"""Changes on disk reach the view by name, without a full rescan (design.md §5.2).

The watcher (inotify) names each changed entry and the scanner thread reads only those; the
worker counts its full listings, and each test asserts that none ran, except where names are
not enough: an overflowed queue, a watched directory replaced. After each case the view
equals the disk.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import Qt

from store import Digest, LocalStore
from store.ingest import ref_hash
from tests.gui.conftest import add_blob

REPO = Path(__file__).resolve().parents[2]


def view(win) -> dict[str, tuple[int, tuple]]:
    m = win.blob_model
    rows = (m.row_at(i) for i in range(m.rowCount()))
    return {r.digest: (r.size, tuple(sorted(r.labels.items()))) for r in rows}


def disk(root) -> dict[str, tuple[int, tuple]]:
    return {str(i.digest): (i.size, tuple(sorted(i.labels.items()))) for i in LocalStore(root).walk()}


def opened(make_window, store, n=20):
    digests = [add_blob(store, f"blob {i}".encode(), {"n": str(i)} if i % 2 else None) for i in range(n)]
    win = make_window(store.root)
    assert view(win) == disk(store.root)
    return win, digests


def no_full_scan(win, before: int) -> None:
    assert win.scanner.worker.full_scans == before, "a full rescan ran where names were enough"


def test_outside_commit_and_delete_without_a_rescan(qtbot, make_window, store):
    win, digests = opened(make_window, store)
    scans = win.scanner.worker.full_scans
    other = LocalStore(store.root)  # another writer on the same root, as blobctl or containerd is
    new = add_blob(other, b"committed elsewhere", {"from": "other"})
    qtbot.waitUntil(lambda: str(new) in view(win), timeout=5000)
    assert view(win)[str(new)] == (len(b"committed elsewhere"), (("from", "other"),))
    other.delete(digests[3])
    qtbot.waitUntil(lambda: str(digests[3]) not in view(win), timeout=5000)
    assert view(win) == disk(store.root)
    assert "20 blobs" in win.counts_label.text()
    no_full_scan(win, scans)
    assert win.scanner.worker.updates >= 2


def test_a_blob_dropped_in_by_a_shell_and_a_new_algorithm_directory(qtbot, make_window, store):
    win, _ = opened(make_window, store, n=4)
    scans = win.scanner.worker.full_scans
    data = b"copied in with cp"
    path = store.root / "blobs" / "sha256" / Digest.from_bytes(data).encoded
    path.write_bytes(data)  # created, then written: the size read must be the final one
    qtbot.waitUntil(lambda: view(win).get(str(Digest.from_bytes(data)), (0,))[0] == len(data), timeout=5000)
    # the first sha512 blob makes blobs/sha512: watched, then listed whole
    big = b"a sha512 blob"
    d512 = "sha512:" + __import__("hashlib").sha512(big).hexdigest()
    (store.root / "blobs" / "sha512").mkdir()
    (store.root / "blobs" / "sha512" / d512.split(":")[1]).write_bytes(big)
    qtbot.waitUntil(lambda: d512 in view(win), timeout=5000)
    assert view(win) == disk(store.root)
    no_full_scan(win, scans)


def test_ingest_start_grow_abort_without_a_rescan(qtbot, make_window, store):
    win, _ = opened(make_window, store, n=3)
    scans = win.scanner.worker.full_scans
    other = LocalStore(store.root)
    w = other.writer("pull/layer-1", total=100)
    try:
        w.write(b"x" * 10)
        qtbot.waitUntil(lambda: [(r.ref, r.offset) for r in win.ingest_model.rows()] == [("pull/layer-1", 10)],
                        timeout=5000)
        w.write(b"y" * 30)  # growing changes no directory: the ingest poll moves it
        qtbot.waitUntil(lambda: [r.offset for r in win.ingest_model.rows()] == [40], timeout=5000)
    finally:
        w.close()
    other.abort("pull/layer-1")
    qtbot.waitUntil(lambda: win.ingest_model.rowCount() == 0, timeout=5000)
    # a broken entry appears by name too
    (store.root / "ingest" / "stray-file").write_bytes(b"")
    qtbot.waitUntil(lambda: [r.broken is not None for r in win.ingest_model.rows()] == [True], timeout=5000)
    os.unlink(store.root / "ingest" / "stray-file")
    qtbot.waitUntil(lambda: win.ingest_model.rowCount() == 0, timeout=5000)
    no_full_scan(win, scans)
    assert win.ctx.dialogs.errors == []


def test_a_commit_from_an_ingest_replaces_it_by_the_blob(qtbot, make_window, store):
    win, _ = opened(make_window, store, n=3)
    scans = win.scanner.worker.full_scans
    data = b"resumed and committed"
    d = Digest.from_bytes(data)
    with LocalStore(store.root).writer("resumable", total=len(data), expected=d) as w:
        w.write(data[:5])
        qtbot.waitUntil(lambda: win.ingest_model.rowCount() == 1, timeout=5000)
        w.write(data[5:])
        w.commit(len(data), d)
    qtbot.waitUntil(lambda: str(d) in view(win) and win.ingest_model.rowCount() == 0, timeout=5000)
    assert not (store.root / "ingest" / ref_hash("resumable")).exists()
    no_full_scan(win, scans)


def test_label_edit_by_blobctl_in_another_process(qtbot, make_window, store):
    win, digests = opened(make_window, store, n=4)
    scans = win.scanner.worker.full_scans
    d = str(digests[1])
    subprocess.run([sys.executable, "-m", "store", "--root", str(store.root), "label", d, "team=infra", "n="],
                   cwd=REPO, check=True, capture_output=True, timeout=60)
    qtbot.waitUntil(lambda: view(win)[d][1] == (("team", "infra"),), timeout=5000)
    assert view(win) == disk(store.root)
    no_full_scan(win, scans)


def test_labels_written_only_to_labels_db_are_seen_through_the_change_log(qtbot, make_window, store):
    """No blob file is touched: only labels.db changes, and its change numbers name the digest."""
    win, digests = opened(make_window, store, n=4)
    scans = win.scanner.worker.full_scans
    d = str(digests[2])
    code = ("import sys; from store.labels import LabelStore; "
            "LabelStore(sys.argv[1]).update(sys.argv[2], {'written': 'by sqlite only'})")
    subprocess.run([sys.executable, "-c", code, str(store.root / "labels.db"), d], cwd=REPO, check=True,
                   timeout=60)
    qtbot.waitUntil(lambda: ("written", "by sqlite only") in view(win)[d][1], timeout=5000)
    assert view(win) == disk(store.root)
    no_full_scan(win, scans)


def test_the_details_pane_follows_an_outside_label_edit(qtbot, make_window, store):
    from tests.gui.conftest import select_digests
    win, digests = opened(make_window, store, n=2)
    select_digests(win, [digests[0]])
    qtbot.waitUntil(lambda: win.details.current == str(digests[0]), timeout=5000)
    s = LocalStore(store.root)
    info = s.info(digests[0])
    from store import Info
    s.update(Info(info.digest, info.size, info.created_at, info.updated_at, {"shown": "now"}), "labels.shown")
    qtbot.waitUntil(lambda: "shown = now" in win.details.labels.text(), timeout=5000)


def test_a_blob_that_appears_and_vanishes_before_it_is_read(qtbot, make_window, store):
    win, _ = opened(make_window, store, n=3)
    scans = win.scanner.worker.full_scans
    data = b"here for an instant"
    path = store.root / "blobs" / "sha256" / Digest.from_bytes(data).encoded
    fired = []

    def vanish(_gen):  # on the scanner thread, after the event named it, before it is stat-ed
        if not fired and path.exists():
            fired.append(True)
            path.unlink()

    win.scanner.worker.updating.connect(vanish, Qt.ConnectionType.DirectConnection)
    path.write_bytes(data)
    qtbot.waitUntil(lambda: bool(fired), timeout=5000)
    qtbot.wait(200)
    assert str(Digest.from_bytes(data)) not in view(win)
    assert view(win) == disk(store.root)
    assert win.ctx.dialogs.errors == []
    no_full_scan(win, scans)


def _queue_limit() -> int:
    with open("/proc/sys/fs/inotify/max_queued_events") as f:
        return int(f.read())


def test_an_overflowed_watch_rescans_once_and_the_view_equals_the_disk(qtbot, make_window, store, caplog):
    win, _ = opened(make_window, store, n=3)
    scans = win.scanner.worker.full_scans
    limit = _queue_limit()
    if limit > 200_000:
        raise AssertionError(f"max_queued_events is {limit}; this test floods the queue past it and expects "
                             "the default 16384")
    blobs = store.root / "blobs" / "sha256"
    # the test holds the GUI thread: nothing reads the queue while it fills past its limit
    # (each file is two events, CREATE and CLOSE_WRITE)
    n = limit // 2 + 200
    for i in range(n):
        data = b"flood %d" % i
        fd = os.open(blobs / Digest.from_bytes(data).encoded, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
        os.write(fd, data)
        os.close(fd)
    with caplog.at_level("INFO"):
        qtbot.waitUntil(lambda: win.blob_model.total_count == n + 3, timeout=30000)
        qtbot.waitUntil(lambda: not win.scanner.busy, timeout=30000)
        qtbot.wait(300)
    assert "watch overflowed; rescanning" in caplog.text
    assert win.scanner.worker.full_scans == scans + 1
    assert view(win) == disk(store.root)
    # names work again afterwards, on the watch the rescan installed afresh
    late = add_blob(LocalStore(store.root), b"after the overflow")
    qtbot.waitUntil(lambda: str(late) in view(win), timeout=5000)
    assert win.scanner.worker.full_scans == scans + 1


def test_a_watched_directory_replaced_under_the_watch(qtbot, make_window, store, tmp_path, caplog):
    win, digests = opened(make_window, store, n=6)
    scans = win.scanner.worker.full_scans
    sha = store.root / "blobs" / "sha256"
    aside = tmp_path / "old-sha256"
    with caplog.at_level("INFO"):
        # another directory takes its place: two blobs of the old one and one new
        fresh = store.root / "blobs" / "sha256.new"
        fresh.mkdir()
        for d in digests[:2]:
            shutil.copy2(sha / d.encoded, fresh / d.encoded)
        data = b"only in the new directory"
        (fresh / Digest.from_bytes(data).encoded).write_bytes(data)
        os.rename(sha, aside)
        os.rename(fresh, sha)
        qtbot.waitUntil(lambda: set(view(win)) == set(disk(store.root)), timeout=10000)
        qtbot.waitUntil(lambda: not win.scanner.busy, timeout=10000)
    assert "was removed or replaced; rescanning" in caplog.text
    assert win.scanner.worker.full_scans == scans + 1
    assert view(win) == disk(store.root) and len(view(win)) == 3
    late = add_blob(LocalStore(store.root), b"into the replacement")  # watched again
    qtbot.waitUntil(lambda: str(late) in view(win), timeout=5000)
    assert win.scanner.worker.full_scans == scans + 1


def test_the_first_commit_into_a_fresh_store_makes_blobs_and_is_seen(qtbot, make_window, store):
    """blobs/ and blobs/sha256 do not exist yet: both are watched as they appear, then listed."""
    assert not (store.root / "blobs").exists()
    win = make_window(store.root)
    scans = win.scanner.worker.full_scans
    d = add_blob(LocalStore(store.root), b"the very first blob", {"first": "yes"})
    qtbot.waitUntil(lambda: str(d) in view(win), timeout=5000)
    assert view(win) == disk(store.root)
    assert str(store.root / "blobs" / "sha256") in win.watcher.watched()
    nxt = add_blob(LocalStore(store.root), b"the second")
    qtbot.waitUntil(lambda: str(nxt) in view(win), timeout=5000)
    no_full_scan(win, scans)
