#!/usr/bin/env python3
"""``store.disk.du`` against GNU ``du -sx`` on the same tree, measured in one run.

    python tests/perf/bench_du.py [--dirs 10000] [--files 200000] [--runs 5]

The tree (``--dirs`` directories nested a few levels deep, ``--files`` files of 0–9 KB, one
in 100 hard-linked, one in 150 a symbolic link) is built once under
``$BLOBSCOPE_BENCH_DIR`` (default /tmp/blobscope-bench) and kept.  Both sides get one untimed
pass first (warm cache), then ``--runs`` alternating timed passes each; GNU du is timed as a
process (``du -sxB1 TREE``), ours in-process (``DiskUsage().of(TREE)``).  The two totals must
agree (else the run fails); the figures are printed as ``key=value`` lines with the ratio of
the medians (ours / du: below 1 is faster than du).
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

from store.disk.du import DiskUsage  # noqa: E402

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
    print(f"\n{'':24}{'seconds':>10}{'ratio':>8}")
    print(f"{'GNU du -sx (peer)':24}{du_med:>10.3f}{1.0:>8.2f}")
    print(f"{'store.disk.du':24}{our_med:>10.3f}{our_med / du_med:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
