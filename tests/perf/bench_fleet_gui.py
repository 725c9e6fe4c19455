#!/usr/bin/env python3
"""The Fleet tab against the library it drives, on the same nodes, in one run.

    QT_QPA_PLATFORM=offscreen python tests/perf/bench_fleet_gui.py [--nodes 8] [--blobs 10000] [--runs 2]

N loopback nodes holding the same B blobs behind their own sshd (as bench_fleet.py).  Measured:

* **library**: ``FleetRunner`` over all N at once, then ``blob_rows`` and ``node_rows`` (what the
  tab shows), on a plain thread: the floor;
* **tab**: a ``FleetTab`` from ``start(nodes)`` to ``queryFinished`` (events queued to the GUI
  thread, the merge on the job pool, the models filled);
* **stall**: the longest the GUI thread went without running a 5 ms timer during the tab's run
  (design.md §8: no stall > 50 ms; > 100 ms under load).

Prints ``key=value`` lines and tab / library.  Nothing asserts a timing; it fails only when a
count is wrong.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from store.fleet import FleetRunner, SshOptions, queries, read_fleet  # noqa: E402
from tests.perf.bench_fleet import emit, seed  # noqa: E402
from tests.support.sshd import FleetLab  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=8)
    ap.add_argument("--blobs", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=2)
    a = ap.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from gui.fleet.fleet_tab import FleetTab
    from gui.jobs import JobRunner

    app = QApplication.instance() or QApplication([])
    base = Path(tempfile.mkdtemp(prefix="bench-fleet-gui-"))
    bad: list = []
    try:
        root = seed(base, a.blobs)
        with FleetLab(base, a.nodes, seed_root=root) as lab:
            fleet = base / "fleet.txt"
            lab.write_fleet(fleet)
            nodes = read_fleet(fleet)
            ssh = SshOptions(config=str(lab.client.config))

            def library() -> float:
                t = time.perf_counter()
                outs = FleetRunner(nodes, queries.inventory_task(), ssh=ssh, workers=a.nodes).run()
                rows = queries.blob_rows(outs)
                queries.node_rows(outs)
                took = time.perf_counter() - t
                if len(rows) != a.blobs or not all(o.ok for o in outs):
                    bad.append(("library", len(rows), [o.reason for o in outs if not o.ok]))
                return took

            runner = JobRunner()
            tab = FleetTab(runner, lambda: ssh)
            tab.resize(1200, 800)
            tab.show()

            def gui() -> tuple[float, float]:
                loop = QEventLoop()
                tab.queryFinished.connect(loop.quit)
                clock, gap = QElapsedTimer(), [0.0]
                tick = QTimer()
                tick.setInterval(5)

                def beat() -> None:
                    gap[0] = max(gap[0], clock.restart() / 1000)
                tick.timeout.connect(beat)
                t = time.perf_counter()
                clock.start()
                tick.start()
                tab.start(nodes)
                loop.exec()
                took = time.perf_counter() - t
                tick.stop()
                tab.queryFinished.disconnect(loop.quit)
                if tab.digests.rowCount() != a.blobs or set(tab.node_table.states.values()) != {"done"}:
                    bad.append(("tab", tab.digests.rowCount(), tab.node_table.states))
                return took, gap[0]

            lib_s = min(library() for _ in range(a.runs))
            runs = [gui() for _ in range(a.runs)]
            tab_s, stall_s = min(r[0] for r in runs), max(r[1] for r in runs)
            tab.stop()
            runner.wait()
            emit(nodes=a.nodes, blobs=a.blobs, library_s=lib_s, tab_s=tab_s, max_gui_stall_s=stall_s,
                 load1=os.getloadavg()[0])
            print(f"\n{'what':<34}{'seconds':>9}{'ratio':>9}")
            print(f"{'tab / library':<34}{tab_s:>9.3f}{tab_s / lib_s:>9.2f}")
            print(f"{'longest GUI-thread stall / 50 ms':<34}{stall_s:>9.3f}{stall_s / 0.05:>9.2f}")
        app.processEvents()
        if bad:
            print(f"WRONG COUNTS: {bad}", file=sys.stderr)
            return 1
        return 0
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
