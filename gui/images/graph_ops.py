"""The image graph and layer reading, as plain functions that run on a worker thread (no Qt).

Each takes the store and a job (for cancel, progress and partial results) and returns
plain data from ``store.graph`` / ``store.layers``; the GUI only ever queries the result.
"""

from __future__ import annotations

import gc
import logging
import time
from array import array
from itertools import compress, islice
from typing import TYPE_CHECKING

from store import errors, workers

from ..blobs.columns import ColumnsSnapshot
from ..drain import dismantle, drain
from ..memory import release_freed_memory

if TYPE_CHECKING:
    from store.api import ContentStore

log = logging.getLogger(__name__)

LAYER_BATCH = 500          # entries per batch sent to the layer browser
LAYER_BATCH_SECONDS = 0.2  # ...or whatever arrived within this time
PREVIEW_LIMIT = 256 * 1024  # bytes of a file inside a layer read for its preview
YIELD_EVERY = 256           # rows validated between two GIL hand-offs to the GUI thread
FREEZE_ABOVE = 20000        # graphs of stores this big are frozen out of the cyclic GC (as the scanner does)
COPY_ABOVE = 200_000        # graphs of stores this big are written out and read back once built (below)
WORKER_START = workers.THREADED  # workers from the fork server: a Qt process must not fork (store/workers.py)


class _Record:
    """What the graph needs of a row, with its digest already validated (a Digest)."""

    __slots__ = ("digest", "size", "labels")

    def __init__(self, digest, size: int, labels: dict):
        self.digest, self.size, self.labels = digest, size, labels


class _SetsOnce(dict):
    """Each label set as one dict for the whole build: the columns make a new dict from a set's
    text at every access (gui/blobs/columns.py), and a million rows would hold a million."""

    def __init__(self, sets):
        super().__init__({0: {}})
        self.sets = sets

    def __missing__(self, lid: int) -> dict:
        labels = self[lid] = self.sets[lid]
        return labels


def _records(rows, job, known: dict | None = None) -> list[_Record]:
    """Validate the rows' digests here, handing the GIL to the GUI thread between small chunks.

    A CPU-bound worker makes every Python call the GUI thread needs (each cell it paints) wait
    for the GIL; validating 100k digests in one go stalled the window for 250 ms.  ``rows``: a
    sequence of rows, or a :class:`ColumnsSnapshot` read column by column (no row object per blob).
    ``known``: the media-type pass's result, whose keys are these digests already validated: they
    are taken as they are (one dict look-up each) rather than validated a second time.
    """
    from store.digest import Digest
    same: dict = {}
    keys = iter(known or ())
    while chunk := list(islice(keys, YIELD_EVERY * 16)):  # one dict(zip()) of 1M held the GIL ~100 ms
        same.update(zip(chunk, chunk))
        time.sleep(0)

    def digest(text: str, _get=same.get) -> Digest:
        return _get(text) or Digest(text)
    out: list = []
    if isinstance(rows, ColumnsSnapshot):
        snap = rows
        rids = array("l")
        for start in range(0, snap.n, YIELD_EVERY * 256):  # a slice at a time: one pass of 1M held the GIL
            end = min(start + YIELD_EVERY * 256, snap.n)
            rids.extend(compress(range(start, end), snap.alive[start:end]))
            time.sleep(0)
        sizes, lids = snap.sizes, snap.lids
        label_sets = _SetsOnce(snap.tables.label_sets)
        for start in range(0, len(rids), YIELD_EVERY):
            if job.cancelled:
                raise errors.Cancelled("building the reference graph stopped")
            part = rids[start:start + YIELD_EVERY]
            out.extend(map(_Record, map(digest, snap.digests_of(part)), map(sizes.__getitem__, part),
                           map(label_sets.__getitem__, map(lids.__getitem__, part))))
            time.sleep(0)
        return out
    for start in range(0, len(rows), YIELD_EVERY):
        if job.cancelled:
            raise errors.Cancelled("building the reference graph stopped")
        out.extend(_Record(digest(r.digest), r.size, r.labels) for r in rows[start:start + YIELD_EVERY])
        time.sleep(0)
    return out


def build_graph(store: ContentStore, rows: list, job, known: dict | list | None = None):
    """The reference graph of ``store`` from a scan's rows (no second walk; cached media types).

    ``known``: content types already recognised (the media-type job's result), used as they are;
    or a list holding them, taken out of it so that the build holds the only reference (they are
    dropped before the graph is copied, below).
    """
    from store import graph, graph_copy, oci
    if isinstance(known, list):
        known = known.pop() if known else None
    from store.disk import image_records
    names = image_records.recorded_names(store)  # the image records (meta.db or the daemon): names win
    try:
        cache = oci.MediaTypeCache.for_store(store)
    except Exception as e:  # noqa: BLE001 - without a cache the graph is still built, only slower
        log.info("media-type cache unavailable (%s); building the graph without it", e)
        cache = None
    started = time.monotonic()
    # Hundreds of thousands of new objects would trigger full cyclic collections (100-200 ms
    # with the GIL held: the GUI thread freezes); the graph holds no cycles, so collect nothing
    # while building and keep the big, long-lived result out of later collections.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        # The rows are the whole store as the last scan listed it: the cache forgets every other
        # digest (blobs deleted since).  Blobs left to recognise are read by worker processes.
        # the records are held here until the graph is made, then freed a chunk at a time (drain.py)
        records = _records(rows, job, known)
        g = graph.load_graph(store, cache, infos=records, known=known, extra_roots=names,
                             cancel=lambda: job.cancelled, progress=lambda done, total: job.progress(done, total),
                             processes=WORKER_START, prune=True)
        g.images()  # the per-image space, computed here rather than on first use
        if len(g.sizes) >= COPY_ABOVE:
            # Its objects were made among a million short-lived ones (the media types, the
            # build's records and tables), and keep most of the allocator's arenas once those
            # are gone (about 600 MiB at 1M blobs for 330 MB of graph): written out, dropped with
            # everything else, and read back, they sit together (store/graph_copy.py).
            data = graph_copy.to_bytes(g, cancel=lambda: job.cancelled)
            dismantle(g)
            del g
            known = None
            drain(records)
            release_freed_memory()
            g = graph_copy.from_bytes(data, cancel=lambda: job.cancelled)
            del data
        drain(records)
    finally:
        if cache is not None:
            cache.close()
        if gc_was_enabled:
            gc.enable()
    if len(rows) >= FREEZE_ABOVE:
        gc.freeze()
    log.info("reference graph of %d blobs, %d edges built in %.2f s", len(g.sizes), g.edge_count,
             time.monotonic() - started)
    return g


def list_layer(store: ContentStore, digest: str, job) -> int:
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


def read_layer_file(store: ContentStore, digest: str, path: str, job):
    """The first bytes of one file inside a layer, for a plain-text preview."""
    from store import layers
    return layers.read_layer_file(store, digest, path, max_bytes=PREVIEW_LIMIT,
                                  cancel=lambda: job.cancelled)
