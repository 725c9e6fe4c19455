"""``ContainerdStore``: the store API (design.md §3), served by a running containerd daemon.

Every call goes through the daemon's metadata layer (containerd-store.md §6), so what is seen is the
view of one namespace, labels are the ones in ``meta.db``, and nothing touches the
daemon's files behind its back.  Methods block; the store may be shared by threads
(a gRPC channel is thread-safe), but each writer or reader belongs to one thread.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import time
from datetime import timedelta
from pathlib import Path
from typing import Callable, Iterator

import grpc
from google.protobuf import field_mask_pb2

from .. import errors
from ..api import usage as _usage
from ..digest import Digest
from ..timestamps import Timestamp, format_rfc3339
from ..types import Info, Status
from . import _rpc
from ._convert import info_from_pb, info_to_pb, status_from_pb
from ._pb import content_pb2, content_pb2_grpc, leases_pb2, leases_pb2_grpc, namespaces_pb2, namespaces_pb2_grpc
from .reader import ContainerdReaderAt
from .records import ImageRecord, RecordsClient
from .snapshots import SnapshotsClient
from .writer import CHUNK, GC_ROOT, ContainerdWriter

log = logging.getLogger(__name__)

AUTO = "auto"
DEFAULT_TIMEOUT = 30.0  # seconds for one unary call; streams have no overall deadline
LEASE_EXPIRE = timedelta(hours=24)  # a crashed client's lease ends by itself, like ctr's
_EXPIRE_LABEL = "containerd.io/gc.expire"
_REF_HASH_LEN = 16
_LEASE_PREFIX = "blobscope-"
_REF_LABEL = "blobscope.ref"  # on a write's lease: which ingest it keeps, so a resumed write takes it over
IMPORT_READ = 4 * CHUNK  # one write() call keeps this many chunks in flight
_DIGEST_IN_TEXT = re.compile(r"sha(?:256|384|512):[0-9a-f]{64,128}")


class ContainerdStore:
    """A content store on a containerd daemon, in one namespace.

    ``lease``: ``"auto"`` (default) gives every writer its own lease, ended when the
    write commits or aborts; a lease id runs every write under that lease (the caller
    ends it; see :meth:`create_lease`); ``None`` writes without a lease (the daemon then
    keeps an unfinished ingest for 24 h and a commit only survives through its labels).

    ``gc_root``: when true (default) a commit adds ``containerd.io/gc.root`` unless the
    caller's labels already carry it, so the blob is never collected once the lease
    ends.  Pass ``False`` to keep exactly the caller's labels (e.g. when a parent's
    ``gc.ref`` labels, or an image, will protect the blob).
    """

    root = None  # no directory: everything goes through the daemon

    def __init__(self, address: str, namespace: str = "default", *, lease: str | None = AUTO,
                 gc_root: bool = True, timeout: float = DEFAULT_TIMEOUT,
                 tls: _rpc.TLSConfig | None = None, read_only: bool = False,
                 connect_timeout: float | None = None, _channel: grpc.Channel | None = None):
        self.address = address
        # Browse-only: a production node can be inspected with no risk of changing it.
        self.read_only = bool(read_only)
        self.read_only_reason = (f"the connection to containerd at {address} was opened read-only"
                                 if read_only else None)
        self.namespace = _rpc.validate_namespace(namespace)
        self.lease = lease
        self.gc_root = gc_root
        self.timeout = timeout
        self._tls = tls
        self._owns_channel = _channel is None
        # connect_timeout: see _rpc.open_channel (a socket forwarded by ssh needs more than a local one)
        self.connect_timeout = connect_timeout
        self._channel = _channel if _channel is not None else _rpc.open_channel(address, tls,
                                                                                connect_timeout=connect_timeout)
        self._bind()

    def _bind(self) -> None:
        self._content = content_pb2_grpc.ContentStub(self._channel)
        self._leases = leases_pb2_grpc.LeasesStub(self._channel)
        self._namespaces = namespaces_pb2_grpc.NamespacesStub(self._channel)

    def __repr__(self) -> str:
        return f"ContainerdStore({self.address!r}, namespace={self.namespace!r})"

    def describe(self) -> str:
        """A one-line name for this source, for title bars and messages."""
        return f"containerd at {self.address}, namespace {self.namespace}"

    # -- plumbing ------------------------------------------------------------------

    def _metadata(self, *, namespace: str | None = None, lease: str | None = None):
        md = [(_rpc.NAMESPACE_KEY, namespace or self.namespace)]
        if lease:
            md.append((_rpc.LEASE_KEY, lease))
        return md

    def _error(self, exc: grpc.RpcError, doing: str) -> errors.ContentError:
        return _rpc.translate(exc, self.address, doing)

    def _check_writable(self, action: str) -> None:
        if self.read_only:
            raise errors.FailedPrecondition(f"cannot {action}: {self.read_only_reason}")

    def _unary(self, method, request, doing: str, *, namespace: str | None = None):
        try:
            return method(request, metadata=self._metadata(namespace=namespace), timeout=self.timeout)
        except grpc.RpcError as exc:
            raise self._error(exc, doing) from None

    def _stream(self, method, request, doing: str) -> Iterator:
        """The responses of a server stream (List, Read), with store errors; no overall deadline."""
        call = method(request, metadata=self._metadata())
        try:
            yield from call
        except grpc.RpcError as exc:
            raise self._error(exc, doing) from None
        finally:
            call.cancel()  # a no-op when finished; stops the daemon if the consumer stopped early

    def with_namespace(self, namespace: str) -> "ContainerdStore":
        """The same daemon and connection, another namespace."""
        return self._view(namespace, self.lease)

    def with_lease(self, lease: str | None) -> "ContainerdStore":
        """The same daemon, namespace and connection, writing under ``lease``."""
        return self._view(self.namespace, lease)

    def _view(self, namespace: str, lease: str | None) -> "ContainerdStore":
        return ContainerdStore(self.address, namespace, lease=lease, gc_root=self.gc_root, timeout=self.timeout,
                               tls=self._tls, read_only=self.read_only, _channel=self._channel)

    def snapshots(self) -> SnapshotsClient:
        """The daemon's Snapshots service over this store's connection, in its namespace (read only;
        closing the client leaves the connection open)."""
        return SnapshotsClient(self.address, self.namespace, timeout=self.timeout, channel=self._channel)

    def records(self) -> RecordsClient:
        """The daemon's Images and Containers services over this store's connection, in its namespace
        (read only; closing the client leaves the connection open)."""
        return RecordsClient(self.address, self.namespace, timeout=self.timeout, channel=self._channel)

    def image_records(self) -> list[ImageRecord]:
        """The image records of this store's namespace, over this store's connection."""
        with self.records() as rc:
            return rc.images()

    def reconnect(self) -> None:
        """Drop the connection and open a new one (after the daemon moved or restarted)."""
        if not self._owns_channel:
            raise errors.FailedPrecondition("this view shares its connection; reconnect the store it came from")
        old = self._channel
        self._channel = _rpc.open_channel(self.address, self._tls, connect_timeout=self.connect_timeout)
        self._bind()
        old.close()

    def ping(self) -> None:
        """Raise :class:`errors.Unavailable` unless the daemon answers."""
        self._unary(self._namespaces.List, namespaces_pb2.ListNamespacesRequest(), "listing namespaces")

    def watch_connection(self, callback: Callable[[str], None]) -> Callable[[], None]:
        """Call ``callback(state)`` when the connection changes; returns a function that stops it.

        ``state`` is ``"idle"``, ``"connecting"``, ``"ready"``, ``"transient_failure"`` or
        ``"shutdown"``.  The callback runs on a gRPC thread: a GUI must hand it to its own
        thread (a queued signal) before touching widgets.  Watching also makes gRPC try to
        connect, so the state moves back to ``ready`` by itself after a daemon restart.
        """
        def on_state(state: grpc.ChannelConnectivity) -> None:
            try:
                callback(state.name.lower())
            except Exception:  # a broken callback must not kill gRPC's thread
                log.exception("connection watcher for %s failed", self.address)

        channel = self._channel
        channel.subscribe(on_state, try_to_connect=True)
        return lambda: channel.unsubscribe(on_state)

    def close(self) -> None:
        if self._owns_channel:
            self._channel.close()

    def __enter__(self) -> "ContainerdStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- Manager -------------------------------------------------------------------

    def info(self, digest: Digest | str) -> Info:
        digest = Digest(digest)
        resp = self._unary(self._content.Info, content_pb2.InfoRequest(digest=digest), f"reading info of {digest}")
        return info_from_pb(resp.info)

    def update(self, info: Info, *fieldpaths: str) -> Info:
        """Change labels: ``labels.<key>`` sets one (empty value deletes it), ``labels`` or none replaces all."""
        digest = Digest(info.digest)
        self._check_writable(f"update the labels of {digest}")
        for path in fieldpaths:
            if path != "labels" and not path.startswith("labels."):
                raise errors.InvalidArgument(f'cannot update "{path}" field on content info "{digest}"')
        req = content_pb2.UpdateRequest(info=info_to_pb(info),
                                        update_mask=field_mask_pb2.FieldMask(paths=list(fieldpaths)))
        resp = self._unary(self._content.Update, req, f"updating labels of {digest}")
        return info_from_pb(resp.info)

    def walk(self, *filters: str) -> Iterator[Info]:
        """Every blob record of the namespace matching any filter (in the daemon's order)."""
        for resp in self._list(filters):
            for msg in resp.info:
                yield info_from_pb(msg)

    def walk_batches(self, *filters: str) -> Iterator[list[Info]]:
        """Like :meth:`walk`, in the daemon's own batches (one list per message), for GUI scanners."""
        for resp in self._list(filters):
            yield [info_from_pb(msg) for msg in resp.info]

    def walk_sizes(self, *filters: str) -> Iterator[list[tuple[str, int]]]:
        """``(digest, size)`` of every blob, in the daemon's batches, without building :class:`Info`
        (a fleet inventory needs only these; a quarter of :meth:`walk`'s client time)."""
        for resp in self._list(filters):
            yield [(msg.digest, msg.size) for msg in resp.info]

    def _list(self, filters) -> Iterator:
        return self._stream(self._content.List, content_pb2.ListContentRequest(filters=list(filters)),
                            "listing content")

    def delete(self, digest: Digest | str) -> None:
        """Remove the namespace's record; the daemon's GC removes the file if no namespace keeps it."""
        digest = Digest(digest)
        self._check_writable(f"delete {digest}")
        self._unary(self._content.Delete, content_pb2.DeleteContentRequest(digest=digest), f"deleting {digest}")

    # -- Provider ------------------------------------------------------------------

    def reader_at(self, digest: Digest | str) -> ContainerdReaderAt:
        info = self.info(digest)
        return ContainerdReaderAt(self, info.digest, info.size)

    def verify(self, digest: Digest | str) -> bool:
        """Read the blob through the daemon and check its bytes against its digest."""
        digest = Digest(digest)
        hasher = digest.hasher()
        size = 0
        with self.reader_at(digest) as reader:
            for data in reader.chunks():
                hasher.update(data)
                size += len(data)
            return size == reader.size and Digest.from_hasher(hasher) == digest

    # -- IngestManager -------------------------------------------------------------

    def status(self, ref: str) -> Status:
        _check_ref(ref)
        resp = self._unary(self._content.Status, content_pb2.StatusRequest(ref=ref), f"reading status of ref {ref!r}")
        return status_from_pb(resp.status)

    def list_statuses(self, *filters: str) -> list[Status]:
        # The daemon already skips ingests whose files vanished (containerd-store.md §6.4), so nothing is "broken" here.
        resp = self._unary(self._content.ListStatuses, content_pb2.ListStatusesRequest(filters=list(filters)),
                           "listing active ingests")
        return [status_from_pb(s) for s in resp.statuses]

    def broken_ingests(self) -> list:
        """Always empty: the daemon hides ingests it cannot read instead of failing (containerd-store.md §6.4)."""
        return []

    def abort(self, ref: str) -> None:
        _check_ref(ref)
        self._check_writable(f"abort ref {ref!r}")
        self._unary(self._content.Abort, content_pb2.AbortRequest(ref=ref), f"aborting ref {ref!r}")

    # -- Ingester ------------------------------------------------------------------

    def writer(self, ref: str, *, total: int = 0, expected: Digest | str | None = None,
               gc_root: bool | None = None) -> ContainerdWriter:
        """Open (or resume) the ingest ``ref``; see the class doc for leases and ``gc_root``."""
        _check_ref(ref)
        self._check_writable(f"write ref {ref!r}")
        if total < 0:
            raise errors.InvalidArgument(f"total size of ref {ref!r} must not be negative")
        expected = Digest(expected) if expected else None
        lease, owns = self.lease, False
        if lease == AUTO:
            lease, owns = self._lease_for(ref), True
        metadata = self._metadata(lease=lease)
        return ContainerdWriter(self, ref,
                                open_stream=lambda requests: self._content.Write(requests, metadata=metadata),
                                translate=self._error, total=total, expected=expected, lease=lease,
                                owns_lease=owns, gc_root=self.gc_root if gc_root is None else gc_root)

    def _lease_for(self, ref: str) -> str:
        """The lease that has kept ``ref``'s ingest alive (a resumed write takes it over), or a new one."""
        for lease in self._list_leases():
            if lease.id.startswith(_LEASE_PREFIX) and lease.labels.get(_REF_LABEL) == ref[:1000]:
                return lease.id
        return self.create_lease(labels={_REF_LABEL: ref[:1000]})

    def import_file(self, path, *, ref: str | None = None, labels: dict[str, str] | None = None,
                    progress: Callable[[int, int], None] | None = None,
                    cancel: Callable[[], bool] | None = None, gc_root: bool | None = None) -> Info:
        """Copy a file into the daemon as a blob.

        ``progress(done, total)`` is called after each chunk; ``cancel()`` is polled
        between chunks and makes the import raise :class:`errors.Cancelled` after
        aborting the ingest (unlike the local store, nothing is kept on the daemon).
        A blob the namespace already has is not written again; its labels are merged.
        """
        path = Path(path)
        self._check_writable(f"import {path}")
        if path.is_dir():
            raise errors.InvalidArgument(f"cannot import {path}: not a regular file")
        try:
            f = open(path, "rb")
        except OSError as exc:
            raise errors.InvalidArgument(f"cannot open {path} for import: {exc.strerror or exc}") from exc
        with f:
            st = os.fstat(f.fileno())
            if not _is_regular(st.st_mode):
                raise errors.InvalidArgument(f"cannot import {path}: not a regular file")
            ref = ref or _import_ref(path, st)
            if self.lease != AUTO:
                return self._import(f, path, st.st_size, ref, labels, progress, cancel, gc_root)
            # One lease for the write and the Info after it, so the blob cannot vanish in between.
            lease = self._lease_for(ref)
            try:
                return self.with_lease(lease)._import(f, path, st.st_size, ref, labels, progress, cancel, gc_root)
            finally:
                try:
                    self.delete_lease(lease)
                except errors.ContentError as exc:
                    log.warning("could not delete lease %s after importing %s (it expires by itself): %s",
                                lease, path, exc)

    def _import(self, f, path: Path, total: int, ref: str, labels, progress, cancel, gc_root) -> Info:
        writer = self.writer(ref, total=total, gc_root=gc_root)
        try:
            done = writer.offset
            if done > total:
                writer.truncate(0)
                done = 0
            f.seek(done)
            if progress:
                progress(done, total)
            while True:
                if cancel is not None and cancel():
                    raise errors.Cancelled(f"import of {path} was cancelled; nothing was kept on the daemon")
                data = f.read(IMPORT_READ)
                if not data:
                    break
                writer.write(data)
                done += len(data)
                if progress:
                    progress(done, total)
            if done != total:
                raise errors.FailedPrecondition(
                    f"{path} changed while it was imported ({done} bytes read, {total} expected); try again")
            try:
                return self.info(writer.commit(size=total, labels=labels))
            except errors.AlreadyExists as exc:
                return self._existing_after_import(exc, labels)
        except BaseException as exc:
            if not writer.settled:
                writer.abort_quietly(exc)
            raise

    def _existing_after_import(self, exc: errors.AlreadyExists, labels: dict[str, str] | None) -> Info:
        # The daemon names the digest it already had ("content <digest>").
        found = _DIGEST_IN_TEXT.search(exc.message)
        if not found:
            raise exc
        digest = Digest(found.group(0))
        info = self.info(digest)
        if labels:
            info = self.update(Info(digest, info.size, info.created_at, info.updated_at, labels),
                               *(f"labels.{k}" for k in labels))
        return info

    # -- usage ---------------------------------------------------------------------

    def usage(self) -> dict:
        return _usage(self)

    # -- namespaces ----------------------------------------------------------------

    def list_namespaces(self) -> list[str]:
        """The daemon's namespaces, sorted by name."""
        resp = self._unary(self._namespaces.List, namespaces_pb2.ListNamespacesRequest(), "listing namespaces")
        return sorted(ns.name for ns in resp.namespaces)

    def namespace_labels(self, namespace: str | None = None) -> dict[str, str]:
        """The labels of a namespace (this store's by default); NotFound if it does not exist."""
        name = _rpc.validate_namespace(namespace or self.namespace)
        # The daemon's Get answers an empty record for a namespace that does not exist.
        if name not in self.list_namespaces():
            raise errors.NotFound(f"namespace {name} does not exist on containerd at {self.address}")
        resp = self._unary(self._namespaces.Get, namespaces_pb2.GetNamespaceRequest(name=name),
                           f"reading namespace {name}")
        return dict(resp.namespace.labels)

    def namespaces_with(self, digest: Digest | str) -> list[str]:
        """The namespaces that hold a record of ``digest`` (the same bytes on disk are shared)."""
        digest = Digest(digest)
        found = []
        for ns in self.list_namespaces():
            try:
                self._unary(self._content.Info, content_pb2.InfoRequest(digest=digest),
                            f"reading info of {digest} in namespace {ns}", namespace=ns)
            except errors.NotFound:
                continue
            found.append(ns)
        return found

    # -- leases --------------------------------------------------------------------

    def create_lease(self, *, expire: timedelta | None = LEASE_EXPIRE, labels: dict[str, str] | None = None,
                     lease_id: str | None = None) -> str:
        """Create a lease in this namespace; content written under it is kept until it ends."""
        self._check_writable("create a lease")
        lease_id = lease_id or f"{_LEASE_PREFIX}{int(time.time())}-{secrets.token_hex(6)}"
        labels = dict(labels or {})
        if expire is not None:
            labels[_EXPIRE_LABEL] = format_rfc3339(Timestamp.now().ns + int(expire.total_seconds() * 1e9))
        resp = self._unary(self._leases.Create, leases_pb2.CreateRequest(id=lease_id, labels=labels),
                           f"creating lease {lease_id}")
        return resp.lease.id

    def delete_lease(self, lease_id: str, *, sync: bool = False) -> None:
        """End a lease; with ``sync`` wait for the garbage collection it triggers."""
        self._check_writable(f"delete lease {lease_id}")
        self._unary(self._leases.Delete, leases_pb2.DeleteRequest(id=lease_id, sync=sync),
                    f"deleting lease {lease_id}")

    def list_leases(self) -> list[str]:
        return sorted(lease.id for lease in self._list_leases())

    def lease_records(self) -> list[tuple[str, Timestamp | None, dict[str, str]]]:
        """Every lease of this namespace as (id, created, labels), in the daemon's order."""
        out = []
        for lease in self._list_leases():
            ts = lease.created_at
            created = Timestamp.from_ns(ts.seconds * 1_000_000_000 + ts.nanos) if ts.seconds or ts.nanos else None
            out.append((lease.id, created, dict(lease.labels)))
        return out

    def lease_resources(self, lease_id: str) -> list[tuple[str, str]]:
        """What the lease holds, as (type, id): type ``content`` (a digest), ``ingests`` (a ref) or
        ``snapshots/<snapshotter>`` (a key), as containerd's leases service names them."""
        resp = self._unary(self._leases.ListResources, leases_pb2.ListResourcesRequest(id=lease_id),
                           f"listing the resources of lease {lease_id}")
        return [(r.type, r.id) for r in resp.resources]

    def _list_leases(self):
        return self._unary(self._leases.List, leases_pb2.ListRequest(), "listing leases").leases


def _check_ref(ref: str) -> None:
    if not isinstance(ref, str) or not ref:
        raise errors.InvalidArgument("ref must not be empty")


def _is_regular(mode: int) -> bool:
    import stat
    return stat.S_ISREG(mode)


def _import_ref(path: Path, st) -> str:
    # The same unchanged file maps to the same ref, so an interrupted import resumes.
    key = f"{path.resolve()}\0{st.st_dev}\0{st.st_ino}\0{st.st_size}\0{st.st_mtime_ns}".encode()
    return f"blobscope-import-{hashlib.sha256(key).hexdigest()[:_REF_HASH_LEN]}"


__all__ = ["ContainerdStore", "GC_ROOT", "AUTO"]
