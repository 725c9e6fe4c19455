"""Where a reference graph's bytes go, structure by structure (issue 12: the graph at 1M blobs).

Run: ``.venv/bin/python tests/perf/graph_bytes.py <content dir>`` (a store whose media-type cache
is warm: one of bench_million_graph.py's, e.g. ``~/.cache/blobscope-bench/graph-100000/content``).

Builds the graph as ``blobctl`` does (``load_graph``), then walks each structure the graph and its
facts hold with ``sys.getsizeof``, every object counted once, under the first structure that
reaches it (so the blobs' ``Digest`` objects, shared by every table, are a line of their own).
The figures are bytes per blob of the store; tests/perf/RESULTS.md has them before and after.
"""

from __future__ import annotations

import sys
from array import array
from pathlib import Path

_REPO = Path(__file__).resolve().parents[2]
if str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))


def deep_size(obj, seen: set[int]) -> int:
    total, stack = 0, [obj]
    while stack:
        x = stack.pop()
        if x is None or isinstance(x, (bool, type)) or id(x) in seen:
            continue
        seen.add(id(x))
        if type(x).__name__ == "Kind":  # enum members: shared by the whole process
            continue
        total += sys.getsizeof(x)
        if isinstance(x, dict):
            stack.extend(x.keys())
            stack.extend(x.values())
        elif isinstance(x, (list, tuple, set, frozenset)):
            stack.extend(x)
        elif not isinstance(x, (str, bytes, int, float, array, bytearray)):
            for cls in type(x).__mro__:
                for name in getattr(cls, "__slots__", ()) or ():
                    if hasattr(x, name):
                        stack.append(getattr(x, name))
            if hasattr(x, "__dict__"):
                stack.append(x.__dict__)
    return total


def main(argv: list[str]) -> int:
    from store import LocalStore, oci
    from store import graph as G
    store = LocalStore(argv[0])
    cache = oci.MediaTypeCache.for_store(store)
    g = G.load_graph(store, cache)
    g.images()
    n = len(g.sizes)
    f = g.facts
    seen: set[int] = set()
    rows = [("Digest objects of the blobs in the dicts", deep_size(list(f.sizes), seen))]
    for name in f.__slots__:
        if name not in ("dirty", "base", "base_maps"):
            rows.append((f"facts.{name}", deep_size(getattr(f, name), seen)))
    for name in ("_children", "_parents", "roots", "reachable", "_image_digests", "_top_level", "_image_space",
                 "_names"):
        rows.append((f"graph.{name}", deep_size(getattr(g, name), seen)))
    rows.append(("the rest of the graph", deep_size(g, seen)))
    print(f"{n} blobs ({len(f.sizes)} in the dicts, the rest plain), {g.edge_count} edges")
    for name, size in rows:
        if size:
            print(f"  {name:44s} {size / n:8.1f} B/blob  {size / 1e6:8.1f} MB")
    total = sum(size for _name, size in rows)
    print(f"  {'total':44s} {total / n:8.1f} B/blob  {total / 1e6:8.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
