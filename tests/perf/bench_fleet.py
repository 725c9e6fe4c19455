#!/usr/bin/env python3
"""The fleet inventory against its own nodes one by one and against a shell loop, in one run.

    python tests/perf/bench_fleet.py [--nodes 8] [--blobs 10000] [--runs 2] [--seed-cache DIR]

N loopback nodes, each a private containerd holding the same B blobs (one daemon is filled, its
stopped root copied to the others; ``--seed-cache`` keeps that root between invocations) behind
its own sshd (tests/support/sshd.py).  Every step is measured for its wall time and for its CPU
seconds on each side (tests/perf/cpu_split.py): **ours** (this process, and the ssh clients) and
the **nodes'** (their sshds with every session process, their containerds).  Rounds interleave
all steps, so a change of the machine's load hits them alike:

* **single**: the inventory (tunnel, List, ListStatuses, snapshots, tunnel down) of each node
  alone, through :class:`store.fleet.FleetRunner`; the slowest one, the median and the sum;
* **fleet**: ``FleetRunner`` over all N at once (``-j N``);
* **xargs**: ``ssh node ctr -a SOCKET content ls`` for every node, ``xargs -P N`` in parallel
  (ctr on the "node", which is this machine);
* **blobctl**: ``blobctl --fleet FILE ls --json > /dev/null`` as a process (Python start-up,
  the merge and the JSON included);
* **warm single / warm fleet**: the same inventory task over tunnels opened beforehand and kept
  (what a refresh of ``store.fleet.session`` does): no key exchange on either side in the figure.

Two ssh configurations, each a complete round of the cold steps: ``default`` (OpenSSH's own
defaults; 9.2 negotiates sntrup761x25519-sha512 for the key exchange) and ``x25519`` (the same
ssh_config plus ``KexAlgorithms curve25519-sha256``, a line an operator may choose to add; it
drops the post-quantum hybrid).  The xargs loop uses the same ssh_config as the fleet it is
compared with.

The nodes' sshds get ``SetEnv SHLVL=1``: this machine's root ``.bashrc`` runs ``pyenv init``
(about 0.13 s of CPU) in every shell sshd starts for a command, which would slow the xargs loop
for a reason no real node has; with SHLVL set bash does not read it.  Tunnels run no shell.

Prints ``key=value`` lines and tables with the ratios.  Nothing asserts a timing; the run fails
only when a count is wrong.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
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
from store.fleet.runner import NodeQuery  # noqa: E402
from store.fleet.tunnel import CONNECT_TIMEOUT, Tunnel  # noqa: E402
from tests.perf.cpu_split import KINDS, CpuSplit, Step  # noqa: E402
from tests.support.containerd import CTR, ContainerdDaemon  # noqa: E402
from tests.support.sshd import FleetLab  # noqa: E402

X25519 = "KexAlgorithms curve25519-sha256"


def emit(**kv) -> None:
    print(" ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in kv.items()), flush=True)


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


def seeded_root(base: Path, count: int, cache: Path | None) -> Path:
    """The seeded root, from ``cache`` when it holds one of ``count`` blobs (else made, and kept there)."""
    if cache is not None:
        done = cache / f"root-{count}"
        if (done / ".complete").exists():
            emit(seed_blobs=count, seed_cache=str(done))
            return done
    root = seed(base, count)
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(done, ignore_errors=True)
        shutil.copytree(root, done, symlinks=True)
        (done / ".complete").write_text("")
        return done
    return root


class Samples:
    """Steps by label, in the order measured."""

    def __init__(self) -> None:
        self.steps: dict[str, list[Step]] = {}

    def add(self, label: str, step: Step) -> None:
        self.steps.setdefault(label, []).append(step)

    def best(self, label: str) -> Step:
        """The fastest run's wall time, with the median CPU of all runs (CPU varies less than wall)."""
        steps = self.steps[label]
        return Step(min(s.wall for s in steps), {k: statistics.median(s.cpu[k] for s in steps) for k in KINDS})


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=8)
    ap.add_argument("--blobs", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--seed-cache", type=Path, default=None,
                    help="keep the seeded daemon root here and reuse it in later runs")
    a = ap.parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="bench-fleet-"))
    try:
        root = seeded_root(base, a.blobs, a.seed_cache)
        with FleetLab(base, a.nodes, seed_root=root) as lab:
            for server in lab.servers:
                server.extra_config = ("SetEnv SHLVL=1",)  # see the module doc
                server.restart()
            return _bench(a, base, lab)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _bench(a, base: Path, lab: FleetLab) -> int:
    fleet = base / "fleet.txt"
    lab.write_fleet(fleet)
    nodes = read_fleet(fleet)
    configs = {"default": lab.client.config, "x25519": base / "ssh_config.x25519"}
    configs["x25519"].write_text(f"Host *\n  {X25519}\n" + lab.client.config.read_text())
    meter = CpuSplit([s.pid for s in lab.servers], [d.pid for d in lab.daemons])
    task = queries.inventory_task()
    samples = Samples()
    bad: list = []

    def check(outs):
        for o in outs:
            if not o.ok or len(o.result.blobs) != a.blobs:
                bad.append((o.node.name, o.reason, len(o.result.blobs) if o.ok else None))

    def inventory(which, ssh):
        outs = FleetRunner(which, task, ssh=ssh, workers=len(which)).run()
        check(outs)

    lines = "".join(f"{i} {s.port} {d.address}\n" for i, (s, d) in enumerate(zip(lab.servers, lab.daemons)))
    outs = base / "xargs"
    outs.mkdir()

    def xargs(config: Path):
        # one output file per node: concurrent writers to one file would split lines
        script = (f'ssh -F {config} -o BatchMode=yes -p "$1" root@127.0.0.1 '
                  f'{CTR} -a "$2" content ls > {outs}/"$0".out')
        subprocess.run(["xargs", "-P", str(a.nodes), "-L", "1", "sh", "-c", script], input=lines.encode(), check=True)
        for f in sorted(outs.iterdir()):
            listed = sum(1 for line in f.read_text().splitlines() if line.startswith("sha256:"))
            if listed != a.blobs:
                bad.append((f"xargs {f.name}", listed, a.blobs))

    def blobctl():
        subprocess.run([sys.executable, "-m", "store", "--fleet", str(fleet), "--ssh-config", str(lab.client.config),
                        "-j", str(a.nodes), "ls", "--json"], check=True, stdout=subprocess.DEVNULL, cwd=REPO)

    # Warm: one tunnel per node, opened once by this (long-lived) thread and kept; each step opens a
    # gRPC channel on it and runs the same task, as a refresh over kept tunnels does.
    warm_ssh = SshOptions(config=str(lab.client.config))
    tunnels: list[Tunnel] = []

    def warm_one(i: int) -> int:
        with ContainerdStore(tunnels[i].local_address, read_only=True, connect_timeout=CONNECT_TIMEOUT) as store:
            inv = task(NodeQuery(nodes[i], store, lambda n: None, lambda: False))
        if len(inv.blobs) != a.blobs:
            bad.append((f"warm {nodes[i].name}", len(inv.blobs), a.blobs))
        return len(inv.blobs)

    def warm_fleet():
        with ThreadPoolExecutor(len(nodes)) as pool:
            list(pool.map(warm_one, range(len(nodes))))

    load = [os.getloadavg()[0]]
    for r in range(a.runs):
        for cfg, path in configs.items():
            ssh = SshOptions(config=str(path))
            order = list(range(len(nodes)))
            order = order[r % len(order):] + order[:r % len(order)]  # a different node first each round
            for i in order:
                samples.add(f"{cfg} single {i}", meter.measure(lambda i=i, ssh=ssh: inventory([nodes[i]], ssh))[0])
            samples.add(f"{cfg} fleet", meter.measure(lambda ssh=ssh: inventory(nodes, ssh))[0])
            samples.add(f"{cfg} xargs", meter.measure(lambda path=path: xargs(path))[0])
        samples.add("default blobctl", meter.measure(blobctl)[0])
        tunnels[:] = [Tunnel(n.address, warm_ssh) for n in nodes]
        try:
            for t in tunnels:
                t.open()
            meter.settle(0.3)
            for i in range(len(nodes)):
                samples.add(f"warm single {i}", meter.measure(lambda i=i: warm_one(i), settle=False)[0])
            samples.add("warm fleet", meter.measure(warm_fleet, settle=False)[0])
        finally:
            for t in tunnels:
                t.close()
        load.append(os.getloadavg()[0])

    cores = os.cpu_count() or 1
    emit(nodes=a.nodes, blobs=a.blobs, cores=cores, runs=a.runs, load1_min=min(load), load1_max=max(load))
    for cfg in ("default", "x25519", "warm"):
        _report(cfg, samples, len(nodes), cores)
    if bad:
        print(f"WRONG COUNTS: {bad}", file=sys.stderr)
        return 1
    return 0


def _report(cfg: str, samples: Samples, n: int, cores: int) -> None:
    singles = [samples.best(f"{cfg} single {i}") for i in range(n)]
    for i, s in enumerate(singles):
        emit(config=cfg, single_node=i, single_s=s.wall, **{f"cpu_{k}": v for k, v in s.cpu.items()})
    fleet = samples.best(f"{cfg} fleet")
    slowest = max(s.wall for s in singles)
    median = statistics.median(s.wall for s in singles)
    total = sum(s.wall for s in singles)
    peers: list[tuple[str, Step]] = [("fleet", fleet)]
    for extra in ("xargs", "blobctl"):
        if f"{cfg} {extra}" in samples.steps:
            peers.append((extra, samples.best(f"{cfg} {extra}")))
    emit(config=cfg, fleet_s=fleet.wall, slowest_single_s=slowest, median_single_s=median, sum_single_s=total,
         **{f"{k}_s": s.wall for k, s in peers[1:]})
    print(f"\n[{cfg}] {'step':<26}{'wall s':>8}{'py':>7}{'ssh':>7}{'sshd':>7}{'ctrd':>7}{'ours':>7}{'nodes':>7}"
          f"{'total':>7}   (CPU seconds; median of runs)")
    rows = [("one node (median of N)", Step(median, {k: statistics.median(s.cpu[k] for s in singles) for k in KINDS})),
            ("the slowest node alone", max(singles, key=lambda s: s.wall)),
            ("sum of single nodes", Step(total, {k: sum(s.cpu[k] for s in singles) for k in KINDS}))]
    rows += [(label if label != "fleet" else f"fleet, {n} at once", s) for label, s in peers]
    for label, s in rows:
        c = s.cpu
        print(f"[{cfg}] {label:<26}{s.wall:>8.3f}{c['py']:>7.3f}{c['ssh']:>7.3f}{c['sshd']:>7.3f}{c['containerd']:>7.3f}"
              f"{s.ours:>7.3f}{s.nodes:>7.3f}{s.total:>7.3f}")
    print(f"[{cfg}] py: this process; ssh: our child processes (the ssh clients; for xargs, xargs, sh and ssh; "
          "for blobctl, its whole process); sshd: the nodes' sshds and what their sessions ran (ctr for xargs)")
    print(f"[{cfg}] {'ratio':<42}{'value':>8}")
    ratios = [("fleet / slowest single node (goal <= 1.5)", fleet.wall / slowest),
              ("fleet / median single node", fleet.wall / median),
              ("fleet / sum of single nodes", fleet.wall / total),
              # every process of every node runs on this machine's cores: no schedule can finish
              # the fleet before its CPU seconds / cores (and other sessions' load takes a share)
              (f"fleet CPU / {cores} cores, / slowest", fleet.total / cores / slowest),
              (f"fleet wall / (fleet CPU / {cores} cores)", fleet.wall / (fleet.total / cores)),
              # were the nodes other machines, this machine would carry only our side's CPU
              (f"our side's CPU / {cores} cores, / slowest", fleet.ours / cores / slowest),
              ("our side's CPU / fleet CPU", fleet.ours / fleet.total)]
    for label, s in peers[1:]:
        ratios.append((f"fleet / {label}", fleet.wall / s.wall))
        ratios.append((f"fleet CPU / {label} CPU", fleet.total / s.total))
    for label, v in ratios:
        print(f"[{cfg}] {label:<42}{v:>8.2f}")


if __name__ == "__main__":
    sys.exit(main())
