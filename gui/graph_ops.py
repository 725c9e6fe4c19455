"""The image graph and layer reading, as plain functions that run on a worker thread (no Qt).

Each takes the store and a job (for cancel, progress and partial results) and returns
plain data from ``store.graph`` / ``store.layers``; the GUI only ever queries the result.
"""

from __future__ import annotations

import logging
import time

from store import errors

log = logging.getLogger(__name__)

LAYER_BATCH = 500          # entries per batch sent to the layer browser
LAYER_BATCH_SECONDS = 0.2  # ...or whatever arrived within this time
PREVIEW_LIMIT = 256 * 1024  # bytes of a file inside a layer read for its preview


def build_graph(store, rows: list, job):
    """The reference graph of ``store`` from a scan's rows (no second walk; cached media types)."""
    from store import graph, oci
    try:
        cache = oci.MediaTypeCache(oci.default_cache_path(store))
    except Exception as e:  # noqa: BLE001 - without a cache the graph is still built, only slower
        log.info("media-type cache unavailable (%s); building the graph without it", e)
        cache = None
    started = time.monotonic()
    try:
        g = graph.load_graph(store, cache, infos=rows, cancel=lambda: job.cancelled,
                             progress=lambda done, total: job.progress(done, total))
    finally:
        if cache is not None:
            cache.close()
    log.info("reference graph of %d blobs, %d edges built in %.2f s", len(g.sizes), g.edge_count,
             time.monotonic() - started)
    return g


def list_layer(store, digest: str, job) -> int:
    """Stream a layer's tar entries to the GUI in batches (``job.partial``); returns the count."""
    from store import layers
    batch: list = []
    count = 0
    last = time.monotonic()
    for entry in layers.iter_layer(store, digest, cancel=lambda: job.cancelled):
        batch.append(entry)
        count += 1
        if len(batch) >= LAYER_BATCH or time.monotonic() - last >= LAYER_BATCH_SECONDS:
            job.partial(batch)
            batch = []
            last = time.monotonic()
    if batch:
        job.partial(batch)
    if job.cancelled:
        raise errors.Cancelled(f"listing layer {digest} was stopped after {count} entries")
    return count


def read_layer_file(store, digest: str, path: str, job):
    """The first bytes of one file inside a layer, for a plain-text preview."""
    from store import layers
    return layers.read_layer_file(store, digest, path, max_bytes=PREVIEW_LIMIT,
                                  cancel=lambda: job.cancelled)
