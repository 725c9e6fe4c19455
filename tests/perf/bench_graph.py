#!/usr/bin/env python3
"""Time to a complete reference graph on a big store (issue 5, "Speed").

    python tests/perf/bench_graph.py [--blobs 100000] [--images 1000] [--runs 3]

Defaults: 100000 blobs, one two-platform image per 100 blobs (1000 indexes, 2000 manifests,
2000 configs, 8000 layers).

The store holds ``--images`` image indexes of two platforms each (so 2x manifests and 2x
configs), a pool of gzip tar layers (each manifest lists 8, so layers are shared between
images), and small random blobs that nothing references, up to ``--blobs`` in all.  Labels
are the ones ``ctr images import`` sets (index ``m.<i>``, manifest ``config`` + ``l.<i>``).

Measured, one ``key=value`` line each:

* ``cold``: ``load_graph`` with an empty media-type cache (every blob sniffed: 512 bytes each,
  plus the manifests/indexes/configs read whole), which fills the cache;
* ``warm``: ``load_graph`` again with the cache on disk (what every rescan costs), split into
  walk / cache lookup / build, plus ``images()`` + ``space()`` (per-image shared/unique sums).

Blobs are written in containerd's layout directly (no per-blob fsync), like bench_store.py.
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
import sys
import tarfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from store import LocalStore, oci  # noqa: E402
from store import graph as G  # noqa: E402

BENCH_DIR = Path(os.environ.get("BLOBSCOPE_BENCH_DIR", "/tmp/blobscope-bench")) / "graph"


def emit(**kv) -> None:
    print(" ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in kv.items()), flush=True)


def _write(blobs: Path, data: bytes) -> tuple[str, int]:
    hexd = hashlib.sha256(data).hexdigest()
    p = blobs / hexd
    if not p.exists():
        p.write_bytes(data)
        os.chmod(p, 0o444)
    return "sha256:" + hexd, len(data)


def _layer(i: int) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        data = f"layer {i}\n".encode() * 8
        ti = tarfile.TarInfo(f"data/{i}.txt")
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    return gzip.compress(buf.getvalue(), mtime=0)


def populate(root: Path, blobs_total: int, images: int, seed: int = 5) -> dict:
    """Build the store once (kept between runs, keyed by its shape)."""
    marker = root / "shape.json"
    shape = {"blobs": blobs_total, "images": images, "seed": seed, "v": 1}
    if marker.exists() and json.loads(marker.read_text()) == shape:
        return shape
    if root.exists():
        shutil.rmtree(root)
    content = root / "content"
    blobs = content / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    rnd = random.Random(seed)
    store = LocalStore(content)
    pool = [_write(blobs, _layer(i)) for i in range(max(16, images * 8))]
    count = len(pool)
    for n in range(images):
        entries = []
        for arch in ("amd64", "arm64"):
            cfg = json.dumps({"architecture": arch, "os": "linux", "config": {"Labels": {"n": str(n)}},
                              "rootfs": {"type": "layers", "diff_ids": []}}).encode()
            c, cn = _write(blobs, cfg)
            layers = rnd.sample(pool, 8)
            m = {"schemaVersion": 2, "mediaType": oci.OCI_MANIFEST,
                 "config": {"mediaType": oci.OCI_CONFIG, "digest": c, "size": cn},
                 "layers": [{"mediaType": oci.OCI_LAYER_GZIP, "digest": d, "size": s} for d, s in layers]}
            md, mn = _write(blobs, json.dumps(m).encode())
            lab = {"containerd.io/gc.ref.content.config": c}
            lab.update({f"containerd.io/gc.ref.content.l.{i}": d for i, (d, _) in enumerate(layers)})
            store.labels.set(md, lab)
            entries.append((md, mn, arch))
            count += 2
        idx = {"schemaVersion": 2, "mediaType": oci.OCI_INDEX, "manifests": [
            {"mediaType": oci.OCI_MANIFEST, "digest": d, "size": s, "platform": {"os": "linux", "architecture": a}}
            for d, s, a in entries]}
        xd, _ = _write(blobs, json.dumps(idx).encode())
        store.labels.set(xd, {f"containerd.io/gc.ref.content.m.{i}": d for i, (d, _, _) in enumerate(entries)})
        count += 1
    while count < blobs_total:
        _write(blobs, rnd.randbytes(256))
        count += 1
    marker.write_text(json.dumps(shape))
    return shape


def measure(content: Path, cache_path: Path) -> dict:
    store = LocalStore(content)
    t0 = time.perf_counter()
    infos = list(store.walk())
    t1 = time.perf_counter()
    cache = oci.MediaTypeCache(cache_path)
    types = oci.classify(store, infos, cache)
    t2 = time.perf_counter()
    statuses = store.list_statuses()
    g = G.build_graph(infos, types, ingest_count=len(statuses), ingest_bytes=sum(s.offset for s in statuses))
    t3 = time.perf_counter()
    imgs = g.images()
    sp = g.space()
    t4 = time.perf_counter()
    cache.close()
    return {"walk": t1 - t0, "classify": t2 - t1, "build": t3 - t2, "space": t4 - t3, "total": t4 - t0,
            "blobs": len(infos), "edges": g.edge_count, "images": len(imgs), "reclaimable": sp.reclaimable_count,
            "manifests": sum(1 for t in types.values() if t.kind == oci.Kind.MANIFEST)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--blobs", type=int, default=int(os.environ.get("BLOBSCOPE_BENCH_BLOBS", 100000)))
    ap.add_argument("--images", type=int, default=None, help="default: one per 100 blobs")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)
    args.images = args.images or max(1, args.blobs // 100)
    root = BENCH_DIR
    t = time.perf_counter()
    populate(root, args.blobs, args.images)
    emit(populate_s=time.perf_counter() - t)
    content = root / "content"
    cache_path = root / "cache.db"
    for p in root.glob("cache.db*"):
        p.unlink()
    list(LocalStore(content).walk())  # warm the page cache for the directory, as the warm runs see it
    cold = measure(content, cache_path)
    emit(phase="cold", **cold)
    warm = [measure(content, cache_path) for _ in range(args.runs)]
    for w in warm:
        emit(phase="warm", **w)
    emit(phase="warm-median", **{k: statistics.median(w[k] for w in warm) for k in ("walk", "classify", "build", "space", "total")})
    # The figures must describe the store that was built, or the timing means nothing.
    expected_reclaimable = args.blobs - (args.images * 5 + max(16, args.images * 8))
    ok = cold["images"] == args.images and cold["manifests"] == 2 * args.images
    ok = ok and all(w["edges"] == cold["edges"] for w in warm)
    ok = ok and cold["reclaimable"] >= expected_reclaimable and cold["blobs"] == args.blobs
    if not ok:
        print(f"unexpected graph: {cold}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
