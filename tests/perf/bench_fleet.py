#!/usr/bin/env python3
"""The fleet inventory against its own nodes one by one and against a shell loop, in one run.

    python tests/perf/bench_fleet.py [--nodes 8] [--blobs 10000] [--runs 2]

N loopback nodes, each a private containerd holding the same B blobs (one daemon is filled, its
stopped root copied to the others) behind its own sshd (tests/support/sshd.py).  Measured:

* **single**: the inventory (tunnel, List, ListStatuses, tunnel down) of each node alone;
  the slowest one and the sum of all;
* **fleet**: :class:`store.fleet.FleetRunner` over all N at once (``-j N``);
* **blobctl**: ``blobctl --fleet FILE ls --json > /dev/null`` as a process (Python start-up,
  the merge and the JSON included);
* **xargs**: ``ssh node ctr -a SOCKET content ls`` for every node, ``xargs -P N`` in parallel
  (ctr on the "remote", which is this machine).

Prints ``key=value`` lines and the ratios: fleet / slowest single (goal <= 1.5), fleet / sum,
fleet / xargs.  Nothing asserts a timing; the run fails only when a count is wrong.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from store.containerd import ContainerdStore  # noqa: E402
from store.fleet import FleetRunner, SshOptions, queries, read_fleet  # noqa: E402
from tests.support.containerd import CTR, ContainerdDaemon  # noqa: E402
from tests.support.sshd import FleetLab  # noqa: E402


def emit(**kv) -> None:
    print(" ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in kv.items()), flush=True)


def best(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def seed(base: Path, count: int) -> Path:
    """A stopped containerd root holding ``count`` small blobs kept by gc.root."""
    with ContainerdDaemon(base, name="seed") as d:
        with ContainerdStore(d.address) as store:
            lease = store.create_lease()
            leased = store.with_lease(lease)

            def one(i: int) -> None:
                data = f"fleet bench blob {i:08d} ".encode() * 4
                with leased.writer(f"s{i}", total=len(data)) as w:
                    w.write(data)
                    w.commit(len(data))  # gc_root=True by default: kept once the lease ends

            t = time.perf_counter()
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(one, range(count)))
            store.delete_lease(lease)
            emit(seed_blobs=count, seed_s=time.perf_counter() - t)
        root = d.root
    return root


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=8)
    ap.add_argument("--blobs", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=2)
    a = ap.parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="bench-fleet-"))
    try:
        root = seed(base, a.blobs)
        with FleetLab(base, a.nodes, seed_root=root) as lab:
            fleet = base / "fleet.txt"
            names = lab.write_fleet(fleet)
            nodes = read_fleet(fleet)
            ssh = SshOptions(config=str(lab.client.config))
            task = queries.inventory_task()
            bad = []

            def inventory(which, workers):
                outs = FleetRunner(which, task, ssh=ssh, workers=workers).run()
                for o in outs:
                    if not o.ok or len(o.result.blobs) != a.blobs:
                        bad.append((o.node.name, o.reason, len(o.result.blobs) if o.ok else None))
                return outs

            singles = [best(lambda n=n: inventory([n], 1), a.runs) for n in nodes]
            for name, t in zip(names, singles):
                emit(single_node=name.split("/")[2], single_s=t)
            fleet_s = best(lambda: inventory(nodes, a.nodes), a.runs)
            blobctl_s = best(lambda: subprocess.run(
                [sys.executable, "-m", "store", "--fleet", str(fleet), "--ssh-config", str(lab.client.config),
                 "-j", str(a.nodes), "ls", "--json"], check=True, stdout=subprocess.DEVNULL, cwd=REPO), a.runs)
            lines = "".join(f"{i} {s.port} {d.address}\n" for i, (s, d) in enumerate(zip(lab.servers, lab.daemons)))
            outs = base / "xargs"
            outs.mkdir()
            # one output file per node: concurrent writers to one file would split lines
            script = (f'ssh -F {lab.client.config} -o BatchMode=yes -p "$1" root@127.0.0.1 '
                      f'{CTR} -a "$2" content ls > {outs}/"$0".out')

            def xargs():
                subprocess.run(["xargs", "-P", str(a.nodes), "-L", "1", "sh", "-c", script], input=lines.encode(),
                               check=True)
            xargs_s = best(xargs, a.runs)
            for f in sorted(outs.iterdir()):
                listed = sum(1 for line in f.read_text().splitlines() if line.startswith("sha256:"))
                if listed != a.blobs:
                    bad.append((f"xargs {f.name}", listed, a.blobs))
            slowest, total = max(singles), sum(singles)
            cores = os.cpu_count() or 1
            emit(nodes=a.nodes, blobs=a.blobs, cores=cores, fleet_s=fleet_s, slowest_single_s=slowest,
                 sum_single_s=total, blobctl_s=blobctl_s, xargs_s=xargs_s, load1=os.getloadavg()[0])
            print(f"\n{'what':<34}{'seconds':>9}{'ratio':>9}")
            for label, t, peer in (("fleet / slowest single node", fleet_s, slowest),
                                   ("fleet / sum of single nodes", fleet_s, total),
                                   # every node is on this machine: N daemons, sshds and clients share
                                   # its cores, so sum/cores bounds the fleet from below if nodes are CPU-bound
                                   ("fleet / (sum / cores)", fleet_s, total / cores),
                                   ("fleet / xargs -P ssh ctr ls", fleet_s, xargs_s),
                                   ("blobctl --fleet ls / xargs", blobctl_s, xargs_s)):
                print(f"{label:<34}{t:>9.3f}{t / peer:>9.2f}")
            if bad:
                print(f"WRONG COUNTS: {bad}", file=sys.stderr)
                return 1
        return 0
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
