#!/usr/bin/env python3
"""The GC dry run on a big meta.db against containerd 1.6's own GC on the same file (issue 10, "Speed").

    python tests/perf/bench_gc.py [--blobs 100000] [--images 5000] [--snapshots 10000] [--leases 1000] [--runs 3]

The model is what a busy node looks like: images (index -> manifest -> config + 4 layers, with
the labels ``ctr images import`` and the unpacker set, the config naming its snapshot chain),
a shared pool of layers, snapshot chains of four with containers' active snapshots on top,
leases (a third of them expired, some flat), unleased ingests, loose blobs (5 % gc.root).
It is written as a real ``meta.db`` by bbolt (tests/support/gcoracle.py).

Measured, one ``key=value`` line each, best of ``--runs``:

* ``ours_load``: ``load_root`` -- copy meta.db, read every record of every namespace;
* ``ours_dry_run``: ``gc.dry_run`` on those records (every verdict with its chain);
* ``ours_total``: the two together, what ``blobctl gc --dry-run`` costs before printing;
* ``blobctl_json_process``: the whole ``blobctl gc --dry-run --json > /dev/null`` process;
* ``containerd_gc``: containerd's ``metadata.DB.GarbageCollect`` on a fresh copy of the file (the
  mark over all namespaces and the sweep, in Go, as the daemon runs it); the peer;
* ``ours_total_cpu`` / ``containerd_process_cpu``: CPU seconds of the same two (the Go figure is
  its whole process: opening the file, the GC, listing what is left), steadier than wall time
  on a machine shared with other work.

It fails only when the prediction and containerd's result disagree, or a count is wrong.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from store.disk import gc  # noqa: E402
from store.disk.metadata import load_root, paused_gc  # noqa: E402
from tests.support import gcoracle  # noqa: E402

BENCH_DIR = Path(os.environ.get("BLOBSCOPE_BENCH_DIR", "/tmp/blobscope-bench")) / "gc"
META = Path("io.containerd.metadata.v1.bolt") / "meta.db"


def emit(**kv) -> None:
    print(" ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in kv.items()), flush=True)


def model(blobs: int, images: int, snapshots: int, leases: int, seed: int = 10) -> list[dict]:
    rng = random.Random(seed)

    def digest() -> str:
        return f"sha256:{rng.getrandbits(256):064x}"

    ns = "k8s.io"
    out_blobs: list[dict] = []
    layers = [digest() for _ in range(max(1, images * 4))]
    # snapshot chains of 4 (committed layers) and one container snapshot on every 9th chain top
    chains = max(1, snapshots * 9 // 40)
    snaps: list[dict] = []
    tops = []
    for c in range(chains):
        parent = ""
        for level in range(4):
            key = f"sha256:{c:08x}{level:056x}"
            snaps.append({"snapshotter": "overlayfs", "key": key, "name": f"{ns}/{len(snaps)}/{key}",
                          "parent": parent, "labels": {"containerd.io/snapshot.ref": key}})
            parent = key
        tops.append(parent)
    containers = []
    while len(snaps) < snapshots:
        i = len(containers)
        key = f"container-{i}"
        snaps.append({"snapshotter": "overlayfs", "key": key, "name": f"{ns}/{len(snaps)}/{key}",
                      "parent": tops[i % len(tops)], "labels": {}})
        containers.append({"id": key, "snapshotter": "overlayfs", "key": key, "labels": {}})
    used_layers: set[str] = set()
    imgs = []
    for i in range(images):
        idx, man, cfg = digest(), digest(), digest()
        mine = rng.sample(layers, 4)
        used_layers.update(mine)
        out_blobs.append({"digest": idx, "size": 500, "labels": {"containerd.io/gc.ref.content.m.0": man}})
        mlab = {"containerd.io/gc.ref.content.config": cfg}
        mlab.update({f"containerd.io/gc.ref.content.l.{j}": d for j, d in enumerate(mine)})
        out_blobs.append({"digest": man, "size": 1200, "labels": mlab})
        out_blobs.append({"digest": cfg, "size": 3000, "labels": {
            "containerd.io/gc.ref.snapshot.overlayfs": tops[i % len(tops)]}})
        imgs.append({"name": f"registry.example/app{i}:v{i % 7}", "target": idx, "labels": {}})
    for d in layers:
        out_blobs.append({"digest": d, "size": rng.randint(10**5, 10**7), "labels": {}})
    loose = []
    while len(out_blobs) < blobs:
        d = digest()
        loose.append(d)
        labels = {"containerd.io/gc.root": ""} if rng.random() < 0.05 else {}
        out_blobs.append({"digest": d, "size": rng.randint(100, 10**6), "labels": labels})
    out_leases = []
    for i in range(leases):
        lab = {}
        r = rng.random()
        if r < 0.33:
            lab["containerd.io/gc.expire"] = "2001-01-01T00:00:00Z"
        elif r < 0.66:
            lab["containerd.io/gc.expire"] = "2999-01-01T00:00:00Z"
        if rng.random() < 0.1:
            lab["containerd.io/gc.flat"] = "true"
        out_leases.append({"id": f"lease-{i}", "labels": lab,
                           "content": sorted(set(rng.sample(loose, min(3, len(loose))))),
                           "snapshots": [["overlayfs", rng.choice(tops)]], "ingests": []})
    ingests = [{"ref": f"pull-{i}", "bref": f"{ns}/{i}/pull-{i}",
                "expireat": time.time_ns() + (86400 if i % 2 else -86400) * 10**9, "expected": ""}
               for i in range(100)]
    return [{"name": ns, "images": imgs, "containers": containers, "leases": out_leases, "blobs": out_blobs,
             "ingests": ingests, "snapshots": snaps}]


def best(fn, runs: int):
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return min(times), result


def best_cpu(fn, runs: int) -> float:
    """Least CPU seconds (user + system) of this process over ``runs`` calls: on a machine shared with
    other work, CPU time says more than the wall clock."""
    times = []
    for _ in range(runs):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--blobs", type=int, default=100_000)
    ap.add_argument("--images", type=int, default=5_000)
    ap.add_argument("--snapshots", type=int, default=10_000)
    ap.add_argument("--leases", type=int, default=1_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)
    exe = gcoracle.build()
    work = BENCH_DIR / f"{args.blobs}-{args.images}-{args.snapshots}-{args.leases}"
    root = work / "root"
    if not (root / META).is_file():
        shutil.rmtree(work, ignore_errors=True)
        t = time.perf_counter()
        m = model(args.blobs, args.images, args.snapshots, args.leases)
        subprocess.run([str(exe), "write", str(work / "gen")], input=json.dumps([m]).encode(), check=True,
                       capture_output=True, timeout=1800)
        (root / META.parent).mkdir(parents=True)
        os.replace(work / "gen" / "0" / "meta.db", root / META)
        emit(setup_seconds=time.perf_counter() - t, meta_db_bytes=(root / META).stat().st_size)

    load_s, meta = best(lambda: load_root(root), args.runs)
    ns = meta.namespaces[0]
    counts = dict(blobs=len(ns.blobs), images=len(ns.images), snapshots=len(ns.snapshots), leases=len(ns.leases),
                  containers=len(ns.containers), ingests=len(ns.ingests))
    emit(**counts)
    if (counts["blobs"], counts["images"], counts["snapshots"], counts["leases"]) != (
            args.blobs, args.images, args.snapshots, args.leases):
        print(f"FAIL: the model read back has {counts}", file=sys.stderr)
        return 1
    now = time.time_ns()
    run_s, run = best(lambda: gc.dry_run(meta, now_ns=now), args.runs)

    def whole():
        with paused_gc(freeze=True):  # as blobctl runs it
            return gc.dry_run(load_root(root), now_ns=now)

    total_s, _ = best(whole, args.runs)
    total_cpu = best_cpu(whole, args.runs)

    def cli():
        with open(os.devnull, "wb") as devnull:
            subprocess.run([sys.executable, "-m", "store", "--root", str(root), "gc", "--dry-run", "--json"],
                           stdout=devnull, check=True, cwd=REPO, timeout=600)

    cli_s, _ = best(cli, args.runs)

    go_times, go_cpu = [], []
    left = None
    for _ in range(args.runs):
        gcdir = work / "gcrun"
        shutil.rmtree(gcdir, ignore_errors=True)
        (gcdir / "0").mkdir(parents=True)
        shutil.copyfile(root / META, gcdir / "0" / "meta.db")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = subprocess.run([str(exe), "gc", str(gcdir), "1"], check=True, capture_output=True, timeout=1800)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        go_cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        (res,) = json.loads(out.stdout)
        go_times.append(res["seconds"])
        left = res["left"]
    go_s = min(go_times)
    emit(ours_total_cpu=total_cpu, containerd_process_cpu=min(go_cpu), load_average=os.getloadavg()[0])
    emit(ours_load=load_s, ours_dry_run=run_s, ours_total=total_s, blobctl_json_process=cli_s, containerd_gc=go_s,
         ratio_total_vs_containerd=total_s / go_s, ratio_dry_run_vs_containerd=run_s / go_s,
         collect=sum(v.collect for v in run.verdicts), keep=sum(not v.collect for v in run.verdicts))
    wrong = [v for v in run.verdicts
             if (v.id in left.get(v.namespace, {}).get(v.kind, [])) == v.collect]
    if wrong:
        print(f"FAIL: {len(wrong)} predictions disagree with containerd's GC, e.g. {wrong[0]}", file=sys.stderr)
        return 1
    print(f"\n| what | Blobscope | containerd 1.6 GC (Go) | ratio |\n|---|---|---|---|\n"
          f"| read meta.db + dry run | {total_s:.3f} s | {go_s:.3f} s | {total_s / go_s:.2f}x |\n"
          f"| dry run alone (records in memory) | {run_s:.3f} s | {go_s:.3f} s | {run_s / go_s:.2f}x |\n"
          f"| `blobctl gc --dry-run --json` process | {cli_s:.3f} s | {go_s:.3f} s | {cli_s / go_s:.2f}x |\n"
          f"| CPU: read + dry run vs the whole Go process (open, GC, list) | {total_cpu:.3f} s | "
          f"{min(go_cpu):.3f} s | {total_cpu / min(go_cpu):.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
