"""The records containerd's GC walks, asked of a running daemon instead of read from ``meta.db``.

One :class:`~store.disk.metadata.Metadata` per call, built from the daemon's gRPC services for
each namespace asked (every namespace by default, from the namespaces service): images and
containers (with their labels), content (with labels), leases (with their resources), snapshots
of each snapshotter the daemon serves (overlayfs and native), and ingests (content
``ListStatuses``).  :func:`store.disk.gc.dry_run` then runs on it unchanged.

What the API does not tell, and how it is filled in:

- a snapshot's backend name: the daemon hides it; ``<namespace>/<key>`` stands in, and its
  size is the snapshotter's ``Usage`` (bytes recorded at commit, or a fresh count of an
  active snapshot's upper directory);
- an ingest's expiry: a ref that a lease holds has none (only the lease keeps it, as on
  disk); any other is taken as opened outside a lease, given 24 h from its start, so
  ``started_at + 24 h`` -- wrong for one opened under a lease that has since ended (it has no
  expiry and goes at the next pass), which the API cannot tell apart (a warning says so);
- an ingest whose ``expected`` digest another namespace holds is not listed by the daemon.

The picture moves while it is read: each service is asked once, one after another, so a pull
or a GC pass in between can make it inconsistent.  Callers say so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from .. import errors
from ..timestamps import Timestamp, as_ns
from .metadata import (
    LABEL_GC_EXPIRE,
    LABEL_GC_FLAT,
    Blob,
    Container,
    Image,
    Ingest,
    Lease,
    Metadata,
    Namespace,
    Snapshot,
    parse_go_rfc3339,
)

log = logging.getLogger(__name__)

#: The snapshotters asked for by default (those Blobscope understands on disk too).
SNAPSHOTTERS = ("overlayfs", "native")
#: How long containerd keeps an ingest opened outside a lease (metadata/content.go).
INGEST_EXPIRE_NS = 24 * 3600 * 1_000_000_000


@dataclass
class LiveMetadata:
    metadata: Metadata
    #: (snapshotter, the stand-in backend name ``<namespace>/<key>``) -> bytes (the daemon's Usage)
    snapshot_bytes: dict[tuple[str, str], int] = field(default_factory=dict)
    snapshotters: tuple[str, ...] = ()
    problems: list[str] = field(default_factory=list)


def _ns_of(dt: datetime | None) -> int | None:
    return as_ns(dt) if dt is not None else None


def backend_name(namespace: str, key: str) -> str:
    """The stand-in for a live snapshot's backend name (the daemon does not tell the real one)."""
    return f"{namespace}/{key}"


def live_metadata(address: str, namespaces: list[str] | None = None, *, tls=None,
                  snapshotters: tuple[str, ...] = SNAPSHOTTERS, usage: bool = True) -> LiveMetadata:
    """The GC's records of the daemon at ``address``, for ``namespaces`` (None: every namespace)."""
    from ..containerd.client import ContainerdStore

    store = ContainerdStore(address, "default", lease=None, tls=tls, read_only=True)
    try:
        return live_metadata_of(store, namespaces, snapshotters=snapshotters, usage=usage)
    finally:
        store.close()


def live_metadata_of(store, namespaces: list[str] | None = None, *,
                     snapshotters: tuple[str, ...] = SNAPSHOTTERS, usage: bool = True,
                     max_blobs: int | None = None) -> LiveMetadata:
    """:func:`live_metadata` over an open ``ContainerdStore``'s connection (every service asked
    through it: a fleet node's tunnel, say); the store is left open.  More than ``max_blobs``
    content records over all namespaces raise :class:`errors.FailedPrecondition` as soon as they
    are seen, so one daemon cannot take all memory."""
    source = f"containerd at {store.address}"
    out = LiveMetadata(Metadata((), source=source))
    names = sorted(namespaces) if namespaces else store.list_namespaces()
    probe = store.with_namespace("default").snapshots()
    try:
        served = tuple(sn for sn in snapshotters if probe.has(sn))
    finally:
        probe.close()
    out.snapshotters = served
    seen = [0]  # content records read so far, every namespace
    built = [_namespace(store.with_namespace(name), name, served, out, usage, max_blobs, seen) for name in names]
    out.metadata = Metadata(tuple(built), source=source)
    return out


def _bounded(infos, max_blobs: int | None, seen: list[int], address: str):
    for info in infos:
        seen[0] += 1
        if max_blobs is not None and seen[0] > max_blobs:
            raise errors.FailedPrecondition(f"{address}: more than {max_blobs:,} content records over all namespaces; "
                                            "reading stopped there so one daemon cannot take all memory")
        yield info


def _namespace(store, name: str, served, out: LiveMetadata, usage: bool, max_blobs: int | None = None,
               seen: list[int] | None = None) -> Namespace:
    # leases first: what they hold decides how ingests expire
    leases: list[Lease] = []
    leased_ingests: set[str] = set()
    for lid, created, labels in store.lease_records():
        problems: list[str] = []
        content: list[str] = []
        snaps: list[tuple[str, str]] = []
        ingests: list[str] = []
        try:
            resources = store.lease_resources(lid)
        except errors.NotFound:  # ended between List and ListResources
            continue
        for rtype, rid in resources:
            if rtype == "content":
                content.append(rid)
            elif rtype == "ingests":
                ingests.append(rid)
            elif rtype.startswith("snapshots/"):
                snaps.append((rtype[len("snapshots/"):], rid))
            else:
                problems.append(f"lease {lid}: a resource of unknown type {rtype!r} ({rid})")
        leased_ingests.update(ingests)
        expire_ns = None
        text = labels.get(LABEL_GC_EXPIRE)
        if text is not None:
            try:
                expire_ns = parse_go_rfc3339(text)
            except ValueError as exc:
                problems.append(f"lease {lid}: {LABEL_GC_EXPIRE} {exc}; containerd ignores the label, "
                                "so the lease never expires")
        leases.append(Lease(name, lid, created.ns if created is not None else None, labels, tuple(content),
                            tuple(snaps), tuple(ingests), expire_ns, LABEL_GC_FLAT in labels, tuple(problems)))

    with store.records() as records:
        images = tuple(Image(name, im.name, im.target or None, im.media_type, 0, im.labels)
                       for im in records.images())
        containers = tuple(Container(name, c.id, c.image, c.snapshotter, c.snapshot_key, c.labels)
                           for c in records.containers())

    blobs = tuple(Blob(name, str(info.digest), info.size, dict(info.labels), _ns_of(info.created_at),
                       _ns_of(info.updated_at))
                  for info in _bounded(store.walk(), max_blobs, seen if seen is not None else [0], store.address))

    statuses: list[Ingest] = []
    guessed = 0
    for st in store.list_statuses():
        if st.ref in leased_ingests:
            expire = None
        else:
            started = _ns_of(st.started_at)
            expire = Timestamp.from_ns(started + INGEST_EXPIRE_NS) if started is not None else None
            guessed += 1
        statuses.append(Ingest(name, st.ref, "", expire, str(st.expected) if st.expected else "", st.offset))

    if guessed:
        out.problems.append(
            f"namespace {name}: {guessed} ingest(s) outside any lease are taken as opened outside one (kept "
            "24 h from their start); one opened under a lease that has since ended has no expiry, and the "
            "next pass collects it (the daemon does not tell which)")
    snapshots: list[Snapshot] = []
    with store.snapshots() as client:
        for sn in served:
            for s in client.list(sn):
                backend = backend_name(name, s.key)
                snapshots.append(Snapshot(name, sn, s.key, backend, s.parent, (), s.labels,
                                          s.created.ns if s.created else None,
                                          s.updated.ns if s.updated else None))
                if usage:
                    try:
                        out.snapshot_bytes[(sn, backend)] = client.usage(sn, s.key)[0]
                    except errors.ContentError as exc:  # removed meanwhile, or a backend that cannot count
                        out.problems.append(f"snapshot {sn}/{s.key} in namespace {name}: no usage ({exc})")
    return Namespace(name, {}, images, containers, tuple(leases), blobs, tuple(statuses), tuple(snapshots))


__all__ = ["INGEST_EXPIRE_NS", "LiveMetadata", "SNAPSHOTTERS", "backend_name", "live_metadata", "live_metadata_of"]
