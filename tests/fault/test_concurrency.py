"""Concurrency (issue 6 item 2): one commit wins per digest, one writer per ref, the GUI beside a busy writer."""

from __future__ import annotations

import collections
import logging
import multiprocessing
import os
import time

import pytest

from store import LocalStore
from tests.fault._workers import mutator, one_ref_contender, same_content_rounds
from tests.fault.conftest import Heartbeat, blob_problems

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

N = 8
ROUNDS = int(os.environ.get("FAULT_SAME_CONTENT_ROUNDS", "40"))
MUTATE_SECONDS = float(os.environ.get("FAULT_MUTATE_SECONDS", "60"))
SPAWN = multiprocessing.get_context("spawn")  # never fork a process that may hold Qt threads


def _join(procs, timeout=300):
    for p in procs:
        p.join(timeout)
        assert p.exitcode == 0, f"{p.name} exited with {p.exitcode}"


def test_same_content_under_different_refs_exactly_one_commit_wins(tmp_path, figures):
    root = tmp_path / "store"
    LocalStore(root)
    barrier = SPAWN.Barrier(N)
    results = SPAWN.Queue()
    size = 256 << 10
    procs = [SPAWN.Process(target=same_content_rounds, args=(str(root), i, ROUNDS, size, barrier, results),
                           name=f"committer-{i}") for i in range(N)]
    for p in procs:
        p.start()
    got = [results.get(timeout=300) for _ in range(N * ROUNDS)]
    _join(procs)
    by_round = collections.defaultdict(list)
    for r, _me, outcome in got:
        by_round[r].append(outcome)
    double_wins = sum(1 for outs in by_round.values() if outs.count("won") > 1)
    odd = [o for outs in by_round.values() for o in outs if o not in ("won", "already-exists")]
    figures.update(processes=N, rounds=ROUNDS, commits=N * ROUNDS, rounds_with_more_than_one_winner=double_wins)
    assert not odd, odd[:5]
    for r, outs in sorted(by_round.items()):
        assert outs.count("won") == 1, f"round {r}: {outs}"
        assert outs.count("already-exists") == N - 1
    store = LocalStore(root)
    assert not blob_problems(root)
    assert len(list(store.walk())) == ROUNDS
    assert store.list_statuses() == [] and store.broken_ingests() == []  # losers' ingests are cleaned up


def test_one_ref_one_writer_across_processes(tmp_path, figures):
    root = tmp_path / "store"
    LocalStore(root)
    rounds = 3
    for r in range(rounds):
        barrier = SPAWN.Barrier(N)
        results = SPAWN.Queue()
        ref = f"contended-{r}"
        procs = [SPAWN.Process(target=one_ref_contender, args=(str(root), i, ref, barrier, results, 2.5),
                               name=f"contender-{i}") for i in range(N)]
        for p in procs:
            p.start()
        got = [results.get(timeout=120) for _ in range(N)]
        _join(procs)
        held = [g for g in got if g[1] == "held"]
        unavailable = [g for g in got if g[1] == "unavailable"]
        assert len(held) == 1, got
        assert len(unavailable) == N - 1, got
        assert all(f"ref {ref} locked" in g[2] for g in unavailable), unavailable[0]
        me, _, text = held[0]
        dgst, chunks = text.split()
        with LocalStore(root).reader_at(dgst) as rd:
            data = rd.read_all()
        assert data == bytes([65 + me]) * (4096 * int(chunks)), "bytes of two writers interleaved"
    figures.update(processes=N, rounds=rounds, holders_per_round=1, unavailable_per_round=N - 1)


def test_gui_scanner_beside_a_busy_writer(qtbot, tmp_path, make_window, figures):
    root = tmp_path / "store"
    store = LocalStore(root)
    for i in range(200):
        data = f"seed {i}".encode()
        with store.writer(f"seed-{i}") as w:
            w.write(data)
            w.commit()
    errors_logged: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            if record.levelno >= logging.ERROR:
                errors_logged.append(self.format(record))

    handler = Collect()
    logging.getLogger().addHandler(handler)
    try:
        win = make_window(root)
        scans = [0]
        polls = [0]
        win.scanFinished.connect(lambda: scans.__setitem__(0, scans[0] + 1))
        win.ingestsUpdated.connect(lambda: polls.__setitem__(0, polls[0] + 1))
        manager = SPAWN.Manager()
        counts = manager.dict()
        stop_file = str(tmp_path / "stop")
        proc = SPAWN.Process(target=mutator, args=(str(root), MUTATE_SECONDS, counts, stop_file), name="mutator")
        proc.start()  # starting processes blocks this (GUI) thread: done before the heartbeat runs
        qtbot.waitUntil(lambda: counts.get("ready", False), timeout=30000)
        hb = Heartbeat()
        hb.start()
        t0 = time.monotonic()
        open(stop_file + ".go", "w").close()
        while proc.is_alive():
            qtbot.wait(50)
        elapsed = time.monotonic() - t0
        hb.stop()  # what follows (manager shutdown) blocks this thread by the test's own doing
        stall_ms, stalls = hb.max_stall_ms, hb.gaps_over_100ms
        assert proc.exitcode == 0
        done = dict(counts)
        manager.shutdown()

        def disk():
            s = LocalStore(root)
            blobs = {(i.digest, i.size, tuple(sorted(i.labels.items()))) for i in s.walk()}
            ingests = {(st.ref, st.offset) for st in s.list_statuses()}
            return blobs, ingests

        def view():
            m = win.blob_model
            blobs = {(r.digest, r.size, tuple(sorted(r.labels.items())))
                     for r in (m.row_at(i) for i in range(m.rowCount()))}
            ingests = {(r.ref, r.offset) for r in win.ingest_model.rows() if r.broken is None}
            return blobs, ingests

        # the watcher alone (no F5) must bring the view to what is on disk
        settled = time.monotonic()
        qtbot.waitUntil(lambda: view() == disk(), timeout=20000)
        settle_s = time.monotonic() - settled
        broken_rows = [r for r in win.ingest_model.rows() if r.broken is not None]
        assert not broken_rows, broken_rows[:3]
        assert win.ctx.dialogs.errors == [], win.ctx.dialogs.errors[:3]
        assert errors_logged == [], errors_logged[:3]
        done.pop("ready", None)
        ops = sum(v for k, v in done.items() if k != "errors")
        figures.update(seconds=round(elapsed, 1), operations=done, ops_per_min=round(ops / elapsed * 60),
                       full_rescans_seen=scans[0], ingest_updates_seen=polls[0], settle_s=round(settle_s, 2),
                       final_blobs=win.blob_model.total_count, final_ingests=win.ingest_model.rowCount(),
                       gui_max_stall_ms=stall_ms, gui_stalls_over_100ms=stalls,
                       gui_stall_sites=hb.stall_sites)
        assert ops > 100
        assert done["errors"] == 0
    finally:
        logging.getLogger().removeHandler(handler)
