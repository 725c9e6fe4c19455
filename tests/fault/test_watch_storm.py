"""An open window beside a process changing the store at 1k changes a second (issue 12 item 1).

The storm process (tests/fault/_workers.py ``storm``) commits blobs by renaming them in as
containerd does (and a few through the library), deletes them (unlink, and a few through the
library), edits labels (batched into labels.db transactions, and a few through the library),
starts, grows and aborts ingests, in bursts of ``PER_BURST`` changes; after each burst the view
must equal the disk (digests, sizes, labels, ingest offsets), reached by names alone: every
full rescan must be one the log explains (an overflowed queue, a lost watch).

The storm must really blow at ``TARGET`` changes a second: the rate the generator achieved is
a property of the generator, asserted (and printed) so that a slow machine cannot pass the
test with a breeze.  The store lives on tmpfs (``/dev/shm``) unless ``FAULT_STORM_DIR`` says
otherwise: on the shared 2-core VM a small write to ext4 took 0.3-0.5 ms under load, which
held one generator to 600-1 500 changes a second there against 7 000-10 000 on tmpfs, and
inotify reports both file systems alike.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from store import LocalStore
from tests.fault._workers import storm
from tests.fault.conftest import Heartbeat

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

BLOBS = int(os.environ.get("FAULT_STORM_BLOBS", "10000"))
BURSTS = int(os.environ.get("FAULT_STORM_BURSTS", "30"))
PER_BURST = int(os.environ.get("FAULT_STORM_PER_BURST", "1000"))
TARGET = float(os.environ.get("FAULT_STORM_RATE", "1000"))  # changes a second the storm must sustain
RATE = TARGET * 1.1  # the pace the generator aims at: sleep overshoot must not drag it under TARGET
STORM_DIR = os.environ.get("FAULT_STORM_DIR", "/dev/shm" if os.access("/dev/shm", os.W_OK) else "")
SPAWN = multiprocessing.get_context("spawn")


def _seed(root) -> None:
    sha = root / "blobs" / "sha256"
    sha.mkdir(parents=True)
    for i in range(BLOBS):
        data = b"storm seed %d\n" % i
        fd = os.open(sha / hashlib.sha256(data).hexdigest(), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
        os.write(fd, data)
        os.close(fd)
    LocalStore(root)


def _disk(root):
    s = LocalStore(root)
    blobs = {str(i.digest): (i.size, tuple(sorted(i.labels.items()))) for i in s.walk()}
    ingests = {(st.ref, st.offset) for st in s.list_statuses()}
    return blobs, ingests


def _view(win):
    m = win.blob_model
    blobs = {r.digest: (r.size, tuple(sorted(r.labels.items()))) for r in (m.row_at(i) for i in range(m.rowCount()))}
    ingests = {(r.ref, r.offset) for r in win.ingest_model.rows() if r.broken is None}
    return blobs, ingests


@pytest.fixture
def storm_root(tmp_path):
    if not STORM_DIR:
        yield tmp_path / "store"
        return
    base = Path(tempfile.mkdtemp(prefix="blobscope-storm-", dir=STORM_DIR))
    try:
        yield base / "store"
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_view_equals_disk_after_every_burst_of_a_1k_per_second_storm(qtbot, storm_root, make_window, figures):
    root = storm_root
    _seed(root)
    logged: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record):
            logged.append(record)

    handler = Collect(level=logging.INFO)
    logging.getLogger().addHandler(handler)
    manager = SPAWN.Manager()
    try:
        win = make_window(root)
        worker = win.scanner.worker
        counts = manager.dict()
        go, done = manager.Event(), manager.Event()
        proc = SPAWN.Process(target=storm, args=(str(root), BURSTS, PER_BURST, RATE, go, done, counts),
                             name="storm")
        proc.start()
        qtbot.waitUntil(lambda: counts.get("ready", False), timeout=60000)
        scans0, updates0 = worker.full_scans, worker.updates
        hb = Heartbeat()  # runs while the storm blows: the comparisons after it block this thread themselves
        settle: list[float] = []
        for burst in range(BURSTS):
            done.clear()
            hb.start()
            go.set()
            while not done.is_set():
                assert proc.is_alive(), "the storm process died"
                qtbot.wait(20)
            hb.stop()
            want = _disk(root)  # nothing changes until the next go
            size = (len(want[0]), len(want[1]))
            t0 = time.monotonic()
            try:
                # counts first: comparing every row each 10 ms would starve the loop it waits on
                qtbot.waitUntil(lambda want=want, size=size: (win.blob_model.total_count, len(win.ingest_model.rows()))
                                == size and _view(win) == want, timeout=30000)
            except Exception:
                got = _view(win)
                extra = set(got[0]) - set(want[0])
                missing = set(want[0]) - set(got[0])
                differ = [d for d in set(got[0]) & set(want[0]) if got[0][d] != want[0][d]]
                raise AssertionError(f"burst {burst}: view differs from disk: {len(extra)} extra, "
                                     f"{len(missing)} missing, {len(differ)} differ ({differ[:2]}), "
                                     f"ingests view-disk {sorted(got[1] - want[1])[:3]} "
                                     f"disk-view {sorted(want[1] - got[1])[:3]}") from None
            settle.append(time.monotonic() - t0)
        proc.join(60)
        assert proc.exitcode == 0
        tally = dict(counts)
    finally:
        logging.getLogger().removeHandler(handler)
        manager.shutdown()
    full_scans = worker.full_scans - scans0
    explained = [r.getMessage() for r in logged if r.getMessage().endswith("; rescanning")]
    errors = [r.getMessage() for r in logged if r.levelno >= logging.ERROR]
    changes = tally["changes"]
    achieved = changes / tally["burst_s"]
    figures.update(blobs_at_start=BLOBS, bursts=BURSTS, changes=changes, storm_errors=tally.get("errors"),
                   store_on=str(root), changes_per_s_target=TARGET, changes_per_s_achieved=round(achieved),
                   slowest_burst_changes_per_s=round(tally["slowest_burst_rate"]), kinds=tally,
                   updates_by_name=worker.updates - updates0, full_rescans=full_scans,
                   rescans_explained=explained[:5], settle_median_s=round(sorted(settle)[len(settle) // 2], 3),
                   settle_max_s=round(max(settle), 3), gui_max_stall_ms=hb.max_stall_ms,
                   gui_stalls_over_100ms=hb.gaps_over_100ms, gui_stall_sites=hb.stall_sites,
                   final_blobs=win.blob_model.total_count, final_ingests=win.ingest_model.rowCount())
    print(f"storm: {changes} changes in {tally['burst_s']:.1f} s of bursts = {achieved:.0f} changes/s "
          f"(target {TARGET:.0f}; slowest burst {tally['slowest_burst_rate']:.0f}/s) on {root}")
    assert errors == [], errors[:3]
    assert win.ctx.dialogs.errors == []
    assert tally.get("errors") == 0
    assert changes == BURSTS * PER_BURST
    # the generator's own property: a storm slower than the target proves nothing about one at the target
    assert achieved >= TARGET, (f"the storm generator reached only {achieved:.0f} changes/s on this machine "
                                f"(target {TARGET:.0f}/s, store on {root}); the view was not tested at the rate")
    assert worker.updates - updates0 >= BURSTS
    # a full rescan only where names were not enough, and then the log says why
    assert full_scans <= len(explained), (full_scans, explained)
