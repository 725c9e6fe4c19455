"""Where the window's memory goes once the image graph is built over the cached million-blob store
(issue 12's "RSS of the whole application < 700 MiB"): RSS after the listing and with the graph
steady, then the split of that RSS into live Python objects (pymalloc blocks in use and big
objects), pymalloc arenas held but free (fragmentation), and the rest (Qt, libraries, malloc's own
free lists: what ``malloc_trim(0)`` gives back is printed).

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python tests/perf/bench_graph_memory.py [N] [options]``
on the store of tests/perf/bench_million_graph.py (its cache, ``graph-<N>``; default 1000000; the
media-type cache is dropped first, as there: media types and graph start cold).  One JSON object
on stdout.  Options:

* ``--steps``: RSS and pymalloc's arenas before and after each big step of the graph job
  (the build, the write-out, the drop and trim, the read-back, the unreferenced rows);
* ``--survivors`` (with ``--steps``): tracemalloc from the end of the listing; what was allocated
  since and is still alive when the built graph has been dropped, before it is read back (what
  keeps the arenas of the temporaries), by line (slow: minutes more at 1M);
* ``--types``: live objects by type (gc.get_objects(); what the graph job froze with
  ``gc.freeze()`` is not among them).

Under ``PYTHONMALLOC=malloc`` the pymalloc figures are -1 (no arenas): RSS alone compares.
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import re
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
_REPO = Path(__file__).resolve().parents[2]
if str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))

from tests.perf.bench_million import rss_mib, spin  # noqa: E402
from tests.perf.bench_million_graph import drop_media_cache, ensure_store  # noqa: E402


def smaps_rollup() -> dict:
    out = {}
    with open("/proc/self/smaps_rollup") as f:
        for line in f:
            m = re.match(r"(Rss|Anonymous|Private_Dirty|Shared_Clean|Private_Clean):\s+(\d+)", line)
            if m:
                out[m.group(1)] = round(int(m.group(2)) / 1024, 1)
    return out


def pymalloc() -> dict:
    """pymalloc's arenas (1 MiB each, held from the system while any block in them is used), the
    bytes in used blocks, in free blocks of used pools, and in wholly unused pools of those arenas
    (free but resident: the fragmentation), from ``sys._debugmallocstats()`` (written to fd 2)."""
    import tempfile
    fd = os.dup(2)
    with tempfile.TemporaryFile(mode="w+") as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(fd, 2)
            os.close(fd)
        tmp.seek(0)
        text = tmp.read()

    def num(label: str) -> int:
        m = re.search(re.escape(label) + r"\s*=?\s*([\d,]+)", text)
        return int(m.group(1).replace(",", "")) if m else -1
    pools = re.search(r"(\d+) unused pools \* (\d+) bytes", text)
    return {"arenas_mib": float(num("# arenas allocated current")),
            "used_blocks_mib": round(num("# bytes in allocated blocks") / 2**20, 1),
            "free_blocks_mib": round(num("# bytes in available blocks") / 2**20, 1),
            "unused_pools_mib": round(int(pools.group(1)) * int(pools.group(2)) / 2**20, 1) if pools else -1}


def by_type(limit: int = 15) -> list:
    counts: dict[str, list[int]] = {}
    for o in gc.get_objects():
        t = type(o).__name__
        c = counts.setdefault(t, [0, 0])
        c[0] += 1
        c[1] += sys.getsizeof(o)
    return sorted(((t, n, round(s / 2**20, 1)) for t, (n, s) in counts.items()), key=lambda x: -x[2])[:limit]


def trim() -> float:
    before = rss_mib()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    return round(before - rss_mib(), 1)


STEPS: list = []
SURVIVORS: list | None = None
COLLECT = "--collect" in sys.argv  # a full collection before the read-back (what cyclic garbage holds)


def trace_steps() -> None:
    """pymalloc's arenas before and after the graph job's big steps."""
    from gui.images import graph_ops, image_graph
    from store import graph_copy

    def wrap(mod, name: str) -> None:
        fn = getattr(mod, name)

        def traced(*a, **k):
            if name == "from_bytes" and SURVIVORS is not None:
                import tracemalloc
                snap = tracemalloc.take_snapshot()
                stats = snap.statistics("traceback")  # the big ones, then the many small ones
                for st in stats[:8] + sorted(stats[8:], key=lambda st: -st.count)[:30]:
                    where = " < ".join(f"{Path(f.filename).name}:{f.lineno}" for f in reversed(st.traceback))
                    SURVIVORS.append((where, st.count, round(st.size / 2**20, 2)))
                tracemalloc.stop()
            STEPS.append((f"before {name}", round(rss_mib(), 1), pymalloc()))
            if name == "from_bytes" and COLLECT:
                found = gc.collect()
                STEPS.append((f"gc.collect() found {found}", round(rss_mib(), 1), pymalloc()))
            try:
                return fn(*a, **k)
            finally:
                STEPS.append((f"after {name}", round(rss_mib(), 1), pymalloc()))
        setattr(mod, name, traced)
    wrap(graph_copy, "to_bytes")
    wrap(graph_copy, "from_bytes")
    wrap(graph_ops, "release_freed_memory")
    wrap(image_graph, "unreferenced_rows")
    wrap(graph_ops, "build_graph")


def main(argv: list[str]) -> int:
    if "--steps" in argv:
        trace_steps()
    n = next((int(a) for a in argv if a.isdigit()), 1_000_000)
    content = ensure_store(n)
    drop_media_cache(content)
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from gui.context import AppContext
    from gui.main_window import MainWindow
    from store import workers
    from tests.gui.conftest import ScriptedDialogs
    workers.warm_up()  # as gui/app.py does at launch
    app = QApplication.instance() or QApplication([])
    settings = QSettings(str(content.parent / "bench-settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(AppContext(settings=settings, dialogs=ScriptedDialogs()))
    window.resize(1280, 800)
    marks: dict[str, float] = {}
    window.scanFinished.connect(lambda: marks.setdefault("listed", time.perf_counter()))
    window.graphBuilt.connect(lambda: marks.setdefault("graph", time.perf_counter()))
    window.show()
    app.processEvents()
    out: dict = {"blobs": n, "rss_empty_window_mib": round(rss_mib(), 1), "load_average": os.getloadavg()[0]}
    window.open_store(str(content))
    assert spin(app, lambda: "listed" in marks, 900)
    out["rss_listed_mib"] = round(rss_mib(), 1)
    out["pymalloc_listed"] = pymalloc()
    if "--survivors" in argv:
        import tracemalloc
        global SURVIVORS
        SURVIVORS = []
        tracemalloc.start(12)
    peak = [0.0]
    import threading
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.02):
            peak[0] = max(peak[0], rss_mib())
    threading.Thread(target=sample, daemon=True).start()
    assert spin(app, lambda: "graph" in marks, 1800)
    out["cold_media_and_graph_s"] = round(marks["graph"] - marks["listed"], 1)
    spin(app, lambda: False, 1.0)
    gc.collect()
    stop.set()
    out["rss_graph_peak_mib"] = round(peak[0], 1)
    out["rss_graph_steady_mib"] = round(rss_mib(), 1)
    out["smaps_graph"] = smaps_rollup()
    out["pymalloc_graph"] = pymalloc()
    if "--types" in argv:
        out["types_graph"] = by_type()
    out["steps"] = STEPS
    if SURVIVORS is not None:
        out["survivors"] = SURVIVORS
    out["malloc_trim_gives_mib"] = trim()
    out["rss_after_trim_mib"] = round(rss_mib(), 1)
    print(json.dumps(out, indent=1), flush=True)
    window.close()
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
