#!/usr/bin/env python3
"""The cold image graph as the window builds it, beside blobctl's forked path and the floors.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python tests/perf/bench_graph_gui.py [--runs 2]``
or ``pytest -m perf -s tests/perf/test_bench_graph_gui.py``.

Store: bench_graph.py's (100 000 blobs, 5 000 two-platform images by default; built once by
tests/support/image_store.py under ``$BLOBSCOPE_BENCH_DIR/graph`` and kept).  Each run removes
the store's media-type cache (``content/.blobscope``), so the window starts cold.

Each run, in fresh processes, interleaved (a change of the machine's load hits all alike):

* floors (bench_graph.py): ``sha256sum`` over the same files by ``xargs -P <cores>``, and a bare
  Python ``open`` + ``pread`` + ``close`` of each (one process);
* peer: blobctl's path, a walk then ``classify(processes="fork")`` + ``build_graph`` + its images
  and space with an empty cache (as bench_graph's "fork" mode), in a process of its own;
* the window: the real ``MainWindow`` offscreen, the fork server started first as gui/app.py does,
  the store opened; measured from the end of the listing (``scanFinished``) to the graph in use
  (``graphBuilt``, the Images tab filled), split into the wait before the media-type pass
  (``CLASSIFY_DELAY_MS``), the media-type pass (until ``mediaTypesDone``) and the graph build;
  CPU seconds of the window's process (per thread) and of its workers (the fork server's reaped
  children) per phase.

Nothing asserts a timing (design.md §8); it fails only when the window's graph does not describe
the store (images, blobs, edges against the peer's).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
_REPO = Path(__file__).resolve().parents[2]
if str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))

from tests.perf import bench_graph  # noqa: E402


def content_dir() -> Path:
    return bench_graph.BENCH_DIR / "content"


def thread_cpu() -> dict[str, float]:
    """CPU seconds of each thread of this process, summed by thread name."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[str, float] = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            text = (task / "stat").read_text()
        except OSError:
            continue  # ended meanwhile
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text.rsplit(")", 1)[1].split()
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out


def cpu_now() -> tuple[float, float]:
    """CPU seconds of this process and of its workers (reaped children, the fork server's too)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    return me.ru_utime + me.ru_stime, bench_graph.cpu_times()[1]


# ---------------------------------------------------------------------------- child processes
def floors() -> dict:
    content = content_dir()
    blobs = content / "blobs" / "sha256"
    names = sorted(os.listdir(blobs))
    paths = bench_graph.BENCH_DIR / "paths.nul"
    if not paths.exists():
        paths.write_bytes(b"".join(str(blobs / n).encode() + b"\0" for n in names))
    return {"sha256sum": bench_graph.tool_floor(["sha256sum"], paths),
            "pread": bench_graph.pread_floor(blobs, names)}


def peer() -> dict:
    """blobctl's way: a walk, forked workers classify with an empty cache, then the graph and its
    images (what the window's graph job computes too); CPU seconds per phase."""
    from store import graph as G
    from store import oci
    content = content_dir()
    cache_path = bench_graph.BENCH_DIR / "gui-peer-cache.db"
    store = bench_graph.LocalStore(content)
    infos = list(store.walk())
    cache = bench_graph.fresh_cache(cache_path)
    c0, t0 = bench_graph.cpu_times(), time.perf_counter()
    types = oci.classify(store, infos, cache, processes="fork")
    c1, t1 = bench_graph.cpu_times(), time.perf_counter()
    statuses = store.list_statuses()
    g = G.build_graph(infos, types, ingest_count=len(statuses), ingest_bytes=sum(s.offset for s in statuses))
    images = g.images()
    g.space()
    c2, t2 = bench_graph.cpu_times(), time.perf_counter()
    cache.close()
    for p in cache_path.parent.glob(cache_path.name + "*"):
        p.unlink()
    return {"classify": t1 - t0, "build": t2 - t1, "graph": t2 - t0,
            "classify_cpu_main": c1[0] - c0[0], "classify_cpu_workers": c1[1] - c0[1],
            "build_cpu_main": c2[0] - c1[0], "cpu_main": c2[0] - c0[0],
            "blobs": len(infos), "edges": g.edge_count, "images": len(images)}


def window() -> dict:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from gui import main_window
    from gui.context import AppContext
    from gui.main_window import MainWindow
    from store import workers
    from tests.gui.conftest import ScriptedDialogs
    from tests.perf.bench_million import Heartbeat, spin

    content = content_dir()
    shutil.rmtree(content / ".blobscope", ignore_errors=True)  # cold: no media type known
    app = QApplication.instance() or QApplication([])
    workers.warm_up()  # as gui/app.py does at launch
    settings = QSettings(str(bench_graph.BENCH_DIR / "gui-bench-settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(AppContext(settings=settings, dialogs=ScriptedDialogs()))
    win.resize(1280, 800)
    marks: dict[str, float] = {}
    cpu: dict[str, tuple[float, float]] = {}
    threads: dict[str, dict[str, float]] = {}

    def mark(name: str) -> None:
        if name not in marks:
            marks[name] = time.perf_counter()
            cpu[name] = cpu_now()
            threads[name] = thread_cpu()

    # when the workers' side of each pass ends (on its pool thread), to tell the wait for the GUI
    # thread (queued partial results, the done callback) from the work itself
    from gui import operations
    from gui.images import image_graph
    ends: dict[str, float] = {}

    def ended(name, fn):
        def call(*a, **k):
            out = fn(*a, **k)
            ends[name] = time.perf_counter()
            return out
        return call

    operations.classify_media_types = ended("media", operations.classify_media_types)  # type: ignore[method-assign]
    image_graph.unreferenced_rows = ended("graph", image_graph.unreferenced_rows)  # type: ignore[assignment]
    win.scanFinished.connect(lambda: mark("listed"))
    win.classify_timer.timeout.connect(lambda: mark("classify_start"))
    win.mediaTypesDone.connect(lambda: mark("media"))
    win.graphBuilt.connect(lambda: mark("graph"))
    win.show()
    app.processEvents()
    spin(app, lambda: False, 1.0)  # the fork server imports the store beside Qt's start, as at launch
    t0 = time.perf_counter()
    win.open_store(str(content))
    assert spin(app, lambda: "listed" in marks, 600), "the listing did not finish"
    beat = Heartbeat()
    assert spin(app, lambda: "graph" in marks, 1200), "the graph was not built"
    stall = beat.stop()
    spin(app, lambda: False, 0.1)  # the fork server reaps its workers
    end_cpu = cpu_now()
    g = win.image_graph.graph
    assert g is not None
    images_rows = win.images_view.model.rowCount()

    def span(a: str, b: str) -> float:
        return marks[b] - marks[a]

    def dcpu(a: str, b: str, i: int) -> float:
        return cpu[b][i] - cpu[a][i]

    def by_thread(a: str, b: str) -> dict[str, float]:
        d = {k: round(v - threads[a].get(k, 0.0), 2) for k, v in threads[b].items()}
        return {k: v for k, v in sorted(d.items(), key=lambda kv: -kv[1]) if v > 0}

    result = {
        "listed_s": marks["listed"] - t0,
        "delay_s": span("listed", "classify_start"),
        "media_s": span("classify_start", "media"),
        "build_s": span("media", "graph"),
        "cold_s": span("listed", "graph"),
        "cold_without_delay_s": span("classify_start", "graph"),
        "media_cpu_app": dcpu("classify_start", "media", 0),
        "media_cpu_workers": dcpu("classify_start", "media", 1),
        "build_cpu_app": dcpu("media", "graph", 0),
        "build_cpu_workers": end_cpu[1] - cpu["media"][1],
        "media_threads": by_thread("classify_start", "media"),
        "build_threads": by_thread("media", "graph"),
        "media_work_s": ends["media"] - marks["classify_start"],
        "media_lag_s": marks["media"] - ends["media"],
        "build_work_s": ends["graph"] - marks["media"],
        "build_lag_s": marks["graph"] - ends["graph"],
        "stall_ms": stall,
        "blobs": len(g.sizes), "edges": g.edge_count, "images": len(g.image_roots()),
        "images_tab_rows": images_rows, "classify_delay_ms": main_window.CLASSIFY_DELAY_MS,
    }
    win.close()
    app.processEvents()
    return result


def child(what: str) -> dict:
    proc = subprocess.run([sys.executable, __file__, f"--{what}"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed: {proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------- the run
def run(runs: int, blobs: int, images: int) -> dict:
    from tests.support.image_store import populate
    populate(bench_graph.BENCH_DIR, blobs, images)
    list(bench_graph.LocalStore(content_dir()).walk())  # a warm page cache, as the floors see it
    out: dict[str, list[dict]] = {"floors": [], "peer": [], "window": []}
    for i in range(runs):
        order = ["floors", "peer", "window"]
        for what in order[i % 3:] + order[:i % 3]:
            r = child(what)
            out[what].append(r)
            bench_graph.emit(run=i, what=what, load=f"'{bench_graph.load()}'",
                             **{k: v for k, v in r.items() if isinstance(v, (int, float))})
            if what == "window":
                print(f"#   threads, media pass: {r['media_threads']}", flush=True)
                print(f"#   threads, graph build: {r['build_threads']}", flush=True)

    def med(what: str, key: str) -> float:
        return statistics.median(r[key] for r in out[what])

    w = {k: med("window", k) for k in ("cold_s", "cold_without_delay_s", "delay_s", "media_s", "build_s",
                                       "media_cpu_app", "media_cpu_workers", "build_cpu_app",
                                       "build_cpu_workers", "stall_ms")}
    p = {k: med("peer", k) for k in ("graph", "classify", "build", "cpu_main", "classify_cpu_main",
                                     "classify_cpu_workers", "build_cpu_main")}
    f = {k: med("floors", k) for k in ("sha256sum", "pread")}
    summary = {"window": w, "peer": p, "floors": f}
    cpu_window = w["media_cpu_app"] + w["media_cpu_workers"] + w["build_cpu_app"] + w["build_cpu_workers"]
    app_cpu = w["media_cpu_app"] + w["build_cpu_app"]
    print(f"# medians of {runs} (load at the end {bench_graph.load()}):")
    rows = [
        (f"window: listing end -> graph in use {w['cold_s']:.2f} s "
         f"(wait {w['delay_s']:.2f} + media {w['media_s']:.2f} + build {w['build_s']:.2f})", "target < 4 s"),
        (f"window without the classify wait: {w['cold_without_delay_s']:.2f} s / blobctl fork "
         f"{p['graph']:.2f} s", bench_graph.ratio(w["cold_without_delay_s"], p["graph"])),
        (f"window (no wait) / sha256sum -P{bench_graph.cpus()} {f['sha256sum']:.2f} s",
         bench_graph.ratio(w["cold_without_delay_s"], f["sha256sum"])),
        (f"window (no wait) / open+pread {f['pread']:.2f} s", bench_graph.ratio(w["cold_without_delay_s"], f["pread"])),
        (f"blobctl fork / sha256sum -P{bench_graph.cpus()}", bench_graph.ratio(p["graph"], f["sha256sum"])),
        (f"window CPU s: app {app_cpu:.2f} (media {w['media_cpu_app']:.2f}, build {w['build_cpu_app']:.2f})"
         f" + workers {w['media_cpu_workers'] + w['build_cpu_workers']:.2f}", f"{cpu_window:.2f}"),
        (f"blobctl CPU s: main {p['cpu_main']:.2f} (classify {p['classify_cpu_main']:.2f}, build "
         f"{p['build_cpu_main']:.2f}) + workers {p['classify_cpu_workers']:.2f}",
         f"{p['cpu_main'] + p['classify_cpu_workers']:.2f}"),
        ("blobctl on 2 free cores, estimated: max(main, all / 2) classify + main build",
         f"{max(p['classify_cpu_main'], (p['classify_cpu_main'] + p['classify_cpu_workers']) / 2) + p['build_cpu_main']:.2f} s"),
        ("window on 2 free cores, estimated: wait + max(app, all / 2) media + app build",
         f"{w['delay_s'] + max(w['media_cpu_app'], (w['media_cpu_app'] + w['media_cpu_workers']) / 2) + w['build_cpu_app']:.2f} s"),
        ("longest GUI-thread stall, listing end -> graph", f"{w['stall_ms']:.0f} ms"),
    ]
    for what, r in rows:
        print(f"#   {what:<78} {r}", flush=True)
    first_peer, first_win = out["peer"][0], out["window"][0]
    summary["ok"] = all(r["images"] == first_peer["images"] == images and r["blobs"] == first_peer["blobs"]
                        and r["edges"] == first_peer["edges"] and r["images_tab_rows"] == images
                        for r in out["window"]) and first_win["blobs"] == blobs
    return summary


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--blobs", type=int, default=int(os.environ.get("BLOBSCOPE_BENCH_BLOBS", 100000)))
    ap.add_argument("--floors", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--peer", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--window", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    for what in ("floors", "peer", "window"):
        if getattr(args, what):
            print(json.dumps(globals()[what]()), flush=True)
            return 0
    summary = run(args.runs, args.blobs, max(1, args.blobs // 20))
    print(json.dumps(summary), flush=True)
    if not summary["ok"]:
        print("the window's graph does not describe the store", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
