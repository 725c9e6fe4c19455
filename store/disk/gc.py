"""A dry run of containerd 1.6's metadata garbage collector: what the next pass collects, and why the rest lives.

The rules are containerd 1.6.20's (``metadata/gc.go``, ``gc/gc.go``, ``metadata/db.go``),
written down in docs/gc.md; in short:

* roots, per namespace: every lease whose ``containerd.io/gc.expire`` is absent, unparsable or
  not yet past, and each content digest, snapshot and ingest the lease lists; every image's
  target digest and the references in its labels; every container's snapshot
  (``<snapshotter>/<snapshotKey>``) and the references in its labels; every ingest with an
  ``expireat`` still in the future; every blob and snapshot record labelled
  ``containerd.io/gc.root``;
* edges: a blob's and a snapshot's labels ``containerd.io/gc.ref.content`` (alone or followed by
  ``.`` or ``/`` and any name) and ``containerd.io/gc.ref.snapshot.<snapshotter>`` (optionally
  ``/<name>``); a snapshot's parent; an ingest's expected digest.  Manifest JSON is never read;
* a lease labelled ``containerd.io/gc.flat`` holds its resources flat: their labels are not
  followed (a snapshot's parents still are);
* everything else that has a record (blobs, snapshots, ingests, leases) is deleted.

The engine works on :mod:`.metadata`'s plain records, so it can be tested without bolt files.
It is linear: one breadth-first pass from all roots at once, dict lookups, no rescans; the
first time a record is reached is over a shortest chain, which becomes its "why".
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Mapping

from .. import humanfmt
from ..timestamps import Timestamp
from .metadata import LABEL_GC_EXPIRE, LABEL_GC_ROOT, Blob, Container, Image, Ingest, Lease, Metadata, Snapshot

#: What this module models.
CONTAINERD_VERSION = "1.6"

LABEL_REF_CONTENT = "containerd.io/gc.ref.content"
LABEL_REF_SNAPSHOT = "containerd.io/gc.ref.snapshot."

# Node types, as containerd numbers them; FLAT is the bit a flat lease adds (stripped for "reachable").
CONTENT, SNAPSHOT, LEASE, INGEST = 1, 2, 5, 6
FLAT = 0x20
_TYPE_MASK = 0x1F
# Sources of edges that are not collectable records themselves.
_IMAGE, _CONTAINER = 100, 101

KINDS = ("blob", "snapshot", "lease", "ingest")
_KIND_OF_TYPE = {CONTENT: "blob", SNAPSHOT: "snapshot", LEASE: "lease", INGEST: "ingest"}
_TYPE_OF_KIND = {v: k for k, v in _KIND_OF_TYPE.items()}

Node = tuple[int, str, str]  # (type, namespace, key)


@dataclass(frozen=True)
class Verdict:
    """One record's fate in the next GC pass.  ``as_json`` is the ``blobctl gc --dry-run --json`` row."""

    kind: str  # "blob" | "snapshot" | "lease" | "ingest"
    namespace: str
    id: str  # digest, "<snapshotter>/<key>", lease id or ingest ref
    collect: bool
    bytes: int
    why: tuple[str, ...] = ()  # the chain from a root; empty when collected
    problems: tuple[str, ...] = ()

    def as_json(self) -> dict:
        return {"kind": self.kind, "namespace": self.namespace, "id": self.id, "collect": self.collect,
                "bytes": self.bytes, "why": list(self.why)}


@dataclass
class DryRun:
    """The verdict on every blob, snapshot, lease and ingest of every namespace."""

    verdicts: list[Verdict]
    now_ns: int
    problems: list[str] = field(default_factory=list)
    #: bytes the pass would free on disk: blobs no namespace keeps (nor an ingest expects),
    #: backend snapshots no namespace keeps, and collected ingests' data
    reclaimable_bytes: int = 0
    _index: dict[tuple[str, str, str], Verdict] = field(default_factory=dict, repr=False)

    def verdict(self, kind: str, namespace: str, id: str) -> Verdict | None:
        if not self._index:
            self._index = {(v.kind, v.namespace, v.id): v for v in self.verdicts}
        return self._index.get((kind, namespace, id))

    def find(self, id: str, *, namespace: str | None = None) -> list[Verdict]:
        """Every verdict whose id is ``id`` (any kind), in ``namespace`` or all."""
        return [v for v in self.verdicts if v.id == id and (namespace is None or v.namespace == namespace)]

    def totals(self) -> dict[str, dict[str, int]]:
        """Per kind: count and bytes of records collected and kept (bytes as each record counts them)."""
        out = {k: {"count": 0, "bytes": 0, "collect_count": 0, "collect_bytes": 0} for k in KINDS}
        for v in self.verdicts:
            t = out[v.kind]
            t["count"] += 1
            t["bytes"] += v.bytes
            if v.collect:
                t["collect_count"] += 1
                t["collect_bytes"] += v.bytes
        return out


# -- the graph ---------------------------------------------------------------------------------

def _expiry_text(lease: Lease) -> str:
    text = lease.expire_text
    if text is None:
        what = "no expiry"
    elif lease.expire_ns is None:
        what = f"{LABEL_GC_EXPIRE}={humanfmt.printable(text)!r} is not RFC 3339: ignored, never expires"
    else:
        what = f"expires {humanfmt.rfc3339(Timestamp.from_ns(lease.expire_ns))}"
    return what + (", flat" if lease.flat else "")


def _p(text: str) -> str:
    return humanfmt.printable(text)


class Graph:
    """The records of one ``meta.db`` indexed for the walk: who is a root and who references whom."""

    def __init__(self, meta: Metadata, *, snapshot_bytes: Mapping[tuple[str, str], int] | None = None):
        self.meta = meta
        self.snapshot_bytes = snapshot_bytes or {}
        self.blobs: dict[tuple[str, str], Blob] = {}
        self.snapshots: dict[tuple[str, str, str], Snapshot] = {}  # (ns, snapshotter, key)
        self.ingests: dict[tuple[str, str], Ingest] = {}
        self.leases: dict[tuple[str, str], Lease] = {}
        self.images: dict[tuple[str, str], Image] = {}
        self.containers: dict[tuple[str, str], Container] = {}
        for ns in meta.namespaces:
            n = ns.name
            for b in ns.blobs:
                self.blobs[(n, b.digest)] = b
            for s in ns.snapshots:
                self.snapshots[(n, s.snapshotter, s.key)] = s
            for i in ns.ingests:
                self.ingests[(n, i.ref)] = i
            for lease in ns.leases:
                self.leases[(n, lease.id)] = lease
            for im in ns.images:
                self.images[(n, im.name)] = im
            for c in ns.containers:
                self.containers[(n, c.id)] = c

    # -- roots -------------------------------------------------------------------------------

    def sources(self, now_ns: int, *, leases: bool = True) -> Iterator[tuple[Node, str]]:
        """Depth-0 nodes with their description, in containerd's scan order (leases, images,
        ingests, blobs, containers, snapshots per namespace)."""
        for ns in self.meta.namespaces:
            n = ns.name
            if leases:
                for lease in ns.leases:
                    if self.lease_alive(lease, now_ns):
                        yield (LEASE, n, lease.id), f"lease {_p(lease.id)} ({_expiry_text(lease)})"
            for im in ns.images:
                yield (_IMAGE, n, im.name), f"image {_p(im.name)}"
            for ing in ns.ingests:
                if ing.expire_at is not None and ing.expire_at.ns >= now_ns:
                    yield (INGEST, n, ing.ref), (f"ingest {_p(ing.ref)} (expires "
                                                 f"{humanfmt.rfc3339(ing.expire_at)})")
            for b in ns.blobs:
                if LABEL_GC_ROOT in b.labels:
                    yield (CONTENT, n, b.digest), f"content {_p(b.digest)} labelled {LABEL_GC_ROOT}"
            for c in ns.containers:
                yield (_CONTAINER, n, c.id), f"container {_p(c.id)}"
            for s in ns.snapshots:
                if LABEL_GC_ROOT in s.labels:
                    yield (SNAPSHOT, n, s.id), f"snapshot {_p(s.id)} labelled {LABEL_GC_ROOT}"

    @staticmethod
    def lease_alive(lease: Lease, now_ns: int) -> bool:
        # containerd: expired when now is after the expiry; an unparsable value is ignored
        return lease.expire_ns is None or not now_ns > lease.expire_ns

    # -- edges -------------------------------------------------------------------------------

    @staticmethod
    def _label_refs(ns: str, labels: Mapping[str, str]) -> list[tuple[Node, str]]:
        out: list[tuple[Node, str]] = []
        snaps: list[tuple[Node, str]] = []
        for k, v in labels.items():
            if not k.startswith("containerd.io/gc.ref."):
                continue
            if k.startswith(LABEL_REF_CONTENT):
                if len(k) == len(LABEL_REF_CONTENT) or k[len(LABEL_REF_CONTENT)] in "./":
                    out.append(((CONTENT, ns, v), f"content {_p(v)} via label {_p(k)}"))
            elif k.startswith(LABEL_REF_SNAPSHOT):
                snapshotter = k[len(LABEL_REF_SNAPSHOT):].split("/", 1)[0]
                key = f"{snapshotter}/{v}"
                snaps.append(((SNAPSHOT, ns, key), f"snapshot {_p(key)} via label {_p(k)}"))
        return out + snaps  # containerd sends content refs first, then snapshot refs

    def refs(self, node: Node) -> list[tuple[Node, str]]:
        t, ns, key = node
        if t == CONTENT:
            blob = self.blobs.get((ns, key))
            return self._label_refs(ns, blob.labels) if blob is not None and blob.labels else []
        if t == SNAPSHOT or t == SNAPSHOT | FLAT:
            ss, sep, name = key.partition("/")
            snap = self.snapshots.get((ns, ss, name)) if sep else None
            if snap is None:
                return []
            out: list[tuple[Node, str]] = []
            if snap.parent:
                pkey = f"{ss}/{snap.parent}"
                out.append(((t, ns, pkey), f"snapshot {_p(pkey)} (parent)"))
            if t == SNAPSHOT and snap.labels:
                out.extend(self._label_refs(ns, snap.labels))
            return out
        if t == INGEST:
            ing = self.ingests.get((ns, key))
            if ing is not None and ing.expected:
                return [((CONTENT, ns, ing.expected), f"content {_p(ing.expected)} (the ingest's expected digest)")]
            return []
        if t == LEASE:
            lease = self.leases.get((ns, key))
            if lease is None:
                return []
            flat = FLAT if lease.flat else 0
            how = "(held by the flat lease: its labels are not followed)" if flat else "(held by the lease)"
            out = [((CONTENT | flat, ns, d), f"content {_p(d)} {how}") for d in lease.content]
            out += [((SNAPSHOT | flat, ns, f"{sn}/{k}"), f"snapshot {_p(sn)}/{_p(k)} {how}")
                    for sn, k in lease.snapshots]
            out += [((INGEST, ns, r), f"ingest {_p(r)} (held by the lease)") for r in lease.ingests]
            return out
        if t == _IMAGE:
            im = self.images[(ns, key)]
            out = []
            if im.target_digest is not None:
                d, mt = im.target_digest, im.target_media_type
                out.append(((CONTENT, ns, d), f"content {_p(d)} (the image's target{', ' + _p(mt) if mt else ''})"))
            return out + self._label_refs(ns, im.labels)
        if t == _CONTAINER:
            c = self.containers[(ns, key)]
            out = []
            if c.snapshotter:
                skey = f"{c.snapshotter}/{c.snapshot_key}"
                out.append(((SNAPSHOT, ns, skey), f"snapshot {_p(skey)} (the container's snapshotKey)"))
            return out + self._label_refs(ns, c.labels)
        return []

    # -- the walk ----------------------------------------------------------------------------

    def mark(self, sources: Iterable[tuple[Node, str]], *, stop: set | None = None
             ) -> tuple[dict[Node, tuple[Node | None, str]], dict[tuple[int, str, str], Node]]:
        """Breadth-first from every source at once.

        Returns (how each node variant was first reached: (previous node, description);
        the first variant reaching each record, keyed by (type without FLAT, ns, key)).  Nodes
        whose stripped key is in ``stop`` are neither entered nor recorded.
        """
        via: dict[Node, tuple[Node | None, str]] = {}
        first: dict[tuple[int, str, str], Node] = {}
        queue: deque[Node] = deque()
        for node, text in sources:
            if node in via:
                continue
            stripped = (node[0] & _TYPE_MASK, node[1], node[2])
            if stop is not None and stripped in stop:
                continue
            via[node] = (None, text)
            first.setdefault(stripped, node)
            queue.append(node)
        refs = self.refs
        while queue:
            node = queue.popleft()
            for target, text in refs(node):
                if target in via:
                    continue
                stripped = (target[0] & _TYPE_MASK, target[1], target[2])
                if stop is not None and stripped in stop:
                    continue
                via[target] = (node, text)
                if stripped not in first:
                    first[stripped] = target
                queue.append(target)
        return via, first

    @staticmethod
    def chain(via: Mapping[Node, tuple[Node | None, str]], node: Node) -> tuple[str, ...]:
        out = []
        at: Node | None = node
        while at is not None:
            prev, text = via[at]
            out.append(text)
            at = prev
        out.reverse()
        return tuple(out)

    # -- sizes -------------------------------------------------------------------------------

    def snapshot_size(self, snap: Snapshot) -> int:
        return int(self.snapshot_bytes.get((snap.snapshotter, snap.name), 0))


def dry_run(meta: Metadata, *, now_ns: int | None = None,
            snapshot_bytes: Mapping[tuple[str, str], int] | None = None) -> DryRun:
    """What containerd 1.6's next GC pass over ``meta`` would do, at ``now_ns`` (default: now).

    ``snapshot_bytes`` maps (snapshotter, backend name) to a snapshot's disk usage (0 when unknown).
    """
    now = time.time_ns() if now_ns is None else now_ns
    graph = Graph(meta, snapshot_bytes=snapshot_bytes)
    via, first = graph.mark(graph.sources(now))
    verdicts: list[Verdict] = []
    problems: list[str] = []

    def why(t: int, ns: str, key: str) -> tuple[str, ...] | None:
        node = first.get((t, ns, key))
        return None if node is None else Graph.chain(via, node)

    kept_digests: set[str] = set()
    gone_digests: dict[str, int] = {}
    kept_backends: set[tuple[str, str]] = set()
    gone_backends: dict[tuple[str, str], int] = {}
    reclaim = 0
    for ns in meta.namespaces:
        n = ns.name
        for b in ns.blobs:
            chain = why(CONTENT, n, b.digest)
            verdicts.append(Verdict("blob", n, b.digest, chain is None, b.size, chain or (), b.problems))
            if chain is None:
                gone_digests[b.digest] = b.size
            else:
                kept_digests.add(b.digest)
        for s in ns.snapshots:
            chain = why(SNAPSHOT, n, s.id)
            size = graph.snapshot_size(s)
            verdicts.append(Verdict("snapshot", n, s.id, chain is None, size, chain or (), s.problems))
            if chain is None:
                gone_backends[(s.snapshotter, s.name)] = size
            else:
                kept_backends.add((s.snapshotter, s.name))
        for lease in ns.leases:
            chain = why(LEASE, n, lease.id)
            verdicts.append(Verdict("lease", n, lease.id, chain is None, 0, chain or (), lease.problems))
        for ing in ns.ingests:
            chain = why(INGEST, n, ing.ref)
            verdicts.append(Verdict("ingest", n, ing.ref, chain is None, ing.offset or 0, chain or (), ing.problems))
            if chain is None:
                reclaim += ing.offset or 0
            elif ing.expected:
                kept_digests.add(ing.expected)  # the content store keeps what a live ingest expects
        for recs in (ns.images, ns.containers, ns.leases, ns.blobs, ns.ingests, ns.snapshots):
            for rec in recs:
                problems.extend(rec.problems)
    reclaim += sum(size for d, size in gone_digests.items() if d not in kept_digests)
    reclaim += sum(size for k, size in gone_backends.items() if k not in kept_backends)
    return DryRun(verdicts, now, problems, reclaim)


@dataclass(frozen=True)
class LeaseUse:
    """What one lease holds: its resource counts, and the bytes that only it keeps alive."""

    lease: Lease
    alive: bool  # false: expired, the next pass deletes it and releases its resources
    only_records: int  # records (blobs, snapshots, ingests) nothing but this lease keeps
    only_bytes: int


def lease_usage(meta: Metadata, *, now_ns: int | None = None,
                snapshot_bytes: Mapping[tuple[str, str], int] | None = None) -> list[LeaseUse]:
    """For every lease, what would be collected if that lease alone were gone.

    One walk from every root but the leases, then one walk per live lease that stops at what
    the first walk reached; a record reached from exactly one lease is held only by it.
    """
    now = time.time_ns() if now_ns is None else now_ns
    graph = Graph(meta, snapshot_bytes=snapshot_bytes)
    _via, first = graph.mark(graph.sources(now, leases=False))
    base = set(first)
    holders: dict[tuple[int, str, str], int] = {}
    reach: dict[tuple[str, str], list[tuple[int, str, str]]] = {}
    for (n, lid), lease in graph.leases.items():
        if not graph.lease_alive(lease, now):
            continue
        _v, got = graph.mark([((LEASE, n, lid), "")], stop=base)
        keys = [k for k in got if k[0] != LEASE]
        reach[(n, lid)] = keys
        for k in keys:
            holders[k] = holders.get(k, 0) + 1

    def size(k: tuple[int, str, str]) -> int | None:
        t, ns, key = k
        if t == CONTENT:
            b = graph.blobs.get((ns, key))
            return b.size if b is not None else None
        if t == SNAPSHOT:
            ss, _sep, name = key.partition("/")
            s = graph.snapshots.get((ns, ss, name))
            return graph.snapshot_size(s) if s is not None else None
        if t == INGEST:
            i = graph.ingests.get((ns, key))
            return (i.offset or 0) if i is not None else None
        return None

    out = []
    for ns in meta.namespaces:
        for lease in ns.leases:
            held = reach.get((ns.name, lease.id))
            count = nbytes = 0
            for k in held or ():
                if holders[k] == 1:
                    s = size(k)
                    if s is not None:
                        count += 1
                        nbytes += s
            out.append(LeaseUse(lease, held is not None, count, nbytes))
    return out


__all__ = ["CONTAINERD_VERSION", "DryRun", "Graph", "LeaseUse", "Verdict", "KINDS", "dry_run", "lease_usage"]
