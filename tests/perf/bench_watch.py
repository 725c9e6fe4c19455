"""One outside change to the updated view, against a full rescan of the same store (design.md §8).

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python tests/perf/bench_watch.py [N]`` (default 100k)
or ``.venv/bin/python -m pytest -m perf tests/perf/bench_watch.py -s``.

A real window opens an N-blob store (built once, kept under ``$BLOBSCOPE_BENCH_DIR``, default
/tmp/blobscope-bench/watch-N) and waits until its background passes are done.  Then another
writer (a second ``LocalStore`` on the root, as blobctl or containerd would be) commits a blob,
and the time until its row is in the model is taken; the same for deleting a blob, and for a
label edit.  The peer, measured in the same run, is what every change cost before inotify named
the entry: a full rescan of the store (F5, the scanner's diff against the model).  Target:
< 300 ms per change at 100k and 1M blobs, and no full rescan.
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
_REPO = Path(__file__).resolve().parents[2]
if str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))

import pytest  # noqa: E402

N_BLOBS = 100_000
N_LABELLED = 2_000
TRIALS = 10
RESCANS = int(os.environ.get("BLOBSCOPE_BENCH_RESCANS", "3"))
BENCH_DIR = Path(os.environ.get("BLOBSCOPE_BENCH_DIR", "/tmp/blobscope-bench"))


def build_store(root: Path, n: int) -> None:
    """``n`` valid blobs written straight into blobs/sha256 (containerd's layout), some labelled."""
    from store import LocalStore
    from store.labels import LabelStore

    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    labelled = []
    for i in range(n):
        data = b"watch bench blob %d\n" % i
        hexd = hashlib.sha256(data).hexdigest()
        fd = os.open(blobs / hexd, flags, 0o444)
        os.write(fd, data)
        os.close(fd)
        if i < N_LABELLED:
            labelled.append("sha256:" + hexd)
    LocalStore(root)  # ingest/, as a store made by the library has
    labels = LabelStore(root / "labels.db")
    for i, d in enumerate(labelled):
        labels.set(d, {"containerd.io/gc.root": "2026-12-07T00:00:00Z", "bench/index": str(i)})
    (root / ".complete").write_text(str(n))


def store_for(n: int) -> Path:
    root = BENCH_DIR / f"watch-{n}"
    if not (root / ".complete").exists():
        import shutil
        shutil.rmtree(root, ignore_errors=True)
        t = time.perf_counter()
        build_store(root, n)
        print(f"built {n} blobs in {time.perf_counter() - t:.1f} s at {root}", file=sys.stderr)
    return root


def _spin(app, until, timeout=60.0) -> float:
    """Run the event loop until ``until()``; the moment it became true."""
    deadline = time.perf_counter() + timeout
    while not until():
        if time.perf_counter() > deadline:
            raise TimeoutError("the view never caught up")
        app.processEvents()
        time.sleep(0.0005)
    return time.perf_counter()


def _idle(app, window, quiet=1.5) -> None:
    """Until the background passes (media types, graph) are done and stay done for ``quiet`` s."""
    calm_since = time.perf_counter()
    deadline = calm_since + 300
    while time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.01)
        if window.runner.active or window.scanner.busy or window.classify_timer.isActive():
            calm_since = time.perf_counter()
        elif time.perf_counter() - calm_since > quiet:
            return


def measure(root: Path, n: int) -> dict:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from gui.context import AppContext
    from gui.main_window import MainWindow
    from store import Digest, Info, LocalStore

    app = QApplication.instance() or QApplication([])
    settings = QSettings(str(root.parent / f"bench-watch-settings-{n}.ini"), QSettings.Format.IniFormat)
    window = MainWindow(AppContext(settings=settings))
    window.resize(1280, 800)
    window.show()
    app.processEvents()
    done = []
    window.scanFinished.connect(lambda: done.append(time.perf_counter()))
    t = time.perf_counter()
    window.open_store(str(root))
    _spin(app, lambda: bool(done), timeout=600)
    first_listing_s = done[0] - t
    assert window.blob_model.total_count >= n, window.blob_model.total_count
    _idle(app, window)

    model = window.blob_model
    worker = window.scanner.worker
    # the GUI thread's share: the model applying the difference (gui/blobs, O(rows) today for a
    # removal or a change), apart from the watch, the coalescing and the scanner thread's reads
    applying: list[float] = []
    apply_changes = model.apply_changes

    def timed_apply(*args):
        t = time.perf_counter()
        apply_changes(*args)
        applying.append((time.perf_counter() - t) * 1000)

    model.apply_changes = timed_apply  # type: ignore[method-assign]
    # where the time goes: the moments each stage of the latest change was reached
    from PySide6.QtCore import Qt
    marks: dict[str, float] = {}
    window.watcher.changed.connect(lambda _c: marks.setdefault("flush", time.perf_counter()))
    worker.updating.connect(lambda _g: marks.setdefault("read", time.perf_counter()),
                            Qt.ConnectionType.DirectConnection)  # on the scanner thread
    worker.blobsUpdated.connect(lambda _g, _u: marks.setdefault("sent", time.perf_counter()),
                                Qt.ConnectionType.DirectConnection)
    window.scanner.blobsUpdated.connect(lambda _u: marks.setdefault("arrived", time.perf_counter()))
    stages: dict[str, dict[str, list[float]]] = {k: {} for k in ("commit", "label", "delete")}

    def staged(kind: str, t0: float, seen: float) -> None:
        """Each stage's share of one change, in ms: the coalescing window (call -> report), the
        queue to the scanner thread, its reads (info of the named blobs, the label change log),
        the hand-over back, and the GUI thread's apply up to the row being right."""
        points = [("call", t0)] + [(k, marks[k]) for k in ("flush", "read", "sent", "arrived") if k in marks]
        points.append(("seen", seen))
        for (a, ta), (b, tb) in zip(points, points[1:]):
            stages[kind].setdefault(f"{a}->{b}", []).append((tb - ta) * 1000)
        marks.clear()
    other = LocalStore(root)  # the outside writer
    scans_before, updates_before = worker.full_scans, worker.updates
    commit_ms, delete_ms, label_ms, commit_call_ms = [], [], [], []
    stamp = time.time_ns()
    cpu0 = time.process_time()  # every thread of the window: scanner, jobs, media types, graph
    for i in range(TRIALS):
        data = b"outside commit %d %d" % (stamp, i)
        d = Digest.from_bytes(data)
        marks.clear()
        t0 = time.perf_counter()
        with other.writer(f"bench-{stamp}-{i}", total=len(data), expected=d) as w:
            w.write(data)
            w.commit(len(data), d)
        t1 = time.perf_counter()
        seen = _spin(app, lambda d=d: model.row_for(str(d)) >= 0)
        commit_ms.append((seen - t0) * 1000)
        staged("commit", t0, seen)
        commit_call_ms.append((t1 - t0) * 1000)
        app.processEvents()
        time.sleep(0.05)

        info = other.info(d)
        marks.clear()
        t0 = time.perf_counter()
        other.update(Info(d, info.size, info.created_at, info.updated_at, {"bench/edited": str(i)}), "labels")
        seen = _spin(app, lambda d=d, i=i: getattr(model.get(str(d)), "labels", {}).get("bench/edited") == str(i))
        label_ms.append((seen - t0) * 1000)
        staged("label", t0, seen)
        time.sleep(0.05)

        marks.clear()
        t0 = time.perf_counter()
        other.delete(d)
        seen = _spin(app, lambda d=d: model.row_for(str(d)) < 0)
        delete_ms.append((seen - t0) * 1000)
        staged("delete", t0, seen)
        app.processEvents()
        time.sleep(0.05)
    model.apply_changes = apply_changes  # type: ignore[method-assign]
    full_scans_during_changes = worker.full_scans - scans_before
    updates = worker.updates - updates_before
    _idle(app, window)  # the background work the changes started (media types, graph) is done
    cpu_per_change_ms = (time.process_time() - cpu0) * 1000 / (3 * TRIALS)

    # the peer: a full rescan of the same store, as every change cost before (F5 does one)
    rescans = []
    for _ in range(RESCANS):
        done.clear()
        t0 = time.perf_counter()
        window.refresh()
        _spin(app, lambda: bool(done), timeout=600)
        rescans.append((done[0] - t0) * 1000)
        _idle(app, window, quiet=0.5)
    window.close()
    app.processEvents()

    rescan = statistics.median(rescans)
    med = {k: statistics.median(v) for k, v in
           (("commit", commit_ms), ("delete", delete_ms), ("label", label_ms))}
    return {
        "blobs": n,
        "first_listing_s": round(first_listing_s, 2),
        "trials": TRIALS,
        "commit_to_view_ms_median": round(med["commit"], 1),
        "commit_to_view_ms_max": round(max(commit_ms), 1),
        "commit_call_itself_ms_median": round(statistics.median(commit_call_ms), 1),
        "delete_to_view_ms_median": round(med["delete"], 1),
        "delete_to_view_ms_max": round(max(delete_ms), 1),
        "label_edit_to_view_ms_median": round(med["label"], 1),
        "label_edit_to_view_ms_max": round(max(label_ms), 1),
        "model_apply_ms_median": round(statistics.median(applying), 1) if applying else None,
        "model_apply_ms_max": round(max(applying), 1) if applying else None,
        "stages_ms_median": {kind: {k: round(statistics.median(v), 1) for k, v in st.items()}
                             for kind, st in stages.items()},
        "cpu_ms_per_change_all_threads": round(cpu_per_change_ms, 1),
        "full_rescans_during_changes": full_scans_during_changes,
        "updates_by_name": updates,
        "peer_full_rescan_ms_median": round(rescan, 1),
        "peer_full_rescan_ms_all": [round(r, 1) for r in rescans],
        "ratio_commit_vs_rescan": round(med["commit"] / rescan, 4),
        "ratio_delete_vs_rescan": round(med["delete"] / rescan, 4),
        "ratio_label_vs_rescan": round(med["label"] / rescan, 4),
    }


def run(n: int = N_BLOBS) -> dict:
    result = measure(store_for(n), n)
    out = _REPO / "tests" / "_artifacts"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"bench_watch_{n}.json").write_text(json.dumps(result, indent=2))
    return result


@pytest.mark.perf
def test_bench_watch():
    result = run(int(os.environ.get("BLOBSCOPE_BENCH_BLOBS", N_BLOBS)))
    print(json.dumps(result, indent=2))
    assert result["full_rescans_during_changes"] == 0


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else N_BLOBS), indent=2))
