"""The GUI under load (issue 6 item 6): 100k blobs and 500 ingests growing at once.

A 10 ms heartbeat QTimer on the GUI thread measures the longest stall while the window
lists the store and while another process appends to every ingest; at the end the
window's counts and every ingest's offset must equal the disk.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import time

import pytest

from store import LocalStore
from store.ingest import ref_hash
from store.timestamps import format_rfc3339
from tests.fault._workers import ingest_grower
from tests.fault.conftest import Heartbeat

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

BLOBS = int(os.environ.get("FAULT_GUI_BLOBS", "100000"))
INGESTS = int(os.environ.get("FAULT_GUI_INGESTS", "500"))
GROW_SECONDS = float(os.environ.get("FAULT_GROW_SECONDS", "30"))
# design.md §8's target under load is 100 ms; this bound is what the suite fails on (2 shared cores, a writer beside us).
MAX_STALL_MS = float(os.environ.get("FAULT_MAX_STALL_MS", "600"))
SPAWN = multiprocessing.get_context("spawn")


def write_store(root) -> tuple[list[str], float]:
    """100k blobs and 500 ingests written straight to disk in containerd's layout (fast; no library)."""
    t0 = time.monotonic()
    sha = root / "blobs" / "sha256"
    sha.mkdir(parents=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    for i in range(BLOBS):
        data = b"load blob %d\n" % i
        fd = os.open(sha / hashlib.sha256(data).hexdigest(), flags, 0o444)
        os.write(fd, data)
        os.close(fd)
    refs = []
    now = time.time_ns()
    for j in range(INGESTS):
        ref = f"pull/layer-{j:04d}"
        d = root / "ingest" / ref_hash(ref)
        d.mkdir(parents=True)
        (d / "ref").write_bytes(ref.encode())
        (d / "startedat").write_text(format_rfc3339(now))
        (d / "updatedat").write_text(format_rfc3339(now))
        (d / "total").write_text(str(64 << 20))
        (d / "data").write_bytes(b"s" * (j * 10))
        refs.append(ref)
    return refs, time.monotonic() - t0


def test_gui_with_100k_blobs_and_500_growing_ingests(qtbot, tmp_path, make_window, figures):
    root = tmp_path / "store"
    refs, made_s = write_store(root)
    hb = Heartbeat()
    hb.start()
    t0 = time.monotonic()
    win = make_window(root, wait=False)
    qtbot.waitUntil(lambda: win.blob_model.rowCount() > 0, timeout=60000)
    first_rows_s = time.monotonic() - t0
    qtbot.waitUntil(lambda: win.blob_model.total_count == BLOBS and win.ingest_model.rowCount() == INGESTS,
                    timeout=120000)
    listed_s = time.monotonic() - t0
    stall_listing = hb.max_stall_ms
    over_listing = hb.gaps_over_100ms
    # after the listing the window recognises media types in the background (and its cache file
    # appearing in the root makes the watcher rescan once): measured as its own phase
    hb1 = Heartbeat()
    hb1.start()
    t1 = time.monotonic()
    with qtbot.waitSignal(win.mediaTypesDone, timeout=120000):
        pass
    qtbot.wait(1000)
    qtbot.waitUntil(lambda: not win.scanner.busy, timeout=30000)
    media_s = time.monotonic() - t1
    hb1.stop()

    # 500 ingests growing at once, for GROW_SECONDS (the writer is started first: its start-up is not ours)
    manager = SPAWN.Manager()
    counts = manager.dict()
    stop_file = str(tmp_path / "stop")
    grower = SPAWN.Process(target=ingest_grower, args=(str(root), refs, GROW_SECONDS, 4096, stop_file, counts))
    grower.start()
    qtbot.waitUntil(lambda: counts.get("ready", False), timeout=30000)
    initial = {r.ref: r.offset for r in win.ingest_model.rows()}
    hb2 = Heartbeat()
    hb2.start()
    polls = [0]
    win.ingestsUpdated.connect(lambda: polls.__setitem__(0, polls[0] + 1))
    open(stop_file + ".go", "w").close()
    seen_moving = set()
    while grower.is_alive():
        qtbot.wait(200)
        seen_moving |= {r.ref for r in win.ingest_model.rows() if r.offset > initial.get(r.ref, 0)}
    hb2.stop()  # manager shutdown below blocks this thread by the test's own doing
    assert grower.exitcode == 0
    rounds = counts.get("rounds", 0)
    manager.shutdown()

    def disk_offsets():
        return {s.ref: s.offset for s in LocalStore(root).list_statuses()}

    def view_offsets():
        return {r.ref: r.offset for r in win.ingest_model.rows() if r.broken is None}

    settle0 = time.monotonic()
    qtbot.waitUntil(lambda: view_offsets() == disk_offsets(), timeout=15000)
    settle_s = time.monotonic() - settle0
    hb.stop()
    assert win.blob_model.total_count == BLOBS == sum(1 for _ in os.scandir(root / "blobs" / "sha256"))
    assert win.ingest_model.rowCount() == INGESTS == len(os.listdir(root / "ingest"))
    assert f"{BLOBS:,} blobs" in win.counts_label.text() and f"{INGESTS} ingests" in win.counts_label.text()
    assert win.ctx.dialogs.errors == []
    figures.update(blobs=BLOBS, ingests=INGESTS, store_written_s=round(made_s, 1),
                   first_rows_s=round(first_rows_s, 2), fully_listed_s=round(listed_s, 2),
                   max_stall_listing_ms=stall_listing, stalls_over_100ms_listing=over_listing,
                   media_type_pass_s=round(media_s, 1), max_stall_media_pass_ms=hb1.max_stall_ms,
                   stalls_over_100ms_media_pass=hb1.gaps_over_100ms,
                   grow_seconds=GROW_SECONDS, grow_rounds=rounds, bytes_appended=rounds * INGESTS * 4096,
                   ingest_polls_seen=polls[0], ingests_seen_moving=len(seen_moving),
                   max_stall_growing_ms=hb2.max_stall_ms, stalls_over_100ms_growing=hb2.gaps_over_100ms,
                   settle_after_stop_s=round(settle_s, 2), heartbeat_ticks=hb.ticks,
                   stall_sites_listing=hb.stall_sites, stall_sites_media_pass=hb1.stall_sites,
                   stall_sites_growing=hb2.stall_sites)
    assert polls[0] >= GROW_SECONDS / 2, "the ingest table must keep polling while ingests grow"
    assert len(seen_moving) == INGESTS, "every growing ingest's progress must move in the table"
    assert max(stall_listing, hb1.max_stall_ms, hb2.max_stall_ms) < MAX_STALL_MS, (
        stall_listing, hb1.max_stall_ms, hb2.max_stall_ms)
