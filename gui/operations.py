"""What each action does to the store, as plain functions that run on a worker thread.

No Qt here: each takes the store (and a job for progress/cancel) and returns a
result record, so the GUI can report partial outcomes truthfully.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from store import errors, workers
from store.digest import Digest
from store.timestamps import Timestamp
from store.types import Info

from .details.preview import PREVIEW_BYTES, Preview, render
from .rows import BlobRow

if TYPE_CHECKING:
    from store.api import BlobscopeStore, ContentStore

log = logging.getLogger(__name__)

EXPORT_CHUNK = 1 << 20


@dataclass
class BatchResult:
    """Outcome of an action on many items: which succeeded, which failed and why."""

    done: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def delete_blobs(store: ContentStore, digests: list[str], job=None) -> BatchResult:
    result = BatchResult()
    for i, d in enumerate(digests, 1):
        if job is not None and job.cancelled:  # the window closing, the app quitting: stop between blobs
            log.info("delete stopped after %d of %d blobs", i - 1, len(digests))
            break
        try:
            store.delete(d)
            result.done.append(d)
        except errors.NotFound:
            result.done.append(d)  # already gone: what the user asked for is true
        except (errors.ContentError, OSError) as e:
            result.failed.append((d, str(e)))
        if job is not None:
            job.progress(i, len(digests))
    log.info("deleted %d blobs, %d failed", len(result.done), len(result.failed))
    return result


def abort_ingests(store: BlobscopeStore, refs: list[str], broken: list[str], job=None) -> BatchResult:
    result = BatchResult()
    for ref in refs:
        try:
            store.abort(ref)
            result.done.append(ref)
        except errors.NotFound:
            result.done.append(ref)
        except (errors.ContentError, OSError) as e:
            result.failed.append((ref, str(e)))
    for ref_hash in broken:
        try:
            store.remove_broken_ingest(ref_hash)
            result.done.append(ref_hash)
        except (errors.ContentError, OSError) as e:
            result.failed.append((ref_hash, str(e)))
    log.info("aborted %d ingests, %d failed", len(result.done), len(result.failed))
    return result


def set_labels(store: ContentStore, row: BlobRow, labels: dict[str, str]) -> BlobRow:
    """Replace all labels of one blob; returns the row as the store now has it."""
    info = Info(digest=Digest(row.digest), size=row.size, created_at=Timestamp.from_ns(row.created_ns),
                updated_at=Timestamp.from_ns(row.updated_ns), labels=labels)
    new = BlobRow.from_info(store.update(info, "labels"))
    new.media_type = row.media_type
    new.verified = row.verified
    return new


def export_blob(store: ContentStore, digest: str, target: str, job=None) -> int:
    """Copy a blob to ``target`` through a temporary file, so a failure leaves no half file."""
    target_path = Path(target)
    with store.reader_at(digest) as r:
        size = r.size
        fd, tmp = tempfile.mkstemp(prefix=".blobscope-export-", dir=target_path.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                offset = 0
                while offset < size:
                    if job is not None and job.cancelled:
                        raise errors.Cancelled(f"export of {digest} cancelled")
                    chunk = r.read_at(min(EXPORT_CHUNK, size - offset), offset)
                    if not chunk:
                        raise errors.Unknown(f"blob {digest} ended early at byte {offset} of {size}")
                    out.write(chunk)
                    offset += len(chunk)
                    if job is not None:
                        job.progress(offset, size)
            os.replace(tmp, target_path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    return size


def verify_blobs(store: ContentStore, digests: list[str], job=None, workers: int | None = None,
                 sizes: dict[str, int] | None = None) -> dict[str, bool | None]:
    """Re-hash blobs (big ones on all cores): True matches, False mismatch, None vanished
    meanwhile.  A cancel stops between blobs; what was checked is returned."""
    from store.verify import verify_many

    sizes = sizes or {}
    results = verify_many(store, [(d, sizes.get(d)) for d in digests], jobs=workers,
                          progress=job.progress if job is not None else None,
                          cancel=(lambda: job.cancelled) if job is not None else None)
    out: dict[str, bool | None] = {}
    for r in results:
        if isinstance(r.error, errors.NotFound):
            out[r.digest] = None
        elif r.error is not None:
            raise r.error
        else:
            out[r.digest] = r.ok
    return out


def read_preview(store: ContentStore, digest: str) -> Preview:
    from store import oci

    with store.reader_at(digest) as r:
        n = min(r.size, PREVIEW_BYTES)
        data = r.read_at(n, 0) if n else b""
        # the same recognition as the media-type column (it reads at most a bounded prefix)
        media_type = oci.sniff(lambda k, off: data[off:off + k] if off + k <= len(data) else r.read_at(k, off),
                               r.size).media_type
        return render(data, r.size, media_type)


def import_one(store: BlobscopeStore, path: str, labels: dict[str, str], job=None) -> BlobRow:
    info = store.import_file(
        path, labels=labels or None,
        progress=(lambda done, total: job.progress(done, total)) if job is not None else None,
        cancel=(lambda: job.cancelled) if job is not None else None)
    return BlobRow.from_info(info)


CLASSIFY_CHUNK = 1000
# Blobs are recognised in worker processes forked by the fork server started with the window (a
# Qt process must not fork itself; store/workers.py).
WORKER_START = workers.THREADED


SORT_CHUNK = 5000  # rows sorted by one list.sort, at most (about a millisecond of the GIL)


def smallest_first(rows: list[tuple[str, int]]) -> list[str]:
    """The digests of ``rows`` (digest, size) by size, smallest first: what
    ``sorted(rows, key=size)`` gives (ties kept in their order), without one sort of them all.

    One ``sorted`` of a million rows is a single C call that held the GIL 130-160 ms on the
    media-type job while the GUI thread waited (the worst gap of the media + graph phase at 1M
    blobs, tests/perf/RESULTS.md).  Here the rows are spread by their size's bit length, then a
    byte of it at a time from the top (:func:`_by_size`): Python loops, which hand the GIL over
    as any other, and no ``list.sort`` of more than :data:`SORT_CHUNK` rows.
    """
    widths: list[list[tuple[str, int]]] = [[] for _ in range(65)]
    for row in rows:
        widths[min(row[1].bit_length(), 64)].append(row)
    out: list[str] = []
    for width, part in enumerate(widths):
        if part:
            _by_size(part, width - 9, out)
    return out


def _by_size(rows: list[tuple[str, int]], shift: int, out: list[str]) -> None:
    """Append to ``out`` the digests of ``rows``, whose sizes are equal above bit ``shift + 8``,
    by size (stable): one sort when few, else spread by bits ``shift .. shift + 7`` and each part
    the same way."""
    if len(rows) <= SORT_CHUNK:
        rows.sort(key=_size_of)
        out.extend(d for d, _size in rows)
        return
    if shift <= -8:  # every bit compared: one size, in the rows' order
        out.extend(d for d, _size in rows)
        return
    low = max(shift, 0)
    parts: list[list[tuple[str, int]]] = [[] for _ in range(256)]
    for row in rows:
        parts[(row[1] >> low) & 0xFF].append(row)
    for part in parts:
        if part:
            _by_size(part, shift - 8, out)


def _sent(digest: str, sent_declared: dict[str, str], result: dict) -> str | None:
    """What the media-type job gave the view for ``digest``: a declared type, else its own."""
    mt = sent_declared.get(digest)
    if mt is not None:
        return mt
    ct = result.get(digest)
    return ct.media_type if ct is not None else None


def _size_of(row: tuple[str, int]) -> int:
    return row[1]


def classify_media_types(store: ContentStore, rows: list[tuple[str, int]], job) -> dict:
    """Recognise blobs (store.oci, cached) smallest first and send media types as they are known.

    Manifests and indexes are small, so they come first and the media types they declare
    for their children (``layer.v1.tar+gzip`` rather than plain gzip) win.  Many uncached
    blobs are read by one worker process per core (from the fork server).  Returns the content types
    (digest -> ContentType) for the graph job to reuse.
    """
    from store import oci
    try:
        cache = oci.MediaTypeCache.for_store(store)
    except Exception as e:  # noqa: BLE001 - without a cache we still recognise, only slower
        log.info("media-type cache unavailable (%s); recognising without it", e)
        cache = None
    declared: dict[str, str] = {}
    # what the view was given for a blob, where that was a type a manifest declared; any other
    # blob was given its own (the result's).  One dict of every blob sent was a second 1M-entry
    # dict growing beside the result: each resize of it (to 2**21 slots, 41 MiB) is one C step
    # of 50-140 ms holding the GIL (the media + graph phase's worst gap, tests/perf/RESULTS.md)
    sent_declared: dict[str, str] = {}
    digests = smallest_first(rows)
    polls = [0]

    def cancelled() -> bool:  # polled per blob: also the moment to let the GUI thread in
        polls[0] += 1
        if not polls[0] & 31:
            time.sleep(0)
        return job.cancelled

    def found(types: dict) -> None:
        """A batch (the cached answers first, then each batch sniffed): to the view in chunks."""
        items = list(types.items())
        for start in range(0, len(items), CLASSIFY_CHUNK):
            part = {}
            for d, ct in items[start:start + CLASSIFY_CHUNK]:
                for desc in ct.descriptors:
                    if desc.media_type:
                        declared[str(desc.digest)] = desc.media_type
                part[str(d)] = ct.media_type
            # what a manifest declares wins; looked up per blob of the chunk (a pass over every
            # declared type per chunk was 60k x 100 dict steps at 100k blobs, on the GIL)
            for d in part:
                mt = declared.get(d)
                if mt is not None:
                    part[d] = sent_declared[d] = mt
            job.partial(part)
            time.sleep(0)

    try:
        result = oci.classify(store, digests, cache, cancel=cancelled, partial=found,
                              progress=lambda done, total: job.progress(done, total),
                              processes=WORKER_START)
        # every layer and config an image lists, where the view was given something else (a blob
        # recognised before the manifest that declares it, or by an earlier pass): sent in chunks,
        items = [(d, mt) for d, mt in declared.items() if _sent(d, sent_declared, result) != mt]
        for start in range(0, len(items), CLASSIFY_CHUNK):  # as one they held the GUI thread 3-5 s at 1M
            job.partial(dict(items[start:start + CLASSIFY_CHUNK]))
            time.sleep(0)
    finally:
        if cache is not None:
            cache.close()
    return result
