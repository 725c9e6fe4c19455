"""Delete of many selected rows: the GUI thread's share from the key press to the question shown,
and from the answer to the delete job started (issue 12: no GUI-thread stall over 50 ms at 1M).

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python tests/perf/bench_delete_confirm.py [N ...]``
(default 1000000; ``--graph`` uses bench_million_graph.py's store of N blobs with N/50 images
instead of bench_million.py's, both cached under ``$BLOBSCOPE_BENCH_CACHE``, default
``~/.cache/blobscope-bench``: give this run a cache of its own while another benchmark's Delete
step is repairing the shared one; ``--no-peer`` skips the peer below; ``--sample`` prints the
GUI thread's stacks in long gaps, as bench_million.py does).

The window lists the store, then for 100k selected rows and for every row: Delete is triggered,
the question answered "Delete", and the delete itself replaced by one that deletes nothing (the
store stays as it is; what is measured ends when the job is started).  Printed per selection:

* ``trigger_ms``: the GUI thread inside ``actionDelete.trigger()`` (one call; before the worker
  took the summary over, the whole summary was worked out here);
* ``to_dialog_ms`` / ``to_dialog_gui_cpu_ms``: key press to the question asked, wall and GUI-thread CPU;
* ``confirm_to_job_ms``: the answer to the delete job started (GUI thread, one call);
* ``stall_ms``: the longest late beat of a 10 ms QTimer heartbeat over the whole step;
* ``peer_on_gui_ms``: the peer, the same plan worked out on the GUI thread as the command did
  before (measured right after, same rows);
* ``floor_ms``: a bare pass over the same row numbers' sizes (``sum(map(sizes.__getitem__, rids))``,
  the least any summary of them costs), with each figure's ratio to it.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
_REPO = Path(__file__).resolve().parents[2]
if str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))

from tests.perf import bench_million as BM  # noqa: E402

SELECTIONS = (100_000, None)  # rows selected; None: every row
NO_PEER = False  # --no-peer: the old GUI-thread plan is not run (on a million blobs of images it takes minutes)


def measure(root: Path, n: int) -> dict:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from gui import operations
    from gui.context import AppContext
    from gui.main_window import MainWindow
    from tests.gui.conftest import ScriptedDialogs

    app = QApplication.instance() or QApplication([])
    settings = QSettings(str(root.parent / "bench-delete-settings.ini"), QSettings.Format.IniFormat)
    marks: dict[str, float] = {}

    class Dialogs(ScriptedDialogs):
        def confirm(self, parent, title, text, detail="", ok_text=""):
            marks["asked"], marks["asked_cpu"] = time.perf_counter(), time.thread_time()
            marks["text"] = text
            out = super().confirm(parent, title, text, detail, ok_text)
            marks["answered"] = time.perf_counter()
            return out

    dialogs = Dialogs()
    window = MainWindow(AppContext(settings=settings, dialogs=dialogs))
    window.resize(1280, 800)
    window.classify_timer.timeout.disconnect()  # media types and the graph: other benchmarks
    done: dict[str, float] = {}
    window.scanFinished.connect(lambda: done.setdefault("full", time.perf_counter()))
    window.show()
    app.processEvents()
    window.open_store(str(root))
    assert BM.spin(app, lambda: "full" in done, 900), "the listing did not finish"
    BM.spin(app, lambda: not window.scanner.busy, 600)
    BM.spin(app, lambda: False, 0.5)
    model = window.blob_model
    assert model.total_count == n, model.total_count  # a shared cache being repaired: BLOBSCOPE_BENCH_CACHE

    deleted: list[int] = []
    real_delete = operations.delete_blobs

    def no_delete(store, digests, job=None):  # the store stays as it is for the next selection
        deleted.append(len(digests))
        return operations.BatchResult()

    operations.delete_blobs = no_delete  # type: ignore[assignment]
    window.runner.jobStarted.connect(lambda name: marks.setdefault("job", time.perf_counter())
                                     if name == "delete" else None)
    beat = BM.Heartbeat()
    result: dict = {"blobs": n}
    try:
        for k in SELECTIONS:
            k = min(k or n, n)
            window.selection.select_blob_rows(list(range(k)))
            app.processEvents()
            assert window.selection.blob_count() == k
            rids = window.selection.blob_rids()
            sizes = model.columns.sizes
            floor = []
            for _ in range(3):
                t = time.perf_counter()
                sum(map(sizes.__getitem__, rids))
                floor.append(time.perf_counter() - t)
            marks.clear()
            dialogs.answer("confirm", True)
            BM.spin(app, lambda: False, 0.3)
            beat.phase(f"delete_{k}")
            t0, c0 = time.perf_counter(), time.thread_time()
            window.action_map["actionDelete"].trigger()
            t1 = time.perf_counter()
            assert BM.spin(app, lambda: "job" in marks, 300), "the delete job never started"
            BM.spin(app, lambda: False, 0.2)  # the heartbeat's beat after the last GUI-thread step
            stall = beat.stop()
            BM.spin(app, lambda k=k: bool(deleted) and deleted[-1] == k, 60)
            floor_ms = min(floor) * 1000
            # the peer: the same plan worked out on the GUI thread, as the command did before
            # (live columns, the window's referrer index): what a key press cost it then
            from gui.blobs.delete_plan import plan_delete
            peer = []
            for _ in range(0 if NO_PEER else 2):
                t, c = time.perf_counter(), time.thread_time()
                plan = plan_delete(model.columns, rids, window.referrers.referencing)
                peer.append((time.perf_counter() - t, time.thread_time() - c))
                if peer[-1][0] > 2:
                    break  # once is enough to know
            assert NO_PEER or (plan is not None and plan.count == k)
            r = {"selected": k, "rows": model.total_count, "floor_ms": round(floor_ms, 1),
                 "trigger_ms": round((t1 - t0) * 1000, 1),
                 "peer_on_gui_ms": round(min(p[0] for p in peer) * 1000, 1) if peer else None,
                 "peer_on_gui_cpu_ms": round(min(p[1] for p in peer) * 1000, 1) if peer else None,
                 "to_dialog_ms": round((marks["asked"] - t0) * 1000, 1),
                 "to_dialog_gui_cpu_ms": round((marks["asked_cpu"] - c0) * 1000, 1),
                 "confirm_to_job_ms": round((marks["job"] - marks["answered"]) * 1000, 1),
                 "stall_ms": stall, "stall_parts_cpu_queue_blocked_maxcpu": BM.STALL_PARTS[-1],
                 "question": marks["text"], "deleted_asked": deleted[-1] if deleted else None}
            for key in ("trigger_ms", "to_dialog_gui_cpu_ms", "confirm_to_job_ms", "stall_ms", "peer_on_gui_ms"):
                r[key.replace("_ms", "_vs_floor")] = round(r[key] / floor_ms, 2) if floor_ms and r[key] is not None else None
            result[f"select_{k}"] = r
            window.selection.clear_blobs()
            app.processEvents()
    finally:
        operations.delete_blobs = real_delete  # type: ignore[assignment]
    result["load_average"] = os.getloadavg()
    window.close()
    app.processEvents()
    return result


def main(argv: list[str]) -> int:
    global NO_PEER
    graph = "--graph" in argv
    NO_PEER = "--no-peer" in argv
    BM.OPTIONS["sample"] = "--sample" in argv  # the GUI thread's stacks in long gaps (bench_million.py)
    sizes = [int(a) for a in argv if not a.startswith("--")] or [1_000_000]
    for n in sizes:
        if graph:
            from tests.perf import bench_million_graph as BG
            root = BG.ensure_store(n)
        else:
            root = BM.ensure_store(n)
        print(json.dumps(measure(root, n), indent=2), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
