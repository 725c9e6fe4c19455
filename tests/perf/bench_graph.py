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
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from store import LocalStore, oci  # noqa: E402
from store import graph as G  # noqa: E402
from tests.support.image_store import populate  # noqa: E402

BENCH_DIR = Path(os.environ.get("BLOBSCOPE_BENCH_DIR", "/tmp/blobscope-bench")) / "graph"


def emit(**kv) -> None:
    print(" ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in kv.items()), flush=True)


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
