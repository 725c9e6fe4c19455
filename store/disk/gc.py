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
from typing import Iterable, Iterator, Mapping, NamedTuple

from .. import humanfmt
from ..timestamps import Timestamp
from .metadata import (
    HAND_OVER_MASK,
    LABEL_GC_EXPIRE,
    LABEL_GC_ROOT,
    Blob,
    Container,
    Image,
    Ingest,
    Lease,
    Metadata,
    Snapshot,
    paused_gc,
)

#: What this module models.
CONTAINERD_VERSION = "1.6"

LABEL_REF_CONTENT = "containerd.io/gc.ref.content"
LABEL_REF_SNAPSHOT = "containerd.io/gc.ref.snapshot."

# Node types, as containerd numbers them; FLAT is the bit a flat lease adds (stripped for "reachable").
CONTENT, SNAPSHOT, LEASE, INGEST = 1, 2, 5, 6
FLAT = 0x20
_TYPE_MASK = 0x1F
# Sources of edges that are not collectable records themselves.
IMAGE, CONTAINER = 100, 101

KINDS = ("blob", "snapshot", "lease", "ingest")
_KIND_OF_TYPE = {CONTENT: "blob", SNAPSHOT: "snapshot", LEASE: "lease", INGEST: "ingest"}
_TYPE_OF_KIND = {v: k for k, v in _KIND_OF_TYPE.items()}

Node = tuple[int, str, str]  # (type, namespace, key)


class Verdict(NamedTuple):
    """One record's fate in the next GC pass.  ``as_json`` is the ``blobctl gc --dry-run --json`` row.

    A named tuple, not a dataclass: a big root makes 100k of them, and this is 5x cheaper to build.
    """

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
    marks: "Marks | None" = field(default=None, repr=False)  # the walk, for every_chain()
    _index: dict[tuple[str, str, str], Verdict] = field(default_factory=dict, repr=False)

    def verdict(self, kind: str, namespace: str, id: str) -> Verdict | None:
        if not self._index:
            self._index = {(v.kind, v.namespace, v.id): v for v in self.verdicts}
        return self._index.get((kind, namespace, id))

    def find(self, id: str, *, namespace: str | None = None) -> list[Verdict]:
        """Every verdict whose id is ``id`` (any kind), in ``namespace`` or all."""
        return [v for v in self.verdicts if v.id == id and (namespace is None or v.namespace == namespace)]

    def every_chain(self, verdict: Verdict, *, limit: int | None = None) -> list[tuple[str, ...]]:
        """A shortest chain from each root that keeps ``verdict``'s record (see :meth:`Marks.every_chain`)."""
        if self.marks is None or verdict.collect:
            return []
        with paused_gc():
            return self.marks.every_chain(_TYPE_OF_KIND[verdict.kind], verdict.namespace, verdict.id, limit=limit)

    def totals(self, namespace: str | None = None) -> dict[str, dict[str, int]]:
        """Per kind: count and bytes of all records and of those collected (in ``namespace``, or all)."""
        out = {k: {"count": 0, "bytes": 0, "collect_count": 0, "collect_bytes": 0} for k in KINDS}
        for v in self.verdicts:
            if namespace is not None and v.namespace != namespace:
                continue
            t = out[v.kind]
            t["count"] += 1
            t["bytes"] += v.bytes
            if v.collect:
                t["collect_count"] += 1
                t["collect_bytes"] += v.bytes
        return out


# -- the graph ---------------------------------------------------------------------------------

# How a node was reached, kept compact during the walk (a label key is kept as the key itself);
# the words of a "why" step are only made for the chains asked for.
ROOT, TARGET, PARENT, SNAPSHOT_KEY, HELD, EXPECTED = range(6)
_WORD = {CONTENT: "content", SNAPSHOT: "snapshot", INGEST: "ingest", LEASE: "lease"}


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
    """The records of one ``meta.db`` indexed for the walk: who is a root and who references whom.

    Indexes are per namespace (``blobs[ns][digest]``, ``snapshots[ns]["<snapshotter>/<key>"]``...);
    a snapshot is found by its id exactly when containerd's split of the id at the first ``/``
    finds it (a snapshotter whose name holds ``/`` is never found by a reference, as in containerd).
    """

    def __init__(self, meta: Metadata, *, snapshot_bytes: Mapping[tuple[str, str], int] | None = None):
        self.meta = meta
        self.snapshot_bytes = snapshot_bytes or {}
        self.blobs: dict[str, dict[str, Blob]] = {}
        self.snapshots: dict[str, dict[str, Snapshot]] = {}
        self.ingests: dict[str, dict[str, Ingest]] = {}
        self.leases: dict[str, dict[str, Lease]] = {}
        self.images: dict[str, dict[str, Image]] = {}
        self.containers: dict[str, dict[str, Container]] = {}
        for ns in meta.namespaces:
            n = ns.name
            self.blobs[n] = {b.digest: b for b in ns.blobs}
            self.snapshots[n] = {f"{s.snapshotter}/{s.key}": s for s in ns.snapshots if "/" not in s.snapshotter}
            self.ingests[n] = {i.ref: i for i in ns.ingests}
            self.leases[n] = {lease.id: lease for lease in ns.leases}
            self.images[n] = {im.name: im for im in ns.images}
            self.containers[n] = {c.id: c for c in ns.containers}

    # -- roots -------------------------------------------------------------------------------

    def sources(self, now_ns: int, *, leases: bool = True) -> Iterator[Node]:
        """Depth-0 nodes in containerd's scan order (leases, images, ingests, blobs, containers,
        snapshots per namespace)."""
        for ns in self.meta.namespaces:
            n = ns.name
            if leases:
                for lease in ns.leases:
                    if self.lease_alive(lease, now_ns):
                        yield (LEASE, n, lease.id)
            for im in ns.images:
                yield (IMAGE, n, im.name)
            for ing in ns.ingests:
                if ing.expire_at is not None and ing.expire_at.ns >= now_ns:
                    yield (INGEST, n, ing.ref)
            for i, b in enumerate(ns.blobs):
                if not i & HAND_OVER_MASK:
                    time.sleep(0)  # see metadata.HAND_OVER
                if b.labels and LABEL_GC_ROOT in b.labels:
                    yield (CONTENT, n, b.digest)
            for c in ns.containers:
                yield (CONTAINER, n, c.id)
            for s in ns.snapshots:
                if s.labels and LABEL_GC_ROOT in s.labels:
                    yield (SNAPSHOT, n, s.id)

    @staticmethod
    def lease_alive(lease: Lease, now_ns: int) -> bool:
        # containerd: expired when now is after the expiry; an unparsable value is ignored
        return lease.expire_ns is None or not now_ns > lease.expire_ns

    # -- edges -------------------------------------------------------------------------------

    @staticmethod
    def _label_refs(ns: str, labels: Mapping[str, str]) -> list[tuple[Node, int | str]]:
        out: list[tuple[Node, int | str]] = []
        snaps: list[tuple[Node, int | str]] = []
        for k, v in labels.items():
            if not k.startswith("containerd.io/gc.ref."):
                continue
            if k.startswith(LABEL_REF_CONTENT):
                if len(k) == len(LABEL_REF_CONTENT) or k[len(LABEL_REF_CONTENT)] in "./":
                    out.append(((CONTENT, ns, v), k))
            elif k.startswith(LABEL_REF_SNAPSHOT):
                snapshotter = k[len(LABEL_REF_SNAPSHOT):].split("/", 1)[0]
                snaps.append(((SNAPSHOT, ns, f"{snapshotter}/{v}"), k))
        return out + snaps if snaps else out  # containerd sends content refs first, then snapshot refs

    def refs(self, node: Node) -> list[tuple[Node, int | str]]:
        """The nodes ``node`` references, each with how (a label key, or one of the edge codes)."""
        t, ns, key = node
        if t == CONTENT:
            blob = self.blobs[ns].get(key) if ns in self.blobs else None
            return self._label_refs(ns, blob.labels) if blob is not None and blob.labels else []
        if t == SNAPSHOT or t == SNAPSHOT | FLAT:
            snap = self.snapshots[ns].get(key) if ns in self.snapshots else None
            if snap is None:
                return []
            out: list[tuple[Node, int | str]] = []
            if snap.parent:
                out.append(((t, ns, f"{snap.snapshotter}/{snap.parent}"), PARENT))
            if t == SNAPSHOT and snap.labels:
                out.extend(self._label_refs(ns, snap.labels))
            return out
        if t == INGEST:
            ing = self.ingests[ns].get(key) if ns in self.ingests else None
            return [((CONTENT, ns, ing.expected), EXPECTED)] if ing is not None and ing.expected else []
        if t == LEASE:
            lease = self.leases[ns].get(key)
            if lease is None:
                return []
            flat = FLAT if lease.flat else 0
            out = [((CONTENT | flat, ns, d), HELD) for d in lease.content]
            out += [((SNAPSHOT | flat, ns, f"{sn}/{k}"), HELD) for sn, k in lease.snapshots]
            out += [((INGEST, ns, r), HELD) for r in lease.ingests]
            return out
        if t == IMAGE:
            im = self.images[ns][key]
            out = [((CONTENT, ns, im.target_digest), TARGET)] if im.target_digest is not None else []
            return out + self._label_refs(ns, im.labels) if im.labels else out
        if t == CONTAINER:
            c = self.containers[ns][key]
            out = [((SNAPSHOT, ns, f"{c.snapshotter}/{c.snapshot_key}"), SNAPSHOT_KEY)] if c.snapshotter else []
            return out + self._label_refs(ns, c.labels) if c.labels else out
        return []

    # -- the walk ----------------------------------------------------------------------------

    def mark(self, sources: Iterable[Node], *, stop: set | None = None) -> "Marks":
        """Breadth-first from every source at once; nodes whose record key is in ``stop`` are not entered."""
        via: dict[Node, tuple[Node | None, int | str]] = {}
        first: dict[Node, Node] = {}
        queue: deque[Node] = deque()
        for node in sources:
            if node in via:
                continue
            stripped = node if node[0] < FLAT else (node[0] & _TYPE_MASK, node[1], node[2])
            if stop is not None and stripped in stop:
                continue
            via[node] = (None, ROOT)
            if stripped not in first:
                first[stripped] = node
            queue.append(node)
        refs = self.refs
        popleft, append = queue.popleft, queue.append
        sleep, i = time.sleep, 0
        while queue:
            i += 1
            if not i & HAND_OVER_MASK:
                sleep(0)  # see metadata.HAND_OVER
            node = popleft()
            for target, how in refs(node):
                if target in via:
                    continue
                stripped = target if target[0] < FLAT else (target[0] & _TYPE_MASK, target[1], target[2])
                if stop is not None and stripped in stop:
                    continue
                via[target] = (node, how)
                if stripped not in first:
                    first[stripped] = target
                append(target)
        return Marks(self, via, first)

    # -- words -------------------------------------------------------------------------------

    def describe(self, node: Node, prev: Node | None, how: int | str) -> str:
        """One step of a "why" chain: ``node``, reached from ``prev`` by ``how``."""
        t, ns, key = node
        base = t & _TYPE_MASK
        if prev is None:
            if t == LEASE:
                return f"lease {_p(key)} ({_expiry_text(self.leases[ns][key])})"
            if t == IMAGE:
                return f"image {_p(key)}"
            if t == CONTAINER:
                return f"container {_p(key)}"
            if t == INGEST:
                expire = self.ingests[ns][key].expire_at
                return f"ingest {_p(key)} (expires {humanfmt.rfc3339(expire) if expire else '?'})"
            return f"{_WORD[base]} {_p(key)} labelled {LABEL_GC_ROOT}"
        word = _WORD.get(base, "?")
        if isinstance(how, str):
            return f"{word} {_p(key)} via label {_p(how)}"
        if how == TARGET:
            mt = self.images[ns][prev[2]].target_media_type
            return f"content {_p(key)} (the image's target{', ' + _p(mt) if mt else ''})"
        if how == PARENT:
            return f"snapshot {_p(key)} (parent)"
        if how == SNAPSHOT_KEY:
            return f"snapshot {_p(key)} (the container's snapshotKey)"
        if how == HELD:
            if t & FLAT:
                return f"{word} {_p(key)} (held by the flat lease: its labels are not followed)"
            return f"{word} {_p(key)} (held by the lease)"
        if how == EXPECTED:
            return f"content {_p(key)} (the ingest's expected digest)"
        return f"{word} {_p(key)}"

    # -- sizes -------------------------------------------------------------------------------

    def snapshot_size(self, snap: Snapshot) -> int:
        return int(self.snapshot_bytes.get((snap.snapshotter, snap.name), 0))


class Marks:
    """The result of one walk: which records were reached, and how (for their chains)."""

    def __init__(self, graph: Graph, via: dict[Node, tuple[Node | None, int | str]], first: dict[Node, Node]):
        self.graph = graph
        self.via = via
        self.first = first  # record key (type without FLAT, ns, key) -> the first variant that reached it
        self._steps: dict[Node, tuple[str, ...]] = {}

    def reached(self, t: int, ns: str, key: str) -> bool:
        return (t, ns, key) in self.first

    def chain(self, t: int, ns: str, key: str) -> tuple[str, ...] | None:
        """The steps from a root to the record, or None when it was not reached."""
        node = self.first.get((t, ns, key))
        return None if node is None else self._chain(node)

    def every_chain(self, t: int, ns: str, key: str, *, limit: int | None = None) -> list[tuple[str, ...]]:
        """A shortest chain from *each* root that keeps the record (nearest roots first), at most ``limit``.

        What an operator must remove to free the record: every one of these roots (or a link of
        its chain).
        """
        return [chain for _root, chain in self.roots_keeping(t, ns, key, limit=limit)]

    def roots_keeping(self, t: int, ns: str, key: str, *, limit: int | None = None
                      ) -> list[tuple[Node, tuple[str, ...]]]:
        """(root node, its shortest chain to the record) for every root that reaches the record.

        One backward walk from the record over the edges among reached nodes of its namespace
        (references never cross namespaces).  Root nodes are ``(LEASE, ns, id)``, ``(IMAGE, ns,
        name)``, ``(CONTAINER, ns, id)``, ``(INGEST, ns, ref)`` (its own expiry) and ``(CONTENT |
        SNAPSHOT, ns, key)`` (a gc.root label).
        """
        if (t, ns, key) not in self.first:
            return []
        via, refs = self.via, self.graph.refs
        rev: dict[Node, list[tuple[Node, int | str]]] = {}
        for u in via:
            if u[1] != ns:
                continue
            for v, how in refs(u):
                if v in via:
                    rev.setdefault(v, []).append((u, how))
        targets = [n for n in ((t, ns, key), (t | FLAT, ns, key)) if n in via]
        toward: dict[Node, tuple[Node, int | str] | None] = {n: None for n in targets}
        queue = deque(targets)
        roots: list[Node] = []
        while queue:
            v = queue.popleft()
            if via[v][0] is None:
                roots.append(v)
            for u, how in rev.get(v, ()):
                if u not in toward:
                    toward[u] = (v, how)
                    queue.append(u)
        out: list[tuple[Node, tuple[str, ...]]] = []
        for root in roots[:limit]:
            steps = [self.graph.describe(root, None, ROOT)]
            at = root
            nxt = toward[at]
            while nxt is not None:
                steps.append(self.graph.describe(nxt[0], at, nxt[1]))
                at = nxt[0]
                nxt = toward[at]
            out.append((root, tuple(steps)))
        return out

    def _chain(self, node: Node) -> tuple[str, ...]:
        steps = self._steps
        found = steps.get(node)
        if found is not None:
            return found
        pending = []
        at: Node | None = node
        while at is not None and at not in steps:
            pending.append(at)
            at = self.via[at][0]
        tail = steps[at] if at is not None else ()
        for n in reversed(pending):
            prev, how = self.via[n]
            tail = tail + (self.graph.describe(n, prev, how),)
            steps[n] = tail
        return tail


def dry_run(meta: Metadata, *, now_ns: int | None = None,
            snapshot_bytes: Mapping[tuple[str, str], int] | None = None) -> DryRun:
    """What containerd 1.6's next GC pass over ``meta`` would do, at ``now_ns`` (default: now).

    ``snapshot_bytes`` maps (snapshotter, backend name) to a snapshot's disk usage (0 when unknown).
    """
    with paused_gc():
        return _dry_run(meta, time.time_ns() if now_ns is None else now_ns, snapshot_bytes)


def _dry_run(meta: Metadata, now: int, snapshot_bytes: Mapping[tuple[str, str], int] | None) -> DryRun:
    graph = Graph(meta, snapshot_bytes=snapshot_bytes)
    marks = graph.mark(graph.sources(now))
    why = marks.chain
    verdicts: list[Verdict] = []
    add = verdicts.append
    problems: list[str] = []
    kept_digests: set[str] = set()
    gone_digests: dict[str, int] = {}
    kept_backends: set[tuple[str, str]] = set()
    gone_backends: dict[tuple[str, str], int] = {}
    reclaim = 0
    sleep = time.sleep
    for ns in meta.namespaces:
        n = ns.name
        for i, b in enumerate(ns.blobs):
            if not i & HAND_OVER_MASK:
                sleep(0)  # see metadata.HAND_OVER
            chain = why(CONTENT, n, b.digest)
            if chain is None:
                add(Verdict("blob", n, b.digest, True, b.size, (), b.problems))
                gone_digests[b.digest] = b.size
            else:
                add(Verdict("blob", n, b.digest, False, b.size, chain, b.problems))
                kept_digests.add(b.digest)
        for i, s in enumerate(ns.snapshots):
            if not i & HAND_OVER_MASK:
                sleep(0)
            chain = why(SNAPSHOT, n, s.id)
            size = graph.snapshot_size(s)
            add(Verdict("snapshot", n, s.id, chain is None, size, chain or (), s.problems))
            if chain is None:
                gone_backends[(s.snapshotter, s.name)] = size
            else:
                kept_backends.add((s.snapshotter, s.name))
        for lease in ns.leases:
            chain = why(LEASE, n, lease.id)
            add(Verdict("lease", n, lease.id, chain is None, 0, chain or (), lease.problems))
        for ing in ns.ingests:
            chain = why(INGEST, n, ing.ref)
            add(Verdict("ingest", n, ing.ref, chain is None, ing.offset or 0, chain or (), ing.problems))
            if chain is None:
                reclaim += ing.offset or 0
            elif ing.expected:
                kept_digests.add(ing.expected)  # the content store keeps what a live ingest expects
        for recs in (ns.images, ns.containers, ns.leases, ns.blobs, ns.ingests, ns.snapshots):
            for rec in recs:
                if rec.problems:
                    problems.extend(rec.problems)
    reclaim += sum(size for d, size in gone_digests.items() if d not in kept_digests)
    reclaim += sum(size for k, size in gone_backends.items() if k not in kept_backends)
    return DryRun(verdicts, now, problems, reclaim, marks)


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
    with paused_gc():
        return _lease_usage(meta, time.time_ns() if now_ns is None else now_ns, snapshot_bytes)


def _lease_usage(meta: Metadata, now: int, snapshot_bytes: Mapping[tuple[str, str], int] | None) -> list[LeaseUse]:
    graph = Graph(meta, snapshot_bytes=snapshot_bytes)
    base = set(graph.mark(graph.sources(now, leases=False)).first)
    holders: dict[Node, int] = {}
    reach: dict[tuple[str, str], list[Node]] = {}
    for ns in meta.namespaces:
        for lease in ns.leases:
            if not graph.lease_alive(lease, now):
                continue
            got = graph.mark([(LEASE, ns.name, lease.id)], stop=base).first
            keys = [k for k in got if k[0] != LEASE]
            reach[(ns.name, lease.id)] = keys
            for k in keys:
                holders[k] = holders.get(k, 0) + 1

    def size(k: Node) -> int | None:
        t, ns, key = k
        if t == CONTENT:
            b = graph.blobs[ns].get(key)
            return b.size if b is not None else None
        if t == SNAPSHOT:
            s = graph.snapshots[ns].get(key)
            return graph.snapshot_size(s) if s is not None else None
        if t == INGEST:
            i = graph.ingests[ns].get(key)
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


__all__ = ["CONTAINERD_VERSION", "FLAT", "CONTENT", "SNAPSHOT", "LEASE", "INGEST", "IMAGE", "CONTAINER", "DryRun", "Graph", "LeaseUse", "Marks", "Verdict", "KINDS", "dry_run", "lease_usage"]
