"""The Disk tab with 100k blobs, 10k snapshots, 5k images and 1k leases: the longest GUI-thread stall.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python tests/perf/bench_disk_gui.py``
or ``.venv/bin/python -m pytest -m perf tests/perf/bench_disk_gui.py -s``.

The model is synthetic (tests/support/synthetic_disk.py: store/disk's records built directly, the
real GC dry run over them).  A 5 ms heartbeat timer on the GUI thread records how late each tick
comes while the tab gets a partial tree (content only), then the whole one, is resized three
times (each a treemap laid out and painted on the job pool), and 60 items are selected from the
tree, the treemap and why-chain links.  Then one selection rests, and the walk for every root
that keeps it runs on a worker: its stall is reported on its own (``every_root_*``).  Target (issue 10): no stall over 50 ms; each figure is
printed with its ratio to that floor, and the longest stall also beside the peer measured in
the same run: the longest late tick of the same heartbeat over 3 s with nothing to do (what the
machine's load alone costs).
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
_REPO = Path(__file__).resolve().parents[2]
if str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))

import pytest  # noqa: E402

FLOOR_MS = 50.0
SIZE = {"blobs": 100_000, "snapshots": 10_000, "images": 5_000, "leases": 1_000}


def _wait(app, predicate, timeout: float = 120.0) -> None:
    end = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > end:
            raise TimeoutError("the Disk tab did not finish in time")
        app.processEvents()
        time.sleep(0.001)


def run(size: dict | None = None) -> dict:
    from dataclasses import replace

    from PySide6.QtCore import QElapsedTimer, QPoint, Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from gui.disk.disk_tab import DiskTab
    from gui.disk.disk_tree import KIND_ITEM, build_tree
    from gui.jobs import JobRunner
    from tests.support.synthetic_disk import synthetic_facts

    size = dict(size or SIZE)
    app = QApplication.instance() or QApplication([])
    t = time.perf_counter()
    facts = synthetic_facts(**size)
    facts_s = time.perf_counter() - t
    t = time.perf_counter()
    partial = build_tree(replace(facts, snapshot_rows=None))
    full = build_tree(facts)
    build_s = (time.perf_counter() - t) / 2  # each tree, as the worker builds it

    runner = JobRunner()
    tab = DiskTab(runner)
    tab.resize(1300, 800)
    tab.show()
    app.processEvents()
    pictures = []
    tab.pictureReady.connect(lambda: pictures.append(time.perf_counter()))

    stalls: list[float] = []
    clock = QElapsedTimer()
    last = [0]
    beat = QTimer()
    beat.setInterval(5)

    def tick():
        now = clock.elapsed()
        stalls.append(now - last[0] - 5)
        last[0] = now

    beat.timeout.connect(tick)
    clock.start()
    beat.start()
    result: dict = {**size, "items": full.root.count}

    def step(name: str, fn) -> None:
        before, first = len(pictures), len(stalls)
        t0 = time.perf_counter()
        fn()
        _wait(app, lambda: len(pictures) > before)
        result[f"{name}_to_picture_s"] = round(time.perf_counter() - t0, 3)
        result[f"{name}_longest_stall_ms"] = round(max(stalls[first:], default=0.0), 1)

    # the peer: the same heartbeat with nothing to do, for as long as the steps below take; on a
    # loaded machine the scheduler alone delays ticks, and that is not the tab's doing
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < 3.0:
        app.processEvents()
        time.sleep(0.001)
    idle = max(stalls, default=0.0)
    first_busy = len(stalls)
    step("partial_tree", lambda: tab.set_tree(partial))
    step("full_tree", lambda: tab.set_tree(full))
    for i, (w, h) in enumerate(((1000, 700), (1500, 900), (1300, 800))):
        step(f"resize{i}", lambda w=w, h=h: tab.resize(w, h))
    rnd = random.Random(7)
    items = [n for n in full.by_ident.values() if n.kind == KIND_ITEM]
    select_ms = []
    first = len(stalls)
    for node in rnd.sample(items, 20):  # from the tree (expanding a namespace of 90k blobs)
        t0 = time.perf_counter()
        tab.select_node(node)
        app.processEvents()
        select_ms.append((time.perf_counter() - t0) * 1000)
    pic = tab.treemap.picture
    assert pic is not None
    for x, y, w, h, _node, _what in rnd.sample(pic.rects, 20):  # from the treemap
        t0 = time.perf_counter()
        QTest.mouseClick(tab.treemap, Qt.MouseButton.LeftButton, pos=QPoint(int(x + w / 2), int(y + h / 2)))
        app.processEvents()
        select_ms.append((time.perf_counter() - t0) * 1000)
    alive = [n for n in items if len(n.why) > 1]
    for node in rnd.sample(alive, 20):  # from a why chain's first link
        tab.select_node(node)
        app.processEvents()
        t0 = time.perf_counter()
        tab.details.chain.itemClicked.emit(tab.details.chain.item(0))
        app.processEvents()
        select_ms.append((time.perf_counter() - t0) * 1000)
    result["selections_longest_stall_ms"] = round(max(stalls[first:], default=0.0), 1)
    # then one selection rests: every root keeping it is looked for on a worker (a backward walk
    # over the namespace's 100k records), while the heartbeat goes on
    first = len(stalls)
    shown = []
    tab.rootsShown.connect(lambda: shown.append(True))
    kept = full.find("snapshot:default:overlayfs/chain-0-0")  # kept by its image and a container
    assert kept is not None
    t0 = time.perf_counter()
    tab.select_node(kept)
    _wait(app, lambda: bool(shown) or time.perf_counter() - t0 > 60)
    result["every_root_s"] = round(time.perf_counter() - t0, 2)
    result["every_root_roots"] = len(tab.details.roots())
    result["every_root_longest_stall_ms"] = round(max(stalls[first:], default=0.0), 1)
    beat.stop()
    runner.wait()
    tab.close()
    longest = max(stalls[first_busy:first], default=0.0)  # the roots' walk is reported on its own
    result.update({
        "idle_longest_stall_ms": round(idle, 1),
        "longest_gui_stall_vs_idle": round(longest / max(idle, 1.0), 2),
        "synthetic_model_s": round(facts_s, 2),
        "tree_build_on_worker_s": round(build_s, 2),
        "treemap_rects": len(pic.rects),
        "longest_gui_stall_ms": round(longest, 1),
        "longest_gui_stall_vs_50ms_floor": round(longest / FLOOR_MS, 2),
        "longest_selection_ms": round(max(select_ms), 1),
        "longest_selection_vs_50ms_floor": round(max(select_ms) / FLOOR_MS, 2),
        "median_selection_ms": round(sorted(select_ms)[len(select_ms) // 2], 1),
    })
    out = _REPO / "tests" / "_artifacts"
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_disk_gui.json").write_text(json.dumps(result, indent=2))
    return result


@pytest.mark.perf
def test_bench_disk_gui():
    result = run()
    print(json.dumps(result, indent=2))
    assert result["items"] > SIZE["blobs"]


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
