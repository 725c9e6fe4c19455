"""The image graph updated for the blobs that changed, on a worker thread (no Qt).

After a commit, a delete or a label edit only the digests the blobs model noted are looked at:
blobs new to the graph are recognised (the media-type cache, else a read of their heads), the
rest of the graph is the previous one's (``store.graph.Graph.updated``).  A full build
(graph_ops.build_graph) is for a new listing, or when too many blobs changed at once.
"""

from __future__ import annotations

import gc
import logging
import time
from typing import TYPE_CHECKING

from .graph_ops import FREEZE_ABOVE

if TYPE_CHECKING:
    from store.api import ContentStore
    from store.graph import Graph

log = logging.getLogger(__name__)

MAX_CHANGED = 20000  # more changed digests than this, and than half the store: a full build costs about the same


def max_changed(blobs: int) -> int:
    """The most changed digests a graph of ``blobs`` blobs is updated for rather than built again.

    A Delete of 100k rows of a million-blob store is an update: a second full build beside the
    graph in use doubled the window's memory (2.3-2.6 GB at 1M, tests/perf/RESULTS.md), while
    the update shares every unchanged fact with it and reads nothing.
    """
    return max(MAX_CHANGED, blobs // 2)


def update_graph(store: ContentStore, graph: Graph, rows, changed: set[str], job, known: dict | None = None):
    """``graph`` with the blobs of ``changed`` as ``rows`` (digest -> row, a snapshot) has them now."""
    from store import oci
    from store.disk import image_records
    names = image_records.recorded_names(store)  # image records are not watched: read them as a build does
    try:
        cache = oci.MediaTypeCache.for_store(store)
    except Exception as e:  # noqa: BLE001 - without a cache the new blobs are read, which is fine
        log.info("media-type cache unavailable (%s); updating the graph without it", e)
        cache = None
    started = time.monotonic()
    present, gone = [], []
    for d in changed:
        row = rows.get(d)
        if row is None:
            gone.append(d)
        else:
            present.append(row)
    ingest_count = ingest_bytes = None
    if hasattr(store, "list_statuses"):
        try:
            statuses = store.list_statuses()
            ingest_count, ingest_bytes = len(statuses), sum(s.offset for s in statuses)
        except Exception as e:  # noqa: BLE001 - the figures of the previous graph stay
            log.info("ingest usage could not be read: %s", e)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        g = graph.updated(store, cache, present, gone, known=known, extra_roots=names,
                          ingest_count=ingest_count, ingest_bytes=ingest_bytes,
                          cancel=lambda: job.cancelled)
        g.images()
    finally:
        if cache is not None:
            cache.close()
        if len(graph.sizes) >= FREEZE_ABOVE:
            # The update copied the graph's big tables (dicts of 100k-1M entries: a few objects, but
            # the collector traverses every entry of a young one): the first collection after
            # this, even of the youngest generation alone, walked them all with the GIL held
            # (a 210 ms gen-0 pass, the worst GUI stall of a Delete of 100k at 1M blobs).  Out of
            # its sight, as a build's graph is (graph_ops.build_graph); refcounting frees them.
            gc.freeze()
        if gc_was_enabled:
            gc.enable()
    log.info("reference graph updated for %d changed blobs (%d gone) in %.3f s", len(changed), len(gone),
             time.monotonic() - started)
    return g
