#!/usr/bin/env python3
"""What the fleet's extra figures cost: reclaimable bytes (the live GC dry run through each node's
tunnel) and image records, against the plain inventory, in one run.

    python tests/perf/bench_fleet_reclaim.py [--nodes 4] [--blobs 10000] [--runs 3]

N loopback nodes, each a private containerd holding the same B blobs (tests/perf/bench_fleet.py's
seed) behind its own sshd.  Interleaved, best of ``--runs``, over the whole fleet (``-j N``):

* **plain**: ``queries.inventory_task()`` (what ``ls``/``df --no-reclaimable`` ask);
* **images**: ``inventory_task(images=True)`` (what ``diff`` asks);
* **reclaimable**: ``inventory_task(reclaimable=True)`` (what ``df`` and the Fleet tab ask).

Prints wall seconds, this process's CPU seconds, and each against plain.  Nothing asserts a
timing; the run fails only when a count is wrong.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from store.fleet import FleetRunner, SshOptions, queries, read_fleet  # noqa: E402
from tests.perf.bench_fleet import seed  # noqa: E402
from tests.support.sshd import FleetLab  # noqa: E402


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=4)
    ap.add_argument("--blobs", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="bench-fleet-reclaim-"))
    try:
        root = seed(base, a.blobs)
        with FleetLab(base, a.nodes, seed_root=root) as lab:
            fleet = base / "fleet.txt"
            lab.write_fleet(fleet)
            nodes = read_fleet(fleet)
            ssh = SshOptions(config=str(lab.client.config))
            tasks = {"plain": queries.inventory_task(), "images": queries.inventory_task(images=True),
                     "reclaimable": queries.inventory_task(reclaimable=True)}
            best: dict[str, tuple[float, float]] = {}
            bad = []
            for _ in range(a.runs):
                for name, task in tasks.items():  # interleaved: the same load for each
                    c, t = cpu(), time.perf_counter()
                    outs = FleetRunner(nodes, task, ssh=ssh, workers=a.nodes).run()
                    wall, used = time.perf_counter() - t, cpu() - c
                    for o in outs:
                        if not o.ok or len(o.result.blobs) != a.blobs:
                            bad.append((name, o.node.name, o.reason))
                        elif name == "reclaimable" and o.result.reclaimable != 0:
                            bad.append((name, o.node.name, o.result.reclaimable, o.result.reclaimable_error))
                    if name not in best or wall < best[name][0]:
                        best[name] = (wall, used)
            print(f"nodes={a.nodes} blobs={a.blobs} runs={a.runs} cores={os.cpu_count()} "
                  f"load1={os.getloadavg()[0]:.2f}")
            print(f"\n{'task':<14}{'wall s':>9}{'vs plain':>10}{'cpu s':>9}{'vs plain':>10}")
            pw, pc = best["plain"]
            for name, (w, c) in best.items():
                print(f"{name:<14}{w:>9.3f}{w / pw:>10.2f}{c:>9.3f}{c / pc:>10.2f}")
            if bad:
                print(f"WRONG: {bad[:5]}", file=sys.stderr)
                return 1
        return 0
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
