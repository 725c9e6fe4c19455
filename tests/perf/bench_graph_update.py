"""The image graph after one change, updated (``Graph.updated``) against rebuilt (design.md §8).

Run: ``.venv/bin/python tests/perf/bench_graph_update.py [BLOBS [IMAGES]]`` (default 20 000
blobs, 1 000 two-platform images) or ``.venv/bin/python -m pytest -m perf
tests/perf/bench_graph_update.py -s``.

The store (tests/support/image_store.py) is built once under ``$BLOBSCOPE_BENCH_DIR``.  With
the media-type cache warm, three changes are made through the library, each measured both
ways, interleaved, median of ``ROUNDS``: a manifest committed (the update reads that blob's
head), a layer deleted, a label edited.  The peer, in the same run, is what every change cost
before: ``load_graph`` over the whole listing with the warm cache (every cached type looked up,
every edge made again).  Blobs opened are counted at the store's opener.
"""

from __future__ import annotations

import collections
import json
import os
import statistics
import sys
import time
from pathlib import Path

_REPO = Path(__file__).resolve().parents[2]
if str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))

import pytest  # noqa: E402

BLOBS, IMAGES, ROUNDS = 20_000, 1_000, 5
BENCH_DIR = Path(os.environ.get("BLOBSCOPE_BENCH_DIR", "/tmp/blobscope-bench"))


def run(blobs: int = BLOBS, images: int = IMAGES) -> dict:
    from store import Digest, Info, LocalStore, oci
    from store import graph as G
    from store import local as local_mod
    from store import reader as reader_mod
    from tests.support.image_store import populate

    root = BENCH_DIR / f"graph-update-{blobs}-{images}"
    populate(root, blobs, images)
    store = LocalStore(root / "content")
    cache = oci.MediaTypeCache(root / "cache.db")
    g = G.load_graph(store, cache)  # warms the cache
    opened: collections.Counter = collections.Counter()
    real = reader_mod.open_blob

    def counting_open(path, extra_flags=0, *, dir_fd=None):
        opened[os.path.basename(os.fspath(path))] += 1
        return real(path, extra_flags, dir_fd=dir_fd)

    local_mod.open_blob = reader_mod.open_blob = counting_open  # type: ignore[assignment]
    types = g.blob_types()
    config = next(d for d, (_, k) in types.items() if k == "config")
    layers = sorted(d for d, (_, k) in types.items() if k == "layer")
    times: dict[str, list[float]] = {}
    reads: dict[str, int] = {}
    cpu: dict[str, float] = collections.defaultdict(float)

    def timed(name: str, fn):
        opened.clear()
        c, t = time.process_time(), time.perf_counter()
        out = fn()
        times.setdefault(name, []).append(time.perf_counter() - t)
        cpu[name] += time.process_time() - c
        reads[name] = max(reads.get(name, 0), sum(opened.values()))
        return out

    for r in range(ROUNDS):
        doc = {"schemaVersion": 2, "mediaType": oci.OCI_MANIFEST, "annotations": {"bench": f"{time.time_ns()}"},
               "config": {"mediaType": oci.OCI_CONFIG, "digest": str(config), "size": g.sizes[config]},
               "layers": [{"mediaType": oci.OCI_LAYER_GZIP, "digest": str(layers[r]), "size": g.sizes[layers[r]]}]}
        data = json.dumps(doc).encode()
        m = Digest.from_bytes(data)
        with store.writer(f"bench-{m.encoded[:12]}", total=len(data), expected=m) as w:
            w.write(data)
            w.commit(len(data), m)
        rows = [store.info(m)]
        g1 = timed("commit: updated", lambda rows=rows: g.updated(store, cache, rows, []))
        timed("commit: rebuilt (peer)", lambda: G.load_graph(store, cache))
        victim = layers[-1 - r]
        with store.reader_at(victim) as rd:
            kept = rd.read_at(g.sizes[victim], 0)
        store.delete(victim)
        g2 = timed("delete: updated", lambda g1=g1, victim=victim: g1.updated(store, cache, [], [str(victim)]))
        timed("delete: rebuilt (peer)", lambda: G.load_graph(store, cache))
        info = store.info(config)
        store.update(Info(config, info.size, info.created_at, info.updated_at, {"containerd.io/gc.root": f"{r}"}),
                     "labels.containerd.io/gc.root")
        rows = [store.info(config)]
        timed("label: updated", lambda g2=g2, rows=rows: g2.updated(store, cache, rows, []))
        timed("label: rebuilt (peer)", lambda: G.load_graph(store, cache))
        # back as it was, so that each round starts from the same store
        store.delete(m)
        with store.writer(f"bench-back-{r}", total=len(kept), expected=victim) as w:
            w.write(kept)
            w.commit(len(kept), victim)
    local_mod.open_blob = reader_mod.open_blob = real  # type: ignore[assignment]
    result: dict = {"blobs": len(g.sizes), "images": len(g.images()), "edges": g.edge_count, "rounds": ROUNDS}
    for kind in ("commit", "delete", "label"):
        up, peer = statistics.median(times[f"{kind}: updated"]), statistics.median(times[f"{kind}: rebuilt (peer)"])
        result[kind] = {"updated_ms": round(up * 1000, 1), "rebuilt_ms": round(peer * 1000, 1),
                        "ratio": round(up / peer, 3),
                        "cpu_updated_ms": round(cpu[f"{kind}: updated"] * 1000 / ROUNDS, 1),
                        "cpu_rebuilt_ms": round(cpu[f"{kind}: rebuilt (peer)"] * 1000 / ROUNDS, 1),
                        "blobs_opened_updated": reads[f"{kind}: updated"],
                        "blobs_opened_rebuilt": reads[f"{kind}: rebuilt (peer)"]}
    return result


@pytest.mark.perf
def test_bench_graph_update():
    result = run(int(os.environ.get("BLOBSCOPE_BENCH_BLOBS", BLOBS)), int(os.environ.get("BLOBSCOPE_BENCH_IMAGES", IMAGES)))
    print(json.dumps(result, indent=2))
    assert result["commit"]["blobs_opened_updated"] == 1


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    print(json.dumps(run(*args), indent=2))
