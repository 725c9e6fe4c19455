#!/usr/bin/env python3
"""A fleet refresh that lists only what changed, against listing every node, in one run.

    python tests/perf/bench_fleet_refresh.py [--nodes 8] [--blobs 10000] [--runs 3]

N loopback nodes holding B blobs each (bench_fleet.py's seeded root) behind their own sshd.
Measured, interleaved, best of ``--runs``:

* **runner** (the peer: what a refresh did before sessions): ``FleetRunner`` over all N, each
  node opening, using and closing its own tunnel;
* **all**: ``FleetSession.refresh(everything=True)``: every node listed through the session's
  kept tunnels;
* **one**: ``refresh([node])``: one node asked for, the others unchanged;
* **unchanged**: ``refresh()`` with no event since: nobody contacted;
* **delete**: one blob deleted on one node, its event awaited, then ``refresh()`` (applied to the
  cached listing, nobody listed).

Prints ``key=value`` lines and each figure's ratio to the runner's, with this process's CPU
seconds.  Nothing asserts a timing; the run fails only when a listing or a plan is wrong.
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

from store.containerd import ContainerdStore  # noqa: E402
from store.fleet import FleetRunner, SshOptions, queries, read_fleet  # noqa: E402
from store.fleet.session import FleetSession, Why  # noqa: E402
from tests.perf.bench_fleet import emit, seed  # noqa: E402
from tests.support.sshd import FleetLab  # noqa: E402


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=8)
    ap.add_argument("--blobs", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="bench-refresh-"))
    bad: list = []
    try:
        root = seed(base, a.blobs)
        with FleetLab(base, a.nodes, seed_root=root) as lab:
            fleet = base / "fleet.txt"
            lab.write_fleet(fleet)
            nodes = read_fleet(fleet)
            ssh = SshOptions(config=str(lab.client.config))
            task = queries.inventory_task()
            best: dict[str, tuple[float, float]] = {}

            def keep(label: str, wall: float, cpu: float) -> None:
                if label not in best or wall < best[label][0]:
                    best[label] = (wall, cpu)

            with FleetSession(nodes, ssh=ssh, workers=a.nodes) as session:
                session.refresh()
                for run in range(a.runs):
                    wall, cpu, outs = timed(lambda: FleetRunner(nodes, task, ssh=ssh, workers=a.nodes).run())
                    keep("runner", wall, cpu)
                    expected = [a.blobs - run] + [a.blobs] * (a.nodes - 1)  # one blob of node 0 deleted a run
                    bad += [o.node.name for o, n in zip(outs, expected) if not o.ok or len(o.result.blobs) != n]
                    wall, cpu, r = timed(lambda: session.refresh(everything=True))
                    keep("all", wall, cpu)
                    bad += [] if r.listed == [n.name for n in nodes] else ["all: " + str(r.why)]
                    wall, cpu, r = timed(lambda run=run: session.refresh([nodes[run % a.nodes].name]))
                    keep("one", wall, cpu)
                    bad += [] if r.listed == [nodes[run % a.nodes].name] else ["one: " + str(r.why)]
                    wall, cpu, r = timed(session.refresh)
                    keep("unchanged", wall, cpu)
                    bad += [] if r.listed == [] else ["unchanged: " + str(r.why)]
                    victim = next(iter(r.outcomes[0].result.blobs))
                    with ContainerdStore(lab.daemons[0].address) as s:
                        s.delete(victim)
                    deadline = time.monotonic() + 30
                    # the event travels daemon -> sshd -> ssh -> the watch thread: wait for it, untimed
                    while victim not in session._watches[nodes[0].name].deleted and time.monotonic() < deadline:  # noqa: SLF001
                        time.sleep(0.01)
                    wall, cpu, r = timed(session.refresh)
                    keep("delete", wall, cpu)
                    if r.listed or r.applied != {nodes[0].name: [victim]} or victim in r.outcomes[0].result.blobs:
                        bad.append(f"delete: {r.why} {r.applied}")
                    if any(w is not Why.UNCHANGED for w in r.why.values()):
                        bad.append(f"delete plan: {r.why}")
            peer = best["runner"][0]
            emit(nodes=a.nodes, blobs=a.blobs, cores=os.cpu_count() or 1, load1=os.getloadavg()[0],
                 **{f"{k}_s": v[0] for k, v in best.items()}, **{f"{k}_cpu_s": v[1] for k, v in best.items()})
            print(f"\n{'what (best of ' + str(a.runs) + ')':<44}{'seconds':>9}{'cpu s':>8}{'/runner':>9}")
            for label, key in (("FleetRunner, every node, own tunnels", "runner"),
                               ("refresh all, kept tunnels", "all"), ("refresh one asked node", "one"),
                               ("refresh, nothing changed", "unchanged"), ("refresh after one delete", "delete")):
                wall, cpu = best[key]
                print(f"{label:<44}{wall:>9.3f}{cpu:>8.3f}{wall / peer:>9.3f}")
        if bad:
            print(f"WRONG: {bad}", file=sys.stderr)
            return 1
        return 0
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
