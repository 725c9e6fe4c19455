#!/usr/bin/env python3
"""Time to a complete reference graph on a big store, beside the floors of the same work.

    python tests/perf/bench_graph.py [--blobs 100000] [--images 5000] [--runs 3]

Defaults: 100000 blobs, one two-platform image per 20 blobs (5000 indexes, 10000 manifests,
10000 configs, a pool of 40000 gzip layers); the rest are small random blobs.  The store is
built once by tests/support/image_store.py (containerd's layout, ``ctr images import``'s
labels) and kept in ``$BLOBSCOPE_BENCH_DIR/graph`` between runs.  Every blob of it is
under 16 KiB, so a blob's head (what the sniff reads in one call) is the whole blob.

Measured, one ``key=value`` line each, then a table of ratios from the same run:

* floors, over the same files with a warm page cache: ``sha256sum`` and ``file --mime-type``
  run by ``xargs -P <cores>`` (what native tools spend reading and recognising every head on
  all cores), and a bare Python ``open`` + ``pread`` + ``close`` of each (one process);
* ``cold``: an empty media-type cache, the way each caller recognises blobs: ``serial`` (one
  process), ``fork`` (blobctl: one forked worker per core), ``spawn`` (a fresh interpreter per
  worker: the GUI before issue 12), ``forkserver`` (the GUI now: workers forked by the fork
  server it starts at launch, store/workers.py; started here before the runs); split into
  ``classify`` (sniff every blob, fill the cache) and ``build`` (the graph); ``graph`` = classify + build, the issue's "cold graph" figure;
  ``classify_cpu_main`` / ``classify_cpu_workers``: CPU seconds of this process and of the
  workers while classifying (on a busy machine, wall time with two free cores is about
  max(main, (main + workers) / 2));
* ``worker-start``: a pool of one worker per core started as each mode starts them, each worker
  recognising one blob, the pool shut down: what a cold classify pays beside the work itself
  (``--start-only``: this alone);
* ``warm``: the cache on disk (what every rescan costs): walk / cache lookup / build, plus
  ``images()`` + ``space()`` (per-image shared/unique sums).

Contenders are interleaved run by run, so a change in the machine's load hits all alike.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from store import LocalStore, oci, workers  # noqa: E402
from store import graph as G  # noqa: E402
from tests.support.image_store import populate  # noqa: E402

BENCH_DIR = Path(os.environ.get("BLOBSCOPE_BENCH_DIR", "/tmp/blobscope-bench")) / "graph"
MODES = ("serial", "fork", "spawn", "forkserver")


def emit(**kv) -> None:
    print(" ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in kv.items()), flush=True)


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def cpus() -> int:
    return len(os.sched_getaffinity(0))


# ---------------------------------------------------------------------------- floors
def tool_floor(argv: list[str], paths_file: Path) -> float:
    """``xargs -0 -P <cores> argv...`` over every blob path; seconds (its output is discarded)."""
    cmd = ["xargs", "-0", "-P", str(cpus()), "-n", "2000", *argv]
    with open(paths_file, "rb") as stdin:
        t0 = time.perf_counter()
        r = subprocess.run(cmd, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        el = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {r.stderr.decode(errors='replace')[:500]}")
    return el


def pread_floor(blobs_dir: Path, names: list[str]) -> float:
    """One process: open each blob relative to its directory, read its head in one call, close."""
    dfd = os.open(blobs_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        t0 = time.perf_counter()
        for name in names:
            fd = os.open(name, os.O_RDONLY, dir_fd=dfd)
            os.pread(fd, 16384, 0)
            os.close(fd)
        return time.perf_counter() - t0
    finally:
        os.close(dfd)


# ---------------------------------------------------------------------------- contenders
def fresh_cache(cache_path: Path) -> oci.MediaTypeCache:
    for p in cache_path.parent.glob(cache_path.name + "*"):
        p.unlink()
    return oci.MediaTypeCache(cache_path)


def forkserver_children_cpu() -> float:
    """CPU seconds of the fork server's reaped children (its workers are not ours to count)."""
    from multiprocessing import forkserver
    pid = forkserver._forkserver._forkserver_pid
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")  # cutime + cstime


def cpu_times() -> tuple[float, float]:
    """CPU seconds (user + system) of this process, and of its reaped children (the workers)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime + forkserver_children_cpu()


def measure(content: Path, cache_path: Path, mode: str, cold: bool) -> dict:
    store = LocalStore(content)
    t0 = time.perf_counter()
    infos = list(store.walk())
    t1 = time.perf_counter()
    cache = fresh_cache(cache_path) if cold else oci.MediaTypeCache(cache_path)
    me0, kids0 = cpu_times()
    types = oci.classify(store, infos, cache, processes=None if mode == "serial" else mode)
    t2 = time.perf_counter()
    me1, kids1 = cpu_times()
    statuses = store.list_statuses()
    g = G.build_graph(infos, types, ingest_count=len(statuses), ingest_bytes=sum(s.offset for s in statuses))
    t3 = time.perf_counter()
    imgs = g.images()
    sp = g.space()
    t4 = time.perf_counter()
    cache.close()
    return {"walk": t1 - t0, "classify": t2 - t1, "classify_cpu_main": me1 - me0, "classify_cpu_workers": kids1 - kids0,
            "build": t3 - t2, "graph": t3 - t1, "space": t4 - t3,
            "total": t4 - t0, "blobs": len(infos), "edges": g.edge_count, "images": len(imgs),
            "reclaimable": sp.reclaimable_count,
            "manifests": sum(1 for t in types.values() if t.kind == oci.Kind.MANIFEST),
            "kinds": sorted((str(d), t.kind.value) for d, t in types.items())}


def worker_start(content: Path, mode: str, jobs: int) -> tuple[float, float]:
    """What ``classify`` pays before and after the work itself: a pool of ``jobs`` workers started
    the way ``mode`` starts them, one chunk of one blob recognised by each, the pool shut down.
    Seconds and CPU seconds of the workers."""
    from concurrent.futures import ProcessPoolExecutor
    store = LocalStore(content)
    digest = str(next(iter(store.walk())).digest)
    _, kids0 = cpu_times()
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=jobs, mp_context=workers.context(mode)) as pool:
        barrier = [pool.submit(oci._sniff_chunk, LocalStore, str(content), [digest]) for _ in range(jobs)]
        for f in barrier:
            f.result()
    el = time.perf_counter() - t0
    time.sleep(0.05)  # the fork server reaps its workers on SIGCHLD
    return el, cpu_times()[1] - kids0


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "n/a"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--blobs", type=int, default=int(os.environ.get("BLOBSCOPE_BENCH_BLOBS", 100000)))
    ap.add_argument("--images", type=int, default=None, help="default: one per 20 blobs")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--modes", default=",".join(MODES), help="cold contenders, comma-separated")
    ap.add_argument("--no-libmagic", action="store_true", help="skip the file --mime-type floor (20-70 s)")
    ap.add_argument("--start-only", action="store_true", help="only the workers' start-up, per start method")
    args = ap.parse_args(argv)
    modes = tuple(m for m in args.modes.split(",") if m)
    if not modes or set(modes) - set(MODES):
        ap.error(f"--modes: a comma-separated subset of {','.join(MODES)}")
    if "forkserver" in modes:
        workers.warm_up()  # as the GUI does at launch: the server is up long before a graph
    args.images = args.images or max(1, args.blobs // 20)
    root = BENCH_DIR
    t = time.perf_counter()
    populate(root, args.blobs, args.images)
    emit(populate_s=time.perf_counter() - t)
    emit(op="env", cpus=cpus(), load=f"'{load()}'", file=shutil.which("file") or "missing")
    content = root / "content"
    blobs_dir = content / "blobs" / "sha256"
    cache_path = root / "cache.db"
    names = sorted(os.listdir(blobs_dir))
    paths_file = root / "paths.nul"
    paths_file.write_bytes(b"".join(str(blobs_dir / n).encode() + b"\0" for n in names))
    list(LocalStore(content).walk())  # warm the page cache for the directory, as the warm runs see it
    pread_floor(blobs_dir, names)

    starts: dict[str, list[tuple[float, float]]] = {m: [] for m in modes if m != "serial"}
    for _ in range(max(3, args.runs)):  # interleaved too
        for mode in starts:
            starts[mode].append(worker_start(content, mode, cpus()))
    for mode, st in starts.items():
        emit(phase="worker-start", mode=mode, jobs=cpus(), runs=",".join(f"{x:.3f}" for x, _ in st),
             median=statistics.median(x for x, _ in st), cpu_workers=statistics.median(c for _, c in st))
    if args.start_only:
        return 0

    floors: dict[str, list[float]] = {"sha256sum": [], "file": [], "pread": []}
    cold: dict[str, list[dict]] = {m: [] for m in modes}
    for i in range(args.runs):  # interleaved: a change of load hits every contender alike
        floors["sha256sum"].append(tool_floor(["sha256sum"], paths_file))
        if i == 0 and not args.no_libmagic:  # libmagic takes 20-30 s over 100k files even on both cores: once is enough
            floors["file"].append(tool_floor(["file", "--mime-type", "-b"], paths_file))
        floors["pread"].append(pread_floor(blobs_dir, names))
        for mode in modes[i % len(modes):] + modes[:i % len(modes)]:
            cold[mode].append(measure(content, cache_path, mode, cold=True))
    med_floor = {k: statistics.median(v) if v else 0.0 for k, v in floors.items()}
    for k, v in floors.items():
        emit(op="floor", impl=k, files=len(names), runs=",".join(f"{x:.3f}" for x in v), median=med_floor[k])
    med_cold: dict[str, dict[str, float]] = {}
    for mode, ms in cold.items():
        med_cold[mode] = {k: statistics.median(m[k] for m in ms)
                          for k in ("walk", "classify", "classify_cpu_main", "classify_cpu_workers", "build", "graph")}
        for m in ms:
            emit(phase="cold", mode=mode, **{k: v for k, v in m.items() if k != "kinds"})
        emit(phase="cold-median", mode=mode, **med_cold[mode])
    warm = [measure(content, cache_path, "serial", cold=False) for _ in range(args.runs)]
    for w in warm:
        emit(phase="warm", **{k: v for k, v in w.items() if k != "kinds"})
    med_warm = {k: statistics.median(w[k] for w in warm) for k in ("walk", "classify", "build", "graph", "space", "total")}
    emit(phase="warm-median", **med_warm)
    emit(op="env-end", load=f"'{load()}'")

    print("# ratios (same run; < 1 means faster than the floor):")
    rows = []
    for mode in modes:
        c = med_cold[mode]
        rows.append((f"cold classify, {mode} / sha256sum -P{cpus()}", ratio(c["classify"], med_floor["sha256sum"])))
        rows.append((f"cold classify, {mode} / file --mime-type -P{cpus()}", ratio(c["classify"], med_floor["file"])))
        rows.append((f"cold classify, {mode} / python open+pread+close", ratio(c["classify"], med_floor["pread"])))
        rows.append((f"cold graph (classify+build), {mode}: {c['graph']:.2f} s", "target < 4 s"))
    rows.append((f"warm classify (cache lookup) / sha256sum -P{cpus()}", ratio(med_warm["classify"], med_floor["sha256sum"])))
    for what, r in rows:
        print(f"#   {what:<60} {r}")

    # The figures must describe the store that was built, or the timing means nothing.
    first = cold[modes[0]][0]
    expected_reclaimable = args.blobs - (args.images * 5 + max(16, args.images * 8))
    every = [m for ms in cold.values() for m in ms] + warm
    ok = first["images"] == args.images and first["manifests"] == 2 * args.images
    ok = ok and all(m["edges"] == first["edges"] and m["kinds"] == first["kinds"] for m in every)
    ok = ok and first["reclaimable"] >= expected_reclaimable and first["blobs"] == args.blobs
    if not ok:
        print(f"unexpected graph: {({k: v for k, v in first.items() if k != 'kinds'})}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
