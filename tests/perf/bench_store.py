#!/usr/bin/env python3
"""Benchmarks of ``store.LocalStore`` against containerd's own Go code, measured in one run.

    python tests/perf/bench_store.py [--blobs 100000] [--mb 1024] [--runs 3] [--profile]

Prints one ``key=value`` line per measurement and a ratio table at the end:

* **walk**: ``LocalStore.walk()`` over an N-blob store vs ``gopeer walk`` (containerd's
  ``local.Walk``) on the same directory, warm cache (one untimed pass each first).  ``walk()``
  is measured as callers get it (in a process with one thread a forked child stats the later
  names: its CPU is counted), and for the record in one process, as ``walk_batches`` (columns,
  with and without its stat child) and as the GUI's listing child (``walk_batches(child=True)``).
* **import**: ``LocalStore.import_file`` of an MB-MiB random file (hash + write + fsync +
  commit) vs ``gopeer-go1.23 ingest`` (Go with SHA-NI sha256: the fair peer) and ``gopeer``
  (Go 1.19, Debian's default) on the same file, each into a fresh store, ``sync`` before each.
* **verify**: re-hashing every blob with the store's verify (1 thread, and one thread per CPU
  as ``blobctl verify`` does; also ``blobctl verify`` as a whole process) vs a single-thread
  hashlib loop over the same files (on the N-blob store and on a store of 16 large blobs).

The N-blob store is populated by a fast Python populator that writes exactly the layout
containerd's Writer/Commit produces (``blobs/sha256/<hex>``, 0444, atime = mtime) but without
a per-blob fsync; ``gopeer populate`` would take ~4 min for 100k blobs only because of the
fsyncs, which do not change what walk sees.  The store is kept in /tmp between runs.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import os
import pstats
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

from tests.support import gopeer  # noqa: E402

BENCH_DIR = Path(os.environ.get("BLOBSCOPE_BENCH_DIR", "/tmp/blobscope-bench"))


def emit(**kv) -> None:
    print(" ".join(f"{k}={v:.6f}" if isinstance(v, float) else f"{k}={v}" for k, v in kv.items()),
          flush=True)


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# ---------------------------------------------------------------------------- fixtures
def populate_fast(root: Path, count: int, size: int = 512) -> None:
    """Write ``count`` random blobs of ``size`` bytes in containerd's layout, without per-blob fsync."""
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    (root / "ingest").mkdir(exist_ok=True)
    rnd = os.urandom(size * 64)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
    for i in range(count):
        # unique content per blob: a random window plus the index
        off = (i * 7919) % (len(rnd) - size)
        data = i.to_bytes(8, "little") + rnd[off:off + size - 8]
        hexd = hashlib.sha256(data).hexdigest()
        path = blobs / hexd
        try:
            fd = os.open(path, flags, 0o444)  # the mode containerd leaves after Commit (umask 022)
        except FileExistsError:
            continue
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        t = time.time_ns()
        os.utime(path, ns=(t, t))  # Commit sets atime = mtime = commit time
    os.sync()


def small_store(count: int) -> Path:
    root = BENCH_DIR / f"store-{count}"
    marker = root / ".populated"
    if not marker.exists():
        shutil.rmtree(root, ignore_errors=True)
        t0 = time.perf_counter()
        populate_fast(root, count)
        marker.write_text(str(count))
        emit(op="populate_fast", count=count, seconds=time.perf_counter() - t0)
    return root


def big_file(mb: int) -> Path:
    path = BENCH_DIR / f"random-{mb}MiB.bin"
    if not path.exists() or path.stat().st_size != mb << 20:
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:
            for _ in range(mb):
                f.write(os.urandom(1 << 20))
        os.sync()
    return path


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb", buffering=0) as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


# ---------------------------------------------------------------------------- benchmarks
def bench_walk(root: Path, go_bins: dict[str, Path], runs: int, profile: bool) -> dict[str, float]:
    from store import LocalStore, forked_stat

    s = LocalStore(root)
    expected = sum(1 for _ in (root / "blobs" / "sha256").iterdir())

    def children_cpu() -> float:
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        return r.ru_utime + r.ru_stime

    def records() -> tuple[int, int]:
        n = b = 0
        for info in s.walk():
            n += 1
            b += info.size
        return n, b

    def one_process() -> tuple[int, int]:
        fork_min, forked_stat.FORK_MIN = forked_stat.FORK_MIN, 1 << 62
        try:
            return records()
        finally:
            forked_stat.FORK_MIN = fork_min

    def columns(child: bool = False) -> tuple[int, int]:
        n = b = 0
        for batch in s.walk_batches(child=child):
            n += len(batch)
            b += sum(batch.sizes)
        return n, b

    def columns_one_process() -> tuple[int, int]:
        fork_min, forked_stat.FORK_MIN = forked_stat.FORK_MIN, 1 << 62
        try:
            return columns()
        finally:
            forked_stat.FORK_MIN = fork_min

    def listing_child() -> tuple[int, int]:
        return columns(child=True)

    # "blobscope" is walk() as every caller gets it (one Info per blob; where the process has one
    # thread, as here and in blobctl, a forked child stats the later names); the others for the record
    # walk_batches (columns: blobctl's streaming and the GUI's listing) splits its stat the same way;
    # the GUI's listing child (walk_batches(child=True)) forks its own stat child: all CPU counted
    contenders = {"blobscope": records, "blobscope-1-process": one_process, "blobscope-walk_batches": columns,
                  "blobscope-walk_batches-1-process": columns_one_process,
                  "blobscope-listing-child": listing_child}
    for name, fn in contenders.items():
        fn.__name__ = name

    own_cpu: dict[str, list[float]] = {name: [] for name in contenders}

    def py_walk(fn) -> tuple[int, int, float, float]:
        t0, c0, k0 = time.perf_counter(), time.process_time(), children_cpu()
        n, b = fn()
        own = time.process_time() - c0
        own_cpu[fn.__name__].append(own)
        return n, b, time.perf_counter() - t0, own + children_cpu() - k0

    for fn in contenders.values():
        py_walk(fn)  # warm: page cache and dentries
    py_times: dict[str, list[float]] = {name: [] for name in contenders}
    py_cpu: dict[str, list[float]] = {name: [] for name in contenders}
    go_times: dict[str, list[float]] = {name: [] for name in go_bins}
    go_cpu: dict[str, list[float]] = {name: [] for name in go_bins}
    for binary in go_bins.values():
        gopeer.run(binary, "walk", root, 1)
    for _ in range(runs):  # interleave, so load changes hit both sides alike
        for name, fn in contenders.items():
            n, b, el, cpu = py_walk(fn)
            assert n == expected, f"{name} saw {n} blobs, the directory holds {expected}"
            py_times[name].append(el)
            py_cpu[name].append(cpu)
        for name, binary in go_bins.items():
            c0 = children_cpu()
            line = gopeer.run(binary, "walk", root, 1).stdout.strip()
            go_cpu[name].append(children_cpu() - c0)  # the whole process: its start is a few ms
            kv = gopeer.parse_kv(line)
            assert int(kv["count"]) == n and int(kv["bytes"]) == b
            go_times[name].append(float(kv["seconds"]))
    result: dict[str, float] = {}
    for name in contenders:
        key = "python" if name == "blobscope" else name
        result[key], result[key + "-cpu"] = statistics.median(py_times[name]), statistics.median(py_cpu[name])
        result[key + "-best"] = min(py_times[name])
        result[key + "-own-cpu"] = statistics.median(own_cpu[name][-runs:])
        emit(op="walk", impl=name, count=expected, runs=",".join(f"{t:.3f}" for t in py_times[name]),
             median=result[key], best=result[key + "-best"], cpu=result[key + "-cpu"],
             cpu_this_process=result[key + "-own-cpu"])
    for name, times in go_times.items():
        result[name] = statistics.median(times)
        result[name + "-cpu"] = statistics.median(go_cpu[name])
        result[name + "-best"] = min(times)
        emit(op="walk", impl=name, count=expected, runs=",".join(f"{t:.3f}" for t in times),
             median=result[name], best=result[name + "-best"], cpu=result[name + "-cpu"])
    if profile:
        _profile("walk", lambda: sum(1 for _ in s.walk()))
    return result


def bench_import(path: Path, go_bins: dict[str, Path], runs: int, profile: bool) -> dict[str, float]:
    from store import LocalStore

    digest = sha256_file(path)  # untimed, as gopeer's DIGEST argument
    size = path.stat().st_size
    scratch = BENCH_DIR / "import-scratch"
    times: dict[str, list[float]] = {"python": [], **{name: [] for name in go_bins}}

    def fresh() -> Path:
        shutil.rmtree(scratch, ignore_errors=True)
        os.sync()  # no dirty pages from the previous run are flushed during the next
        return scratch

    def run_python() -> float:
        s = LocalStore(fresh())
        t0 = time.perf_counter()
        info = s.import_file(path)
        el = time.perf_counter() - t0
        assert str(info.digest) == digest and info.size == size
        return el

    def run_go(binary: Path) -> float:
        kv = gopeer.parse_kv(gopeer.run(binary, "ingest", fresh(), path, digest).stdout.strip())
        assert kv["digest"] == digest
        return float(kv["seconds"])

    contenders = [("python", run_python)] + [(n, lambda b=b: run_go(b)) for n, b in go_bins.items()]
    for i in range(runs):
        # Rotate who goes first, and run each contender twice in a row: on this VM's ext4 a 1 GiB
        # file lands alternately on a fast and a slow region (the previous run's blocks are not yet
        # free), so consecutive imports alternate ~1.0 s / ~2.0 s whoever writes them.  Two runs in
        # a row give every contender one of each.
        k = i % len(contenders)
        for name, run in contenders[k:] + contenders[:k]:
            times[name].append(run())
            times[name].append(run())
    result = {}
    for name, ts in times.items():
        result[name] = statistics.median(ts)
        emit(op="import", impl="blobscope" if name == "python" else name, bytes=size,
             runs=",".join(f"{t:.3f}" for t in ts), median=result[name],
             mbps=f"{size / 1e6 / result[name]:.1f}")
    if profile:
        root = fresh()
        s = LocalStore(root)
        _profile("import", lambda: s.import_file(path))
    shutil.rmtree(scratch, ignore_errors=True)
    return result


def _verify_many(s, digests: list[str], workers: int, sizes: dict[str, int], processes: bool = False) -> list[bool]:
    """``LocalStore.verify`` blob by blob on one thread, or ``store.verify.verify_many`` (what
    blobctl and the GUI use: big blobs on a pool, small ones through ``verify_each`` on the
    calling thread, or with ``processes`` as blobctl does, on forked workers).  The sizes come
    from a listing made before the clock starts, as blobctl and the GUI have it already."""
    if workers == 1:
        return [s.verify(d) for d in digests]
    from store.verify import verify_many
    return [r.ok for r in verify_many(s, [(d, sizes.get(d)) for d in digests], jobs=workers, processes=processes)]


def bench_verify(root: Path, label: str) -> dict[str, float]:
    from store import LocalStore

    s = LocalStore(root)
    files = sorted((root / "blobs" / "sha256").iterdir())
    digests = [f"sha256:{p.name}" for p in files]
    total = sum(p.stat().st_size for p in files)

    def hashlib_single() -> float:
        t0 = time.perf_counter()
        for p in files:
            h = hashlib.sha256()
            with open(p, "rb", buffering=0) as f:
                while chunk := f.read(1 << 20):
                    h.update(chunk)
            assert h.hexdigest() == p.name
        return time.perf_counter() - t0

    sizes = {i.digest: i.size for i in s.walk()}

    def store_verify(workers: int, processes: bool = False) -> float:
        t0 = time.perf_counter()
        ok = _verify_many(s, digests, workers, sizes, processes)
        el = time.perf_counter() - t0
        assert all(ok), f"verify reported {ok.count(False)} bad blobs"
        return el

    def blobctl_verify() -> float:
        t0 = time.perf_counter()
        r = subprocess.run([sys.executable, "-m", "store", "--root", str(root), "verify"], cwd=REPO,
                           capture_output=True, text=True)
        el = time.perf_counter() - t0
        assert r.returncode == 0, r.stderr
        return el

    hashlib_single()  # warm the page cache
    base = hashlib_single()
    one = store_verify(1)
    cpus = os.cpu_count() or 1
    many = store_verify(cpus)
    forked = store_verify(cpus, processes=True)
    cli = blobctl_verify() if (REPO / "store" / "cli").is_dir() else float("nan")
    for impl, el in (("hashlib-1-thread", base), ("blobscope-verify-1-thread", one),
                     (f"blobscope-verify-{cpus}-threads", many), (f"blobscope-verify-{cpus}-processes", forked),
                     ("blobctl-verify-process", cli)):
        emit(op="verify", store=label, impl=impl, count=len(files), bytes=total, seconds=el,
             mbps=f"{total / 1e6 / el:.1f}")
    return {"hashlib": base, "python1": one, "python": many, "forked": forked}


def big_blob_store(mb: int, count: int = 16) -> Path:
    """A store of ``count`` large random blobs (about ``mb`` MiB in all), written by LocalStore."""
    from store import LocalStore

    root = BENCH_DIR / f"bigstore-{mb}"
    marker = root / ".populated"
    if not marker.exists():
        shutil.rmtree(root, ignore_errors=True)
        s = LocalStore(root)
        per = max(1, mb // count) << 20
        for i in range(count):
            data = os.urandom(per)
            with s.writer(f"bench-big-{i}", total=per) as w:
                w.write(data)
                w.commit(per, "sha256:" + hashlib.sha256(data).hexdigest())
        marker.write_text(str(count))
    return root


def _profile(name: str, fn) -> None:
    prof = cProfile.Profile()
    prof.enable()
    fn()
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(18)
    print(f"# profile of {name} (cumulative):")
    print("\n".join("#   " + line for line in out.getvalue().splitlines() if line.strip()))


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "n/a"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--blobs", type=int, default=int(os.environ.get("BLOBSCOPE_BENCH_BLOBS", 100_000)))
    ap.add_argument("--mb", type=int, default=int(os.environ.get("BLOBSCOPE_BENCH_MB", 1024)))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--profile", action="store_true", help="print a cProfile of one walk and one import")
    ap.add_argument("--only", choices=["walk", "import", "verify"], action="append")
    args = ap.parse_args(argv)
    only = set(args.only or ["walk", "import", "verify"])

    go_bins = {"gopeer-go1.23": None, "gopeer": None}
    for name in list(go_bins):
        try:
            go_bins[name] = gopeer.gopeer_binary(name, backports=name == gopeer.FAST)
        except RuntimeError as exc:
            print(f"# {name} unavailable: {exc}".splitlines()[0], file=sys.stderr)
            del go_bins[name]
    if not go_bins:
        print("error: no gopeer binary could be built; see tests/gopeer/build.sh", file=sys.stderr)
        return 1
    for binary in go_bins.values():
        emit(**gopeer.parse_kv(gopeer.run(binary, "version").stdout.strip()))
    emit(op="env", python=sys.version.split()[0], cpus=os.cpu_count(), load=f"'{load()}'")

    summary = []
    if "walk" in only:
        root = small_store(args.blobs)
        w = bench_walk(root, go_bins, args.runs, args.profile)
        for name in go_bins:
            summary.append((f"walk {args.blobs} blobs: blobscope / {name}", ratio(w["python"], w[name]),
                            "< 1 means faster than containerd; target <= 0.7x"))
            summary.append((f"walk {args.blobs} blobs, best run: blobscope / {name}",
                            ratio(w["python-best"], w[name + "-best"]), "the run the machine disturbed least"))
            summary.append((f"walk {args.blobs} blobs, CPU time: blobscope / {name}",
                            ratio(w["python-cpu"], w[name + "-cpu"]), "both processes; what a busy machine cannot blur"))
            summary.append((f"walk {args.blobs} blobs, CPU of the walking process / {name}",
                            ratio(w["python-own-cpu"], w[name + "-cpu"]),
                            "a lower bound of the wall time with a core free for the child"))
            for other, what in (("blobscope-1-process", "walk() in one process"),
                                ("blobscope-walk_batches", "walk_batches (columns, stat child)"),
                                ("blobscope-walk_batches-1-process", "walk_batches in one process"),
                                ("blobscope-listing-child", "GUI listing child (+ its stat child)")):
                summary.append((f"{what} / {name}", ratio(w[other], w[name]),
                                f"best {ratio(w[other + '-best'], w[name + '-best'])}, CPU "
                                f"{ratio(w[other + '-cpu'], w[name + '-cpu'])}, this process's CPU "
                                f"{ratio(w[other + '-own-cpu'], w[name + '-cpu'])}"))
    if "import" in only:
        f = big_file(args.mb)
        imp = bench_import(f, go_bins, args.runs, args.profile)
        for name in go_bins:
            summary.append((f"import {args.mb} MiB: blobscope / {name}", ratio(imp["python"], imp[name]),
                            "< 1 means faster than containerd"))
    if "verify" in only:
        cpus = os.cpu_count()
        for v, what in ((bench_verify(small_store(args.blobs), f"{args.blobs}x512B"), f"{args.blobs} small blobs"),
                        (bench_verify(big_blob_store(args.mb), f"16x{args.mb // 16}MiB"), f"{args.mb} MiB in 16 blobs")):
            summary.append((f"verify {what}: hashlib-1-thread / blobscope {cpus} threads",
                            ratio(v["hashlib"], v["python"]), f"speed-up; target ~{cpus}x"))
            summary.append((f"verify {what}: hashlib-1-thread / blobctl's way ({cpus} processes)",
                            ratio(v["hashlib"], v["forked"]), f"speed-up; target ~{cpus}x"))
            summary.append((f"verify {what}: hashlib-1-thread / blobscope 1 thread",
                            ratio(v["hashlib"], v["python1"]), "1.0 = hashlib speed"))
    emit(op="env-end", load=f"'{load()}'")
    print("# ratios (same run):")
    for what, r, note in summary:
        print(f"#   {what:<58} {r:>7}   ({note})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
