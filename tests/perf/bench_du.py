#!/usr/bin/env python3
"""``store.disk.du`` against GNU ``du -sx`` on the same tree, measured in one run.

    python tests/perf/bench_du.py [--dirs 10000] [--files 200000] [--runs 5]

The tree (``--dirs`` directories nested a few levels deep, ``--files`` files of 0–9 KB, one
in 100 hard-linked, one in 150 a symbolic link) is built once under
``$BLOBSCOPE_BENCH_DIR`` (default /tmp/blobscope-bench) and kept.  Both sides get one untimed
pass first (warm cache), then ``--runs`` alternating timed passes each; GNU du is timed as a
process (``du -sxB1 TREE``), ours in-process (``DiskUsage().of(TREE)``).  The two totals must
agree (else the run fails); the figures are printed as ``key=value`` lines with the ratio of
the medians (ours / du: below 1 is faster than du).  Then the same for the tree's top-level
directories counted in one run (as a snapshotter's ``snapshots/<id>`` are): GNU du over the
list against ``usage_of_many`` with the Python walk and with its default engine (GNU du).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from store.disk.du import DiskUsage, usage_of_many  # noqa: E402

BENCH_DIR = Path(os.environ.get("BLOBSCOPE_BENCH_DIR", "/tmp/blobscope-bench"))
DU = shutil.which("du") or "/usr/bin/du"


def emit(**kv) -> None:
    print(" ".join(f"{k}={v:.6f}" if isinstance(v, float) else f"{k}={v}" for k, v in kv.items()), flush=True)


def build_tree(top: Path, dirs: int, files: int) -> Path:
    """The synthetic tree, built once (a ``.complete`` marker says it is whole)."""
    marker = top.with_name(top.name + ".complete")
    if marker.exists():
        return top
    if top.exists():
        shutil.rmtree(top)
    top.mkdir(parents=True)
    data = os.urandom(9000)
    made: list[str] = []
    for i in range(dirs):
        parent = made[(i * 7) % len(made)] if made and i % 4 else str(top)
        d = f"{parent}/d{i}"
        os.mkdir(d)
        made.append(d)
    for j in range(files):
        d = made[j % dirs]
        p = f"{d}/f{j}"
        with open(p, "wb") as f:
            f.write(data[: (j * 37) % 9000])
        if j % 100 == 0:
            os.link(p, f"{d}/h{j}")
        if j % 150 == 0:
            os.symlink(f"f{j}", f"{d}/s{j}")
    os.sync()
    marker.write_text("")
    return top


def gnu_du(top: Path) -> tuple[float, int]:
    t = time.perf_counter()
    out = subprocess.run([DU, "-sxB1", str(top)], capture_output=True, text=True, check=True).stdout
    return time.perf_counter() - t, int(out.split("\t", 1)[0])


def ours(top: Path) -> tuple[float, int]:
    t = time.perf_counter()
    usage = DiskUsage().of(top)
    return time.perf_counter() - t, usage.bytes


def gnu_du_many(paths: list[str]) -> tuple[float, int]:
    t = time.perf_counter()
    out = subprocess.run([DU, "-sxB1", "-0", "--files0-from=-"], input=("\0".join(paths) + "\0").encode(),
                         capture_output=True, check=True).stdout
    return time.perf_counter() - t, sum(int(r.split(b"\t", 1)[0]) for r in out.split(b"\0") if r)


def ours_many(paths: list[str], engine: str) -> tuple[float, int]:
    t = time.perf_counter()
    got = usage_of_many(paths, engine=engine)
    return time.perf_counter() - t, sum(u.bytes for u in got.values())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dirs", type=int, default=10000)
    ap.add_argument("--files", type=int, default=200000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    top = BENCH_DIR / f"du-tree-{args.dirs}-{args.files}"
    t = time.perf_counter()
    build_tree(top, args.dirs, args.files)
    emit(tree=str(top), dirs=args.dirs, files=args.files, build_s=time.perf_counter() - t,
         load=" ".join(Path("/proc/loadavg").read_text().split()[:3]).replace(" ", "/"))
    _, du_bytes = gnu_du(top)  # warm both
    _, our_bytes = ours(top)
    if du_bytes != our_bytes:
        print(f"MISMATCH: du -sxB1 says {du_bytes}, store.disk.du says {our_bytes}", file=sys.stderr)
        return 1
    du_times, our_times = [], []
    for _ in range(args.runs):
        du_times.append(gnu_du(top)[0])
        our_times.append(ours(top)[0])
    du_med, our_med = statistics.median(du_times), statistics.median(our_times)
    emit(bytes=our_bytes, du_median_s=du_med, ours_median_s=our_med, du_min_s=min(du_times),
         ours_min_s=min(our_times))

    # many directories in one run, as a snapshotter's snapshots/<id> are counted
    subdirs = sorted(e.path for e in os.scandir(top) if e.is_dir(follow_symlinks=False))
    peer = gnu_du_many(subdirs)[1]
    for engine in ("python", "du"):
        if ours_many(subdirs, engine)[1] != peer:
            print(f"MISMATCH: usage_of_many(engine={engine}) disagrees with du on {len(subdirs)} dirs",
                  file=sys.stderr)
            return 1
    many: dict[str, list[float]] = {"du": [], "python": [], "auto": []}
    for _ in range(args.runs):
        many["du"].append(gnu_du_many(subdirs)[0])
        many["python"].append(ours_many(subdirs, "python")[0])
        many["auto"].append(ours_many(subdirs, "auto")[0])
    med = {k: statistics.median(v) for k, v in many.items()}
    emit(many_dirs=len(subdirs), many_du_median_s=med["du"], many_python_median_s=med["python"],
         many_auto_median_s=med["auto"])

    print(f"\n{'':44}{'seconds':>10}{'ratio':>8}")
    print(f"{'one tree: GNU du -sx (peer)':44}{du_med:>10.3f}{1.0:>8.2f}")
    print(f"{'one tree: DiskUsage().of (Python walk)':44}{our_med:>10.3f}{our_med / du_med:>8.2f}")
    print(f"{f'{len(subdirs)} dirs: GNU du --files0-from (peer)':44}{med['du']:>10.3f}{1.0:>8.2f}")
    print(f"{f'{len(subdirs)} dirs: usage_of_many, Python walk':44}{med['python']:>10.3f}"
          f"{med['python'] / med['du']:>8.2f}")
    print(f"{f'{len(subdirs)} dirs: usage_of_many, auto (GNU du)':44}{med['auto']:>10.3f}"
          f"{med['auto'] / med['du']:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
