"""Writing a blob through containerd's bidirectional ``Write`` stream.

The stream is driven like a conversation: each request gets one response, in order.
Writes are pipelined (a few chunks in flight) so the daemon hashes and writes while
Python prepares the next chunk.  When the client half-closes the stream, the daemon
sends its last response once more (research B.2); :meth:`_finish` drains it.
"""

from __future__ import annotations

import logging
import queue
import time

import grpc

from .. import errors
from ..digest import Digest
from ..labels import validate as validate_labels
from ..timestamps import Timestamp, format_rfc3339
from ..types import Status
from . import _rpc
from ._convert import ts_from_pb
from ._pb import content_pb2

log = logging.getLogger(__name__)

CHUNK = 4 << 20  # well under the daemon's 16 MiB message limit; 4 MiB measured fastest
WINDOW = 4  # WRITE requests in flight before waiting for answers
GC_ROOT = "containerd.io/gc.root"
ABORT_PATIENCE = 2.0  # seconds to wait for the daemon to let go of an ingest before aborting it

_END = object()


class ContainerdWriter:
    """One ingest on the daemon.  Not shared between threads (one writer per worker)."""

    def __init__(self, store, ref: str, *, open_stream, translate, total: int = 0,
                 expected: Digest | None = None, lease: str | None = None, owns_lease: bool = False,
                 gc_root: bool = True):
        """``open_stream(requests)`` starts the daemon's Write call (namespace and lease in its
        metadata); ``translate(exc, doing)`` turns a gRPC error into the store's error; ``store``
        is asked only what its public API offers (abort, delete_lease)."""
        self._store = store
        self._translate = translate
        self.ref = ref
        self._expected = expected
        self._lease = lease
        self._owns_lease = owns_lease
        self._gc_root = gc_root
        self._pending = 0
        self._done = False  # committed, closed, aborted or broken: no more requests
        self._settled = False  # committed or aborted: nothing left to clean up
        self._requests: queue.Queue = queue.Queue()
        self._call = None
        self._last = None
        self._call = open_stream(self._request_iter())
        try:
            first = self._ask(content_pb2.WriteContentRequest(
                action=content_pb2.STAT, ref=ref, total=total, expected=str(expected or "")))
        except BaseException:
            self._done = True
            self._call.cancel()
            self._drop_lease()
            raise
        self._offset = first.offset
        self._total = first.total or total
        self._started_at = ts_from_pb(first.started_at)
        log.debug("writer %r opened at offset %d (total %d)", ref, self._offset, self._total)

    # -- the conversation -----------------------------------------------------------

    def _request_iter(self):
        while True:
            item = self._requests.get()
            if item is _END:
                return
            yield item

    def _send(self, req) -> None:
        self._requests.put(req)
        self._pending += 1

    def _recv(self):
        try:
            resp = next(self._call)
        except StopIteration:
            raise errors.Unknown(
                f"containerd closed the write stream of {self.ref!r} without answering") from None
        except grpc.RpcError as exc:
            self._pending = 0
            raise self._translate(exc, f"writing {self.ref!r}") from None
        self._pending -= 1
        self._last = resp
        return resp

    def _ask(self, req):
        """Send ``req`` and return its answer, after the answers of everything sent before."""
        self._send(req)
        while self._pending > 1:
            self._recv()
        return self._recv()

    def _finish(self):
        """Half-close the stream and read to its end (the daemon repeats its last answer)."""
        self._requests.put(_END)
        last = self._last
        try:
            for resp in self._call:
                last = resp
        except grpc.RpcError as exc:
            raise self._translate(exc, f"writing {self.ref!r}") from None
        finally:
            self._pending = 0
        return last

    def _check_open(self) -> None:
        if self._done:
            raise errors.FailedPrecondition(f"writer of {self.ref!r} is closed")

    # -- Writer API -----------------------------------------------------------------

    def write(self, data) -> int:
        """Send ``data`` (in chunks of at most 4 MiB, several in flight); returns once the daemon has it all.

        Waiting for the answers keeps ``status().updated_at`` and errors tied to this call,
        as containerd's own remote writer does; callers with big data should pass big
        buffers (``import_file`` passes 16 MiB) so the chunks overlap.
        """
        self._check_open()
        try:
            view = memoryview(data).cast("B")
            for pos in range(0, len(view), CHUNK):
                piece = bytes(view[pos:pos + CHUNK])
                self._send(content_pb2.WriteContentRequest(
                    action=content_pb2.WRITE, ref=self.ref, offset=self._offset, data=piece))
                self._offset += len(piece)
                while self._pending > WINDOW:
                    self._recv()
            while self._pending:
                self._recv()
        except BaseException as exc:
            # A failed (or interrupted) write is aborted, never left on the daemon.
            self.abort_quietly(exc)
            raise
        return len(view)

    def digest(self) -> Digest:
        """Digest of everything written so far (the daemon's own hash); still valid after commit."""
        if self._done:
            if self._last is not None and self._last.digest:
                return Digest(self._last.digest)
            self._check_open()
        resp = self._ask(content_pb2.WriteContentRequest(action=content_pb2.STAT, ref=self.ref))
        return Digest(resp.digest)

    def status(self) -> Status:
        self._check_open()
        resp = self._ask(content_pb2.WriteContentRequest(action=content_pb2.STAT, ref=self.ref))
        return Status(
            ref=self.ref, offset=resp.offset, total=resp.total or self._total,
            expected=self._expected, started_at=ts_from_pb(resp.started_at),
            updated_at=ts_from_pb(resp.updated_at),
        )

    @property
    def offset(self) -> int:
        return self._offset

    def truncate(self, size: int = 0) -> None:
        self._check_open()
        if size != 0:
            raise errors.InvalidArgument(f"truncate of {self.ref!r} to {size}: only size 0 is supported")
        # A WRITE at offset 0 without data makes the daemon truncate the ingest.
        resp = self._ask(content_pb2.WriteContentRequest(action=content_pb2.WRITE, ref=self.ref, offset=0))
        self._offset = resp.offset

    def commit(self, size: int = 0, expected: Digest | str | None = None,
               labels: dict[str, str] | None = None) -> Digest:
        """Commit the ingest as a blob; the writer is closed afterwards, whatever happens.

        Unless the store was told otherwise, the blob gets a ``containerd.io/gc.root``
        label so it outlives this write's lease.  On failure the ingest is aborted
        (the daemon would otherwise keep a failed ingest until its lease expires).
        """
        self._check_open()
        expected = Digest(expected) if expected else self._expected
        labels = dict(labels or {})
        validate_labels(labels)  # refuse before anything is sent: the ingest stays, untouched
        if self._gc_root and GC_ROOT not in labels:
            labels[GC_ROOT] = format_rfc3339(Timestamp.now().ns)
        try:
            req = content_pb2.WriteContentRequest(
                action=content_pb2.COMMIT, ref=self.ref, offset=self._offset,
                total=size or 0, expected=str(expected or ""), labels=labels)
            self._ask(req)
            final = self._finish()
        except errors.AlreadyExists:
            self._done = self._settled = True
            self._drop_lease()  # the daemon already dropped the ingest
            raise
        except BaseException as exc:
            self._done = True
            self.abort_quietly(exc)
            raise
        self._done = self._settled = True
        self._last = final
        digest = Digest(final.digest)
        self._drop_lease()
        log.info("committed %s (%d bytes) from ref %r", digest, self._offset, self.ref)
        return digest

    def close(self) -> None:
        """Stop writing; the ingest stays on the daemon, resumable with the same ref."""
        if self._done:
            return
        self._done = True
        try:
            self._finish()
        except errors.ContentError as exc:
            log.warning("closing writer %r: %s", self.ref, exc)

    def abort(self) -> None:
        """Give up: delete the ingest on the daemon and end the write's lease."""
        self._settled = True
        self._end_stream()
        try:
            self._abort_ref()
        finally:
            self._drop_lease()

    def _end_stream(self) -> None:
        # Half-close and wait for the daemon to release the ingest: cancelling instead races
        # the Abort below against the daemon's own last writes ("directory not empty").
        if not self._done:
            self._done = True
            try:
                self._finish()
                return
            except errors.ContentError:
                pass
        if self._call is not None:
            self._call.cancel()  # a no-op once the stream has ended

    def _abort_ref(self) -> None:
        deadline = time.monotonic() + ABORT_PATIENCE
        while True:
            try:
                self._store.abort(self.ref)
                return
            except errors.NotFound:
                return
            except (errors.Unknown, errors.Unavailable) as exc:
                # The daemon may still be closing the ingest (a cancelled stream, a held ref lock).
                if time.monotonic() > deadline or _rpc.is_unreachable(exc):
                    raise
                time.sleep(0.05)

    @property
    def settled(self) -> bool:
        """Committed or aborted: nothing is left to clean up."""
        return self._settled

    def abort_quietly(self, cause: BaseException) -> None:
        """Abort after a failure (``cause``, for the log) without raising another error."""
        self._settled = True
        self._end_stream()
        try:
            self._abort_ref()
            log.info("aborted ingest %r after a failed write: %s", self.ref, cause)
        except errors.ContentError as exc:
            log.warning("could not abort ingest %r after a failed write: %s", self.ref, exc)
        self._drop_lease()

    def _drop_lease(self) -> None:
        if self._owns_lease and self._lease:
            lease, self._lease = self._lease, None
            try:
                self._store.delete_lease(lease)
            except errors.ContentError as exc:
                log.warning("could not delete lease %s of ref %r (it expires by itself): %s",
                            lease, self.ref, exc)

    def __enter__(self) -> "ContainerdWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        elif not self._settled:
            # A failed or cancelled write is aborted, never left on the daemon.
            self.abort_quietly(exc)
