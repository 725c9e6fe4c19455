"""The unreferenced rows after one outside change: adjusted for what changed
(``updated_unreferenced``) against the whole pass over every row (``unreferenced_rows``, what
every graph update cost before), on N rows with N/50 roots (issue 12: in proportion to the change).

Run: ``.venv/bin/python tests/perf/bench_unreferenced.py [N]`` (default 1000000).

In memory, no store: the rows are the blobs table's columns (gui/blobs/columns.py) and the graph
is ``store.graph.build_graph`` over them, its references and roots in labels (one root per 50
blobs with ``containerd.io/gc.root`` and four ``gc.ref.content`` children; the rest referenced by
nothing).  Each change is applied to the columns and the graph built again whole (not timed),
then both ways of working out the unreferenced rows are timed on the graph worker's thread,
interleaved, best of ``ROUNDS``, as CPU (``thread_time``) and wall; the two answers must be equal.
Changes: a blob committed, a gc.root label added to a blob naming two others, a referenced
blob deleted, a "manifest" committed that makes three unreferenced blobs referenced.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

_REPO = Path(__file__).resolve().parents[2]
if str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))

PER_ROOT, CHILDREN, ROUNDS = 50, 4, 3
GC_ROOT = "containerd.io/gc.root"
REF = "containerd.io/gc.ref.content.l.{}"


def digest(i: int) -> str:
    import hashlib
    return "sha256:" + hashlib.sha256(b"unref bench %d" % i).hexdigest()


def run(n: int) -> dict:
    from gui.blobs.columns import BlobColumns
    from gui.images.unreferenced import unreferenced_rows, updated_unreferenced
    from gui.rows import BlobRow
    from store.graph import build_graph

    t = time.perf_counter()
    rows: dict[str, BlobRow] = {}
    for i in range(n):
        labels = {}
        if i % PER_ROOT == 0:
            labels = {GC_ROOT: "x", **{REF.format(j): digest(i + 1 + j) for j in range(CHILDREN)}}
        d = digest(i)
        rows[d] = BlobRow(d, 100 + i % 1000, 1, 1, labels)
    cols = BlobColumns()
    cols.add_many(list(rows.values()))
    graph = build_graph(list(rows.values()), {})
    snap = cols.snapshot()
    unref = unreferenced_rows(cols, snap, graph.reachable, lambda: False)
    assert unref is not None
    result: dict = {"rows": n, "roots": len(graph.roots), "unreferenced": unref.count,
                    "setup_s": round(time.perf_counter() - t, 1)}
    fresh = n

    def change(name: str, added=(), relabelled=(), removed=()):
        nonlocal graph, snap, unref
        changed = set()
        for r in added:
            rows[r.digest] = r
            cols.add(r)
            changed.add(r.digest)
        for r in relabelled:
            rows[r.digest] = r
            cols.update(cols.find(r.digest), r, keep_media=True, keep_verified=True)
            changed.add(r.digest)
        for d in removed:
            del rows[d]
            cols.remove(d)
            changed.add(d)
        new_graph = build_graph(list(rows.values()), {})
        new_snap = cols.snapshot(prev=snap)
        times: dict[str, list[tuple[float, float]]] = {"adjusted": [], "whole": []}
        for _ in range(ROUNDS):
            for way in ("adjusted", "whole"):
                t, c = time.perf_counter(), time.thread_time()
                if way == "adjusted":
                    out = updated_unreferenced(unref, graph, new_graph, new_snap, changed, lambda: False)
                else:
                    out = unreferenced_rows(cols, new_snap, new_graph.reachable, lambda: False)
                times[way].append((time.perf_counter() - t, time.thread_time() - c))
                assert out is not None
                if way == "adjusted":
                    adjusted = out
                else:
                    whole = out
        assert list(adjusted.rids()) == list(whole.rids()) and (adjusted.count, adjusted.size) == (whole.count, whole.size)
        a_cpu = min(c for _, c in times["adjusted"]) * 1000
        w_cpu = min(c for _, c in times["whole"]) * 1000
        result[name] = {"changed": len(changed), "looked_at": adjusted.looked_at,
                        "adjusted_cpu_ms": round(a_cpu, 2), "whole_cpu_ms (peer)": round(w_cpu, 1),
                        "adjusted_wall_ms": round(min(w for w, _ in times["adjusted"]) * 1000, 2),
                        "whole_wall_ms": round(min(w for w, _ in times["whole"]) * 1000, 1),
                        "ratio_cpu": round(a_cpu / w_cpu, 4), "unreferenced": adjusted.count}
        graph, snap, unref = new_graph, new_snap, adjusted

    change("commit", added=[BlobRow(digest(fresh), 123, 2, 2, {})])
    # an unreferenced blob naming two others gets a gc.root label: all three referenced
    a = PER_ROOT // 2
    change("label_gc_root_added", relabelled=[BlobRow(digest(a), 100, 1, 1, {
        GC_ROOT: "now", REF.format(0): digest(a + 1), REF.format(1): digest(a + 2)})])
    change("delete_referenced", removed=[digest(PER_ROOT + 1)])
    b = 3 * PER_ROOT + 10
    change("commit_manifest", added=[BlobRow(digest(fresh + 1), 500, 3, 3, {
        GC_ROOT: "m", **{REF.format(j): digest(b + j) for j in range(3)}})])
    result["load_average"] = os.getloadavg()
    return result


if __name__ == "__main__":
    sizes = [int(a) for a in sys.argv[1:]] or [1_000_000]
    for size in sizes:
        print(json.dumps(run(size), indent=2), flush=True)
