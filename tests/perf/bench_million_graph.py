"""The window on a million blobs with images in them: the cold media types and graph, the details
pane, Select Unreferenced and a Delete of 100k of its rows, memory and stalls.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python tests/perf/bench_million_graph.py [N ...]``
(default 1000000; one two-platform image per 50 blobs) or
``pytest -m perf -s tests/perf/test_bench_million_graph.py`` (sizes from BLOBSCOPE_BENCH_SIZES).

The store is built once per size by tests/support/image_store.py and kept under
``$BLOBSCOPE_BENCH_CACHE`` (default ``~/.cache/blobscope-bench``) as ``graph-<N>``: ``N / 50``
image indexes (2x manifests, 2x configs), a pool of 8x gzip layers, the rest small random blobs
that nothing references.  The Delete step removes only unreferenced blobs and writes their bytes
to ``deleted.pack`` first; the next run puts them back.  The media-type cache is removed before
each run, so media types and the graph start cold, as on a store opened for the first time.

``--stalls`` runs tests/perf/stall_sampler.py beside the window and prints, for each phase's worst
GUI gap, what every thread was doing (state, wait channel, system call, CPU, faults), the machine's
cores and the window's child processes (a fork or spawn shows there); ``--worker-nice=N`` runs
the media-type workers N below the window instead of ``store.workers.BACKGROUND_NICE`` (0: as
before 2026-12-08), for an A/B run on the same code.

Each figure is printed with its floor from the same run (issue 12, design.md §8):

* cold media types + graph: ``sha256sum`` over the same files (``xargs -P <cores>``) and a bare
  Python ``open`` + ``pread`` + ``close`` of each (one process), as tests/perf/bench_graph.py;
* Select Unreferenced: the same set worked out by a bare Python pass over labels.db and the
  directory (a closure from the indexes down), which must equal the window's selection;
* the longest GUI-thread stall, per phase: a 10 ms QTimer heartbeat's longest late beat;
* memory: RSS after the listing, at the end of the graph, its peak (sampled every 20 ms),
  and the graph's bytes per blob (RSS with the graph minus RSS before it, over N).
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import sqlite3
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
_REPO = Path(__file__).resolve().parents[2]
if str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))

from tests.perf import bench_million as BM  # noqa: E402
from tests.perf.bench_million import Heartbeat, cache_dir, peak_rss_mib, rss_mib, spin  # noqa: E402

DELETE = 100_000          # unreferenced rows deleted (capped at a tenth of the store)
BLOBS_PER_IMAGE = 50
REF = "containerd.io/gc.ref.content"


def store_dir(n: int) -> Path:
    return cache_dir() / f"graph-{n}"


def ensure_store(n: int) -> Path:
    """The cached store of ``n`` blobs with ``n / 50`` images (built, or repaired after a Delete)."""
    from tests.support.image_store import populate
    root = store_dir(n)
    populate(root, n, max(1, n // BLOBS_PER_IMAGE))
    content = root / "content"
    pack = root / "deleted.pack"
    if pack.exists():  # put back what the last Delete removed
        blobs = content / "blobs" / "sha256"
        with open(pack, "rb") as f:
            while head := f.read(36):
                raw, size = head[:32], struct.unpack("<I", head[32:])[0]
                data = f.read(size)
                p = blobs / raw.hex()
                if not p.exists():
                    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
                    try:
                        os.write(fd, data)
                    finally:
                        os.close(fd)
        pack.unlink()
    return content


def save_for_restore(content: Path, digests: list[str]) -> None:
    """The bytes of blobs about to be deleted, so the next run can put them back."""
    blobs = content / "blobs" / "sha256"
    with open(content.parent / "deleted.pack.tmp", "wb") as out:
        for d in digests:
            hexd = d.split(":", 1)[1]
            data = (blobs / hexd).read_bytes()
            out.write(bytes.fromhex(hexd) + struct.pack("<I", len(data)) + data)
    os.replace(content.parent / "deleted.pack.tmp", content.parent / "deleted.pack")


def drop_media_cache(content: Path) -> None:
    shutil.rmtree(content / ".blobscope", ignore_errors=True)


# ---------------------------------------------------------------------------- floors (child processes)
def expected_unreferenced_set(content: Path) -> tuple[set[str], set[str]]:
    """Bare Python: every blob minus the closure of containerd.io/gc.ref.content* labels from the
    blobs nobody references that reference something (the image indexes; gc.root labels too).
    (unreferenced digests, image digests)."""
    names = {"sha256:" + n for n in os.listdir(content / "blobs" / "sha256")}
    children: dict[str, list[str]] = {}
    pinned = set()
    conn = sqlite3.connect(f"file:{content / 'labels.db'}?mode=ro", uri=True)
    for d, k, v in conn.execute("SELECT digest, key, value FROM labels"):
        if d not in names:
            continue
        if k == REF or k.startswith(REF + ".") or k.startswith(REF + "/"):
            children.setdefault(d, []).append(v)
        elif k == "containerd.io/gc.root" and v:
            pinned.add(d)
    conn.close()
    referenced = {c for cs in children.values() for c in cs}
    images = {d for d in children if d not in referenced}
    seen = images | pinned
    todo = list(seen)
    while todo:
        for c in children.get(todo.pop(), ()):
            if c not in seen:
                seen.add(c)
                todo.append(c)
    return names - seen, images


def expected_unreferenced(content: Path) -> dict:
    t = time.perf_counter()
    unref, images = expected_unreferenced_set(content)
    took = time.perf_counter() - t
    listing = sorted(unref)
    return {"count": len(listing), "sha256": hashlib.sha256("\n".join(listing).encode()).hexdigest(),
            "images": len(images), "seconds": took}


def pread_floor(content: Path) -> float:
    blobs = content / "blobs" / "sha256"
    names = os.listdir(blobs)
    dfd = os.open(blobs, os.O_RDONLY | os.O_DIRECTORY)
    try:
        t = time.perf_counter()
        for name in names:
            fd = os.open(name, os.O_RDONLY, dir_fd=dfd)
            os.pread(fd, 16384, 0)
            os.close(fd)
        return time.perf_counter() - t
    finally:
        os.close(dfd)


def graph_memory(content: Path) -> dict:
    """tracemalloc of the GUI's graph build alone (warm media-type cache, rows from a walk):
    bytes per blob the finished graph holds, and the build's peak."""
    import gc
    import tracemalloc

    from gui.images import graph_ops
    from store import LocalStore

    class Job:
        cancelled = False

        def progress(self, *_a):
            pass

    class Row:  # as the table holds them: the digest as plain text, validated again by the build
        __slots__ = ("digest", "size", "labels")

        def __init__(self, info):
            self.digest, self.size, self.labels = str(info.digest), info.size, info.labels

    store = LocalStore(content)
    rows = [Row(i) for i in store.walk()]
    n = len(rows)
    gc.collect()
    tracemalloc.start(1)
    base = tracemalloc.get_traced_memory()[0]
    t = time.perf_counter()
    g = graph_ops.build_graph(store, rows, Job(), None)
    took = time.perf_counter() - t
    del rows
    gc.collect()
    now, peak = tracemalloc.get_traced_memory()
    snap = tracemalloc.take_snapshot()
    top = [(str(st.traceback[0]).replace(str(_REPO) + "/", ""), round(st.size / n, 1))
           for st in snap.statistics("lineno")[:8]]
    tracemalloc.stop()
    return {"blobs": n, "edges": g.edge_count, "graph_bytes_per_blob": round((now - base) / n, 1),
            "build_peak_bytes_per_blob": round((peak - base) / n, 1), "build_s_traced": round(took, 1),
            "top_lines_bytes_per_blob": top}


def child(what: str, content: Path):
    proc = subprocess.run([sys.executable, __file__, what, str(content)], capture_output=True, text=True,
                          check=True)
    return json.loads(proc.stdout)


def sha256sum_floor(content: Path) -> float:
    blobs = content / "blobs" / "sha256"
    paths = b"".join(str(blobs / n).encode() + b"\0" for n in os.listdir(blobs))
    cpus = len(os.sched_getaffinity(0))
    t = time.perf_counter()
    subprocess.run(["xargs", "-0", "-P", str(cpus), "-n", "2000", "sha256sum"], input=paths,
                   stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t


# ---------------------------------------------------------------------------- the window
class RssSampler:
    """RSS every 20 ms on a thread: the peak of a phase (VmHWM only ever grows)."""

    def __init__(self):
        self.peak = 0.0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_mib())

    def reset(self) -> None:
        self.peak = rss_mib()

    def stop(self) -> None:
        self._stop.set()


def cpu_s() -> tuple[float, float]:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def measure(content: Path, n: int, result: dict) -> dict:
    import gc

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from gui.context import AppContext
    from gui.main_window import MainWindow
    from store import oci
    from tests.gui.conftest import ScriptedDialogs

    result.update(blobs=n, load_average_start=os.getloadavg()[0])
    expected = child("--expected", content)
    result["floor_unreferenced_python_s"] = round(expected["seconds"], 3)
    result["floor_pread_s"] = round(child("--pread", content), 3)
    result["floor_sha256sum_s"] = round(sha256sum_floor(content), 3)
    drop_media_cache(content)

    app = QApplication.instance() or QApplication([])
    sampler = RssSampler()
    settings = QSettings(str(content.parent / "bench-settings.ini"), QSettings.Format.IniFormat)
    dialogs = ScriptedDialogs()
    window = MainWindow(AppContext(settings=settings, dialogs=dialogs))
    window.resize(1280, 800)
    model = window.blob_model
    marks: dict[str, float] = {}
    window.scanFinished.connect(lambda: marks.setdefault("listed", time.perf_counter()))
    window.mediaTypesDone.connect(lambda: marks.setdefault("media", time.perf_counter()))
    window.graphBuilt.connect(lambda: marks.setdefault("graph", time.perf_counter()))
    window.show()
    app.processEvents()
    result["rss_empty_window_mib"] = round(rss_mib(), 1)
    beat = Heartbeat(open(BM.OPTIONS["trace"], "wb", buffering=0) if BM.OPTIONS["trace"] else None)
    if WORKER_GAPS_FROM["phase"]:
        phase = beat.phase

        def from_phase(name: str = "") -> None:
            if name.startswith(WORKER_GAPS_FROM["phase"]):
                WORKER_GAPS_FROM["on"] = True
            phase(name)
        beat.phase = from_phase  # type: ignore[method-assign]

    # ---- listing, then the cold media types and graph (the window's own passes, started by its timer)
    beat.phase("listing")
    t0 = time.perf_counter()
    window.open_store(str(content))
    assert spin(app, lambda: "listed" in marks, 900), "the listing did not finish"
    result["fully_listed_s"] = round(marks["listed"] - t0, 3)
    result["stall_listing_ms"] = beat.stop()
    result["stall_listing_parts_cpu_queue_blocked_maxcpu"] = BM.STALL_PARTS[-1]
    result["rss_listed_mib"] = round(rss_mib(), 1)
    sampler.reset()
    beat.phase("media types + graph")
    cpu0 = cpu_s()
    assert spin(app, lambda: "graph" in marks, 1800), "the graph was not built"
    cpu1 = cpu_s()
    result["media_types_s"] = round(marks["media"] - marks["listed"], 3)
    result["graph_after_media_s"] = round(marks["graph"] - marks["media"], 3)
    result["cold_media_and_graph_s"] = round(marks["graph"] - marks["listed"], 3)
    result["cold_incl_1s_delay_note"] = "the window waits CLASSIFY_DELAY_MS (1 s) after the listing"
    result["cold_cpu_main_s"] = round(cpu1[0] - cpu0[0], 2)
    result["cold_cpu_workers_s"] = round(cpu1[1] - cpu0[1], 2)
    result["stall_media_and_graph_ms"] = beat.stop()
    result["stall_media_and_graph_parts_cpu_queue_blocked_maxcpu"] = BM.STALL_PARTS[-1]
    result["rss_graph_peak_mib"] = round(sampler.peak, 1)
    spin(app, lambda: False, 1.0)
    gc.collect()
    result["rss_graph_steady_mib"] = round(rss_mib(), 1)
    result["graph_bytes_per_blob"] = round((result["rss_graph_steady_mib"] - result["rss_listed_mib"])
                                           * 2**20 / n, 1)
    result["cold_vs_pread"] = round(result["cold_media_and_graph_s"] / result["floor_pread_s"], 2)
    result["cold_vs_sha256sum"] = round(result["cold_media_and_graph_s"] / result["floor_sha256sum_s"], 2)
    g = window.image_graph.graph
    assert g is not None and len(g.sizes) == n, (g and len(g.sizes), n)
    result["images"] = len(g.image_roots())
    assert result["images"] == expected["images"], (result["images"], expected["images"])

    # ---- the details pane: a manifest, then a shared layer (the graph's references shown at once)
    manifest = next(d for d, ct in g.types.items() if ct.kind == oci.Kind.MANIFEST)
    layer = next(e.child for e in g.children(manifest) if e.name.startswith("l."))
    for name, digest in (("manifest", str(manifest)), ("layer", str(layer))):
        row = model.visible_rows_of([digest])[0]  # the benchmark's look-up, not the window's: before the phase
        app.processEvents()
        beat.phase(f"details {name}")
        t = time.perf_counter()
        window.selection.select_blob_row(row)
        assert spin(app, lambda d=digest: window.details.current == d and window.details.refs.digest == d, 60)
        result[f"details_{name}_ms"] = round((time.perf_counter() - t) * 1000, 1)
        spin(app, lambda: False, 0.5)  # the preview and namespaces follow on their timer
        result[f"stall_details_{name}_ms"] = beat.stop()
        result[f"stall_details_{name}_parts_cpu_queue_blocked_maxcpu"] = BM.STALL_PARTS[-1]
        refs = g.refs(digest)
        result[f"details_{name}_parents"] = len(refs.parents)
        result[f"details_{name}_children"] = len(refs.children)
        assert window.details.refs.tree.topLevelItemCount() > 0

    # ---- Select Unreferenced: the same set as the bare pass over labels.db
    window.selection.clear_blobs()
    app.processEvents()
    beat.phase("select unreferenced")
    sampler.reset()
    t = time.perf_counter()
    window.action_map["actionSelectUnreferenced"].trigger()
    assert spin(app, lambda: window.selection.blob_count() > 0, 120)
    app.processEvents()
    result["select_unreferenced_s"] = round(time.perf_counter() - t, 3)
    result["stall_select_unreferenced_ms"] = beat.stop()
    result["stall_select_unreferenced_parts_cpu_queue_blocked_maxcpu"] = BM.STALL_PARTS[-1]
    result["rss_select_peak_mib"] = round(sampler.peak, 1)
    rids = window.selection.blob_rids()
    digests = sorted(model.columns.digests_of(rids))
    result["unreferenced_selected"] = len(digests)
    result["unreferenced_expected"] = expected["count"]
    assert len(digests) == expected["count"], (len(digests), expected["count"])
    assert hashlib.sha256("\n".join(digests).encode()).hexdigest() == expected["sha256"]
    result["select_unreferenced_vs_python"] = round(result["select_unreferenced_s"] / expected["seconds"], 2)

    # ---- Delete 100k of them (their bytes saved first; put back by the next ensure_store)
    k = min(DELETE, n // 10)
    victims = sorted(model.visible_rows_of(digests))[:k]
    window.selection.select_blob_rows(victims)
    app.processEvents()
    save_for_restore(content, model.columns.digests_of(window.selection.blob_rids()))
    dialogs.answer("confirm", True)
    before = len(g.sizes)
    marks.pop("graph", None)
    beat.phase("delete + graph")
    sampler.reset()
    t = time.perf_counter()
    window.action_map["actionDelete"].trigger()
    assert spin(app, lambda: model.total_count == n - k, 900), model.total_count
    result["delete_s"] = round(time.perf_counter() - t, 3)
    assert spin(app, lambda: "graph" in marks and len(window.image_graph.graph.sizes) == before - k, 900)
    result["delete_to_new_graph_s"] = round(time.perf_counter() - t, 3)
    result["stall_delete_and_graph_ms"] = beat.stop()
    result["stall_delete_and_graph_parts_cpu_queue_blocked_maxcpu"] = BM.STALL_PARTS[-1]
    result["rss_delete_peak_mib"] = round(sampler.peak, 1)
    result["unreferenced_after_delete"] = window.image_graph.graph.space().reclaimable_count
    assert result["unreferenced_after_delete"] == expected["count"] - k
    result["delete_rows"] = k

    result["load_average_end"] = os.getloadavg()[0]
    result["rss_end_mib"] = round(rss_mib(), 1)
    result["rss_peak_mib"] = round(peak_rss_mib(), 1)
    sampler.stop()
    window.close()
    app.processEvents()
    if os.environ.get("BLOBSCOPE_BENCH_TRACEMALLOC", "1") != "0":  # the graph's own bytes, in a child
        result["graph_tracemalloc"] = child("--graph-memory", content)
    return result


def run(n: int) -> dict:
    t = time.perf_counter()
    content = ensure_store(n)
    build_s = time.perf_counter() - t
    from store import LocalStore
    sum(1 for _ in LocalStore(content).walk())  # a warm page cache, as when a store is opened again
    result: dict = {"store_ready_s": round(build_s, 1)}
    try:
        measure(content, n, result)
    finally:
        print(json.dumps(result), file=sys.stderr, flush=True)
    out = _REPO / "tests" / "_artifacts"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"bench_million_graph_{n}.json").write_text(json.dumps(result, indent=2))
    return result


WORKER_GAPS: list[tuple[float, str, str, str]] = []
WORKER_GAPS_FROM = {"phase": "", "on": False}  # --worker-gaps=PHASE: only jobs started from that phase on


def _profile_workers(min_ms: float = 30.0) -> None:
    """``--worker-gaps``: every job of the window's pool runs under a profile hook that notes each
    stretch of more than ``min_ms`` of the worker's own CPU between two calls or returns: a long
    C-level step (a big sort, a dict or list built, copied or freed in one go) that holds the GIL
    while the GUI thread waits for it.  Printed at the end, longest first (slow: the hook runs at
    every call)."""
    from gui import jobs
    run = jobs.Job.run
    clock = time.thread_time

    def where(frame, event, arg) -> str:
        name = getattr(arg, "__qualname__", getattr(arg, "__name__", "")) if event.startswith("c_") else ""
        return f"{event} {Path(frame.f_code.co_filename).name}:{frame.f_lineno} {frame.f_code.co_name} {name}"

    def profiled(self) -> None:
        if not WORKER_GAPS_FROM["on"]:
            return run(self)
        last: list = [clock(), None, "start", None]
        job = self.name

        def hook(frame, event, arg):
            now = clock()
            if now - last[0] > min_ms / 1000:
                before = where(*last[1:]) if last[1] is not None else "start"
                WORKER_GAPS.append((round((now - last[0]) * 1000, 1), job, before, where(frame, event, arg)))
            last[1:] = frame, event, arg
            last[0] = clock()
        sys.setprofile(hook)
        try:
            run(self)
        finally:
            sys.setprofile(None)
    jobs.Job.run = profiled


class _RepeatingDumps:
    """``faulthandler`` for the heartbeat's ``--trace``, dumping every 70 ms for as long as the beat
    is late (not once): a gap of a second shows what held the GIL all through it."""

    def __getattr__(self, name: str):
        import faulthandler
        return getattr(faulthandler, name)

    def dump_traceback_later(self, timeout: float, file) -> None:
        import faulthandler
        faulthandler.dump_traceback_later(timeout, repeat=True, file=file)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--expected"]:
        print(json.dumps(expected_unreferenced(Path(argv[1]))))
        return 0
    if argv[:1] == ["--graph-memory"]:
        print(json.dumps(graph_memory(Path(argv[1]))))
        return 0
    if argv[:1] == ["--pread"]:
        print(json.dumps(pread_floor(Path(argv[1]))))
        return 0
    BM.OPTIONS["sample"] = "--sample" in argv  # print the GUI thread's stacks in each long gap
    BM.OPTIONS["gc"] = "--gc" in argv  # the cyclic GC's collections and the other threads' CPU in each worst gap
    # every thread's stack, written to FILE by faulthandler whenever a beat is 70 ms late (no GIL
    # needed: it shows what a worker holding the GIL was doing).  Reading running threads' frames
    # without the GIL can crash the process (it did once, 2026-12-08): a diagnostic, not a figure
    BM.OPTIONS["trace"] = argv[argv.index("--trace") + 1] if "--trace" in argv else None
    for a in argv:
        if a == "--worker-gaps" or a.startswith("--worker-gaps="):
            WORKER_GAPS_FROM.update(phase=a.partition("=")[2], on=not a.partition("=")[2])
            _profile_workers()
    if BM.OPTIONS["trace"]:
        BM.faulthandler = _RepeatingDumps()
    for a in argv:  # the media-type workers' priority below the window's (store/workers.py), for an A/B run
        if a.startswith("--worker-nice="):
            from store import workers
            workers.BACKGROUND_NICE = int(a.partition("=")[2])
    if "--stalls" in argv:  # stall_sampler.py beside the window: every thread through each phase's worst gap
        os.environ.setdefault("BLOBSCOPE_STALL_KEEP", "150")  # the media + graph phase takes a minute or more
        BM.OPTIONS["stalls"] = BM.OutsideSampler()
    sizes = [int(a) for a in argv if a.isdigit()] or [1_000_000]
    for n in sizes:
        print(json.dumps(run(n), indent=2), flush=True)
    if BM.OPTIONS["stalls"] is not None:
        BM.OPTIONS["stalls"].close()
    for gap in sorted(WORKER_GAPS, reverse=True)[:40]:
        print("worker gap", gap, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
