"""Ref locks across threads and processes (containerd-store.md §2.6 + design.md §4's cross-process difference)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from store import LocalStore, errors
from store.locks import go_duration, go_time

REPO = Path(__file__).resolve().parents[2]
LOCKED = re.compile(r"^ref (?P<ref>.+) locked for (?P<dur>[0-9.]+(ns|µs|ms|s)|[0-9hm.]+s) "
                    r"\(since (?P<since>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 UTC)\): unavailable$")


def _holder(root, ref, *, hold="sleep"):
    """A separate Python process that opens a writer on ``ref`` and prints READY."""
    code = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(REPO)!r})
        from store import LocalStore
        w = LocalStore({str(root)!r}).writer({ref!r})
        w.write(b"from the other process")
        print("READY", flush=True)
        time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "READY"
    return proc


@pytest.mark.parametrize("ns,text", [
    (0, "0s"), (1, "1ns"), (1500, "1.5µs"), (2_000_000, "2ms"), (350_500_000, "350.5ms"),
    (2_366_853_918, "2.366853918s"), (60 * 10**9, "1m0s"), (61_500_000_000, "1m1.5s"),
    (3600 * 10**9, "1h0m0s"), (-1_500_000_000, "-1.5s"),
])
def test_go_duration(ns, text):
    assert go_duration(ns) == text


def test_go_time():
    assert go_time(1795815824136140351) == "2026-11-27 21:43:44.136140351 +0000 UTC"
    assert go_time(1795815824000000000) == "2026-11-27 21:43:44 +0000 UTC"


def test_second_writer_same_process_waits_then_unavailable(store):
    w = store.writer("ref-1")
    t0 = time.monotonic()
    with pytest.raises(errors.Unavailable) as exc:
        store.writer("ref-1")
    elapsed = time.monotonic() - t0
    m = LOCKED.match(str(exc.value))
    assert m and m["ref"] == "ref-1", str(exc.value)
    assert 0.05 < elapsed < 3  # containerd 1.x: 10 tries with growing random sleeps
    w.close()
    store.writer("ref-1").close()


def test_two_store_objects_on_one_root_exclude_each_other(store):
    other = LocalStore(store.root)
    w = store.writer("shared")
    with pytest.raises(errors.Unavailable):
        other.writer("shared")
    w.close()
    other.writer("shared").close()


def test_different_refs_do_not_block(store):
    a = store.writer("a")
    b = store.writer("b")
    a.close()
    b.close()


def test_threads_only_one_writer_wins(store):
    results = []
    barrier = threading.Barrier(4)

    def attempt():
        barrier.wait()
        try:
            w = store.writer("contended")
            results.append("ok")
            time.sleep(2)
            w.close()
        except errors.Unavailable:
            results.append("unavailable")

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["ok", "unavailable", "unavailable", "unavailable"]


def test_lock_held_by_another_process(store):
    proc = _holder(store.root, "cross-process")
    try:
        time.sleep(0.2)
        with pytest.raises(errors.Unavailable) as exc:
            store.writer("cross-process")
        m = LOCKED.match(str(exc.value))
        assert m and m["ref"] == "cross-process", str(exc.value)
        since = time.strptime(m["since"].split(".")[0].split(" +")[0], "%Y-%m-%d %H:%M:%S")
        assert abs(time.mktime(since) - time.mktime(time.gmtime())) < 120
        # the other process's bytes are untouched
        assert store.status("cross-process").offset == len(b"from the other process")
    finally:
        proc.kill()
        proc.wait()


def test_sigkilled_writer_leaves_no_lock(store):
    proc = _holder(store.root, "killed")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    w = store.writer("killed")  # the kernel dropped the flock with the process
    assert w.status().offset == len(b"from the other process")
    w.close()


def test_lock_files_live_outside_ingest(store):
    w = store.writer("r")
    assert sorted(os.listdir(store.ingest_root)) == [store.ingest_dir("r").name]
    assert any(p.suffix == ".lock" for p in (store.root / ".blobscope" / "locks").iterdir())
    w.close()


def test_forgotten_writer_releases_its_lock_when_collected(store):
    w = store.writer("forgotten")
    del w
    import gc
    gc.collect()
    store.writer("forgotten").close()


def test_stale_commit_cannot_release_a_new_writers_lock(store):
    """containerd's quirk (a stale writer's Commit frees someone else's lock) is not kept."""
    w1 = store.writer("r")
    w1.close()
    w2 = store.writer("r")
    with pytest.raises(errors.FailedPrecondition):
        w1.commit(0)
    with pytest.raises(errors.Unavailable):
        store._locks.try_lock("r", store.ingest_dir("r").name)
    w2.close()


def test_writer_opened_on_one_thread_closed_on_another(store):
    box = []
    t = threading.Thread(target=lambda: box.append(store.writer("handed-over")))
    t.start()
    t.join()
    box[0].write(b"x")
    box[0].close()  # on the main thread
    w = store.writer("handed-over")
    assert w.status().offset == 1
    w.close()


def test_unusable_lock_directory_is_a_clear_error(store):
    (store.root / ".blobscope").write_text("a file where the lock directory should be")
    with pytest.raises(errors.ContentError, match="cannot lock ref 'r' in .*locks"):
        store.writer("r")
    assert not store.ingest_dir("r").exists()


def test_a_planted_link_in_the_lock_directory_is_refused_and_nothing_outside_changes(tmp_path):
    """Lock files are created and truncated: a link as .blobscope, locks or a lock file is never followed."""
    from store.ingest import ref_hash
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "victim.txt"
    cases = {
        ".blobscope": lambda root: os.symlink(outside, root / ".blobscope"),
        "locks": lambda root: ((root / ".blobscope").mkdir(), os.symlink(outside, root / ".blobscope" / "locks")),
        "lock file": lambda root: ((root / ".blobscope" / "locks").mkdir(parents=True),
                                   os.symlink(victim, root / ".blobscope" / "locks" / f"{ref_hash('r')}.lock")),
    }
    for name, plant in cases.items():
        victim.write_bytes(b"precious\n")
        root = tmp_path / name.replace(" ", "-")
        s = LocalStore(root)
        plant(root)
        with pytest.raises(errors.FailedPrecondition, match="symbolic link"):
            s.writer("r")
        assert victim.read_bytes() == b"precious\n", name
        assert sorted(p.name for p in outside.iterdir()) == ["victim.txt"], name
        assert s.list_statuses() == [], name
