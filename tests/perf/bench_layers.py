#!/usr/bin/env python3
"""The dive-style analysis of a big image (issue 10, "Speed": 500 MB, 20 layers).

    python tests/perf/bench_layers.py [--mb 500] [--layers 20] [--runs 3]

The image (built once, cached under ``$BLOBSCOPE_BENCH_DIR/layers``): ``--layers`` gzip tar
layers of about ``--mb / --layers`` MB of files each, file contents half random bytes and half
text (gzip keeps about 55 %); from the second layer on each layer also rewrites a few files of
the layer below, whites out a few others and makes one directory opaque, so every rule runs.

Measured, interleaved, ``--runs`` times, one ``key=value`` line each and a ratio table:

* ``ours``: ``store.imagepick.resolve`` + ``store.squash.analyse`` (every change kept, as the GUI
  and ``--changes`` do) through the store's reader;
* ``floor``: a bare Python pass over the same layer files: ``gzip`` + ``tarfile`` in stream mode,
  every member read in order, nothing kept;
* ``dive --ci`` when ``dive`` is on PATH (Debian 12 has no package; it is not here).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from store import LocalStore, imagepick, squash  # noqa: E402

BENCH_DIR = Path(os.environ.get("BLOBSCOPE_BENCH_DIR", "/tmp/blobscope-bench")) / "layers"
FILE_SIZE = 256 * 1024


def emit(**kv) -> None:
    print(" ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in kv.items()), flush=True)


def _write(blobs: Path, data: bytes) -> str:
    hexd = hashlib.sha256(data).hexdigest()
    p = blobs / hexd
    if not p.exists():
        p.write_bytes(data)
        os.chmod(p, 0o444)
    return "sha256:" + hexd


def _content(rng: random.Random, n: int) -> bytes:
    half = n // 2
    text = (b"the quick brown fox jumps over the lazy dog %d\n" % rng.randrange(1 << 30)) * (half // 40 + 1)
    return rng.randbytes(n - half) + text[:half]


def _layer(rng: random.Random, i: int, files: int, below: list[str]) -> tuple[bytes, list[str]]:
    buf = io.BytesIO()
    made: list[str] = []
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        def add(name: str, data: bytes) -> None:
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode, ti.mtime = len(data), 0o644, 1700000000
            tar.addfile(ti, io.BytesIO(data))
        if below:
            for name in rng.sample(below, min(5, len(below))):
                add(name, _content(rng, FILE_SIZE))            # rewritten
            for name in rng.sample(below, min(5, len(below))):
                add(f"{os.path.dirname(name)}/.wh.{os.path.basename(name)}", b"")  # deleted
            add(f"l{i - 1}/d0/.wh..wh..opq", b"")                 # an opaque directory
        for k in range(files):
            name = f"l{i}/d{k % 8}/f{k:05d}"
            add(name, _content(rng, FILE_SIZE))
            made.append(name)
    return gzip.compress(buf.getvalue(), compresslevel=1, mtime=0), made


def build(mb: int, nlayers: int) -> tuple[Path, str, list[Path]]:
    where = BENCH_DIR / f"{mb}mb-{nlayers}"
    stamp = where / "done.json"
    if stamp.exists():
        doc = json.loads(stamp.read_text())
        return where / "content", doc["manifest"], [Path(p) for p in doc["layers"]]
    if where.exists():
        shutil.rmtree(where)
    blobs = where / "content" / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    rng = random.Random(10)
    per_layer = max(1, mb * 1_000_000 // nlayers // FILE_SIZE)
    descs, paths, below = [], [], []
    for i in range(nlayers):
        data, made = _layer(rng, i, per_layer, below)
        below = made
        d = _write(blobs, data)
        descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d, "size": len(data)})
        paths.append(str(blobs / d.split(":")[1]))
        print(f"layer {i}: {len(data) / 1e6:.1f} MB gzip", file=sys.stderr, flush=True)
    cfg = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    c = _write(blobs, cfg)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": c,
                                      "size": len(cfg)}, "layers": descs}).encode()
    m = _write(blobs, manifest)
    stamp.write_text(json.dumps({"manifest": m, "layers": paths}))
    return where / "content", m, [Path(p) for p in paths]


def ours(root: Path, manifest: str) -> squash.Analysis:
    store = LocalStore(root)
    return squash.analyse(store, imagepick.resolve(store, manifest), keep_changes=True)


def floor(paths: list[Path]) -> int:
    n = 0
    for p in paths:
        with open(p, "rb", buffering=1 << 20) as f, gzip.GzipFile(fileobj=f) as z, tarfile.open(fileobj=z, mode="r|") as tar:
            for _m in tar:
                n += 1
    return n


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=500)
    ap.add_argument("--layers", type=int, default=20)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    root, manifest, paths = build(a.mb, a.layers)
    compressed = sum(p.stat().st_size for p in paths)
    dive = shutil.which("dive")
    emit(layers=len(paths), gzip_bytes=compressed, dive="present" if dive else "absent (no Debian 12 package)")
    times: dict[str, list[float]] = {"ours": [], "floor": []}
    result = None
    for run in range(a.runs):
        order = ("ours", "floor") if run % 2 == 0 else ("floor", "ours")
        for what in order:
            t = time.perf_counter()
            if what == "ours":
                result = ours(root, manifest)
            else:
                floor(paths)
            times[what].append(time.perf_counter() - t)
    assert result is not None
    emit(total_bytes=result.total_bytes, squashed_bytes=result.squashed_bytes, wasted_bytes=result.wasted_bytes,
         efficiency=result.efficiency, paths=result.root.count() - 1, problems=result.problem_count)
    med = {k: statistics.median(v) for k, v in times.items()}
    for k, v in times.items():
        emit(what=k, median_s=med[k], runs=",".join(f"{x:.2f}" for x in v))
    print("\n| what | median | ratio to the tarfile floor |\n|---|---|---|")
    print(f"| bare gzip+tarfile pass (floor) | {med['floor']:.2f} s | 1.00x |")
    print(f"| store.squash.analyse | {med['ours']:.2f} s | {med['ours'] / med['floor']:.2f}x |")
    if dive:  # not on this machine; kept so a machine with dive measures it in the same run
        t = time.perf_counter()
        subprocess.run([dive, "--ci", "--source", "docker-archive", str(root)], capture_output=True)
        print(f"| dive --ci | {time.perf_counter() - t:.2f} s | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
