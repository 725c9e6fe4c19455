"""The Disk tab's tree: root → kind → namespace → item, built on a worker from plain facts.

:class:`DiskFacts` is what the analysis found (store/disk's records, the dry run, the sizes on
disk); :func:`build_tree` turns it into immutable-after-build :class:`DiskNode` s, children
sorted largest first, which the tree model, the treemap and the details panel all share.  Every
item has an ``ident`` (``blob:<digest>``, ``snapshot:<ns>:<snapshotter>/<key>``, …) so a link of a
"why is this alive" chain can name the item it is about (:func:`link_target`).  No Qt here.
"""

from __future__ import annotations

import gc as pygc
import hashlib
import time
from dataclasses import dataclass, field
from typing import Iterable

from store.disk.gc import DryRun, Verdict
from store.disk.metadata import Metadata
from store.disk.owners import SnapshotRow

from . import states

# what a node is (its "kind" column); groups have KIND_GROUP and a category
KIND_ROOT, KIND_GROUP, KIND_ITEM = "root", "group", "item"
# categories: the second level of the tree
CONTENT, SNAPSHOTS, INGESTS, METADATA, IMAGES, CONTAINERS, LEASES = (
    "content", "snapshots", "ingests", "metadata", "images", "containers", "leases")
NO_NAMESPACE = ""  # the namespace group of items no namespace records
PAGE = 250  # a group with more children shows them in pages of this many (expanding one costs ~0.1 ms a row)
YIELD_EVERY = 64  # items between two hand-offs of the GIL to the GUI thread (a few hundred µs of work)
FREEZE_ABOVE = 20000  # trees this big are frozen out of the cyclic GC (as the scanner and image graph do)


def _yield(i: int) -> None:
    """On the worker: every few hundred items, let the GUI thread have the GIL (else each cell it
    paints waits up to the interpreter's 5 ms switch interval)."""
    if not i % YIELD_EVERY:
        time.sleep(0)
Detail = str | tuple[str, ...]


class DiskNode:
    """One row of the tree and one rectangle of the treemap."""

    __slots__ = ("name", "kind", "category", "namespace", "ident", "bytes", "state", "why", "why_namespace",
                 "details", "children", "parent", "row", "count", "paged", "verdict")

    def __init__(self, name: str, kind: str, category: str = "", *, namespace: str | None = None,
                 ident: str = "", nbytes: int = 0, state: str = states.NONE, why: tuple[str, ...] = (),
                 details: list[tuple[str, Detail]] | None = None):
        self.name = name
        self.kind = kind
        self.category = category
        self.namespace = namespace
        self.ident = ident
        self.bytes = nbytes
        self.state = state
        self.why = why
        self.why_namespace = namespace  # the namespace whose records the chain is about
        self.details = details or []  # (field id, plain text value or values); the panel names the fields
        self.children: list[DiskNode] = []
        self.parent: DiskNode | None = None
        self.row = 0
        self.count = 0  # items under a group
        self.paged = False  # its children are pages of PAGE items each (a tree view expands one page at a time)
        self.verdict: Verdict | None = None  # the dry run's verdict the chain is from (for every root keeping it)

    def __repr__(self) -> str:
        return f"DiskNode({self.kind} {self.ident or self.name!r} {self.bytes} {self.state})"

    def add(self, child: DiskNode) -> DiskNode:
        child.parent = self
        self.children.append(child)
        return child

    def items(self) -> list[DiskNode]:
        """The children as the treemap sees them: through the pages, largest first."""
        if not self.paged:
            return self.children
        return [c for page in self.children for c in page.children]

    def path(self) -> list[DiskNode]:
        """This node and its ancestors, root first."""
        out: list[DiskNode] = []
        at: DiskNode | None = self
        while at is not None:
            out.append(at)
            at = at.parent
        out.reverse()
        return out


@dataclass
class DiskTree:
    root: DiskNode
    by_ident: dict[str, DiskNode]
    complete: bool  # False while snapshots are still being measured
    problems: list[str] = field(default_factory=list)
    reclaimable_bytes: int | None = None
    run: DryRun | None = None  # for every root that keeps an item (DryRun.every_chain, on a worker)
    live: bool = False  # of a running daemon: the picture can move

    def find(self, ident: str) -> DiskNode | None:
        return self.by_ident.get(ident)

    def same(self, node: DiskNode) -> DiskNode | None:
        """This tree's node for ``node`` of an older tree of the same root (by ident, or by names)."""
        if node.ident:
            return self.find(node.ident)
        at: DiskNode | None = self.root
        for name in [n.name for n in node.path()][1:]:
            at = next((c for c in at.children if c.name == name), None) if at is not None else None
        return at

    def dispose(self) -> None:
        """Break the parent/child cycles of a tree no longer shown (worker thread), so reference
        counting frees it even though it was frozen out of the cyclic collector."""
        stack = [self.root]
        i = 0
        while stack:
            node = stack.pop()
            stack.extend(node.children)
            node.children = []
            node.parent = None
            i += 1
            _yield(i)
        del node
        self.run = None
        by, self.by_ident = self.by_ident, {}
        while by:  # the last references, a few at a time: freeing 100k nodes at once holds the GIL
            by.popitem()
            i += 1
            _yield(i)


@dataclass
class DiskFacts:
    """What the analysis found; every field may be empty (a plain store has no metadata)."""

    root: str
    meta: Metadata | None = None
    run: DryRun | None = None
    blob_files: dict[str, int] = field(default_factory=dict)  # digest -> bytes on disk
    image_blobs: dict[str, list[str]] = field(default_factory=dict)  # digest -> "ns/image" reaching it
    snapshot_rows: list[SnapshotRow] | None = None  # None: not measured yet
    not_understood: list[tuple[str, int]] = field(default_factory=list)  # snapshotter, bytes
    ingest_dirs: dict[str, int] = field(default_factory=dict)  # ingest/<name> -> bytes
    metadata_files: list[tuple[str, int]] = field(default_factory=list)  # relative path, bytes
    plain: bool = False  # a Blobscope store: no containerd metadata at all
    live: bool = False  # a running daemon's records (gui/disk/live_analysis.py): no directories
    problems: list[str] = field(default_factory=list)


# -- the chain's links -------------------------------------------------------------------------

_LINK_KINDS = {"content": "blob", "snapshot": "snapshot", "lease": "lease", "ingest": "ingest",
               "image": "image", "container": "container"}


def link_target(text: str, namespace: str | None) -> str | None:
    """The ident of the item one link of a why chain (store/disk/gc.py's wording) is about."""
    word, _sep, rest = text.partition(" ")
    kind = _LINK_KINDS.get(word)
    if kind is None or not rest:
        return None
    ident = rest.split(" ", 1)[0]
    if kind == "blob":
        return f"blob:{ident}"
    return f"{kind}:{namespace or ''}:{ident}"


# -- building ------------------------------------------------------------------------------------

def _group(parent: DiskNode, name: str, category: str, namespace: str | None = None) -> DiskNode:
    return parent.add(DiskNode(name, KIND_GROUP, category, namespace=namespace))


def _in_ns(top: DiskNode, groups: dict[str, DiskNode], ns: str) -> DiskNode:
    g = groups.get(ns)
    if g is None:
        g = groups[ns] = _group(top, ns, top.category, ns)
    return g


def _blob_state(digest: str, verdicts: list[Verdict], image_blobs: dict, leased: set[str]) -> str:
    # store/disk/df.py's order, but the dry run's "collect" before any lease's list: a blob that only
    # an expired lease lists goes in the next pass (/work/wt/disk-requests.md asks df to agree)
    if digest in image_blobs:
        return states.IMAGE
    if all(v.collect for v in verdicts):
        return states.COLLECTABLE
    if digest in leased or any(v.why and v.why[0].startswith("lease ") for v in verdicts):
        return states.LEASE
    return states.OTHER


def _first(verdicts: dict[tuple[str, str], list[Verdict]], kind: str, key: str) -> Verdict | None:
    found = verdicts.get((kind, key))
    return found[0] if found else None


def _record_state(v: Verdict | None) -> str:
    if v is None:
        return states.ORPHAN
    if v.collect:
        return states.COLLECTABLE
    if v.why and v.why[0].startswith("lease "):
        return states.LEASE
    return states.OTHER


def _short(digest: str) -> str:
    alg, sep, hexd = digest.partition(":")
    return f"{alg}:{hexd[:12]}" if sep and len(hexd) > 12 else digest


def _join(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(items)  # joined when shown: a layer 5k images share is listed only if selected


def _add_content(root: DiskNode, facts: DiskFacts, by: dict[str, DiskNode],
                 verdicts: dict[tuple[str, str], list[Verdict]]) -> None:
    top = _group(root, CONTENT, CONTENT)
    groups: dict[str, DiskNode] = {}
    meta = facts.meta
    leased = {d for ns in meta.namespaces for lease in ns.leases for d in lease.content} if meta else set()
    for i, (digest, nbytes) in enumerate(facts.blob_files.items()):
        _yield(i)
        vs = verdicts.get(("blob", digest), [])
        if facts.plain:
            state = states.PLAIN
        else:
            state = _blob_state(digest, vs, facts.image_blobs, leased)
        alive = next((v for v in vs if not v.collect), None)
        ns = vs[0].namespace if vs else NO_NAMESPACE
        details: list[tuple[str, Detail]] = [("digest", digest)]
        if vs:
            details.append(("namespaces", _join(v.namespace for v in vs)))
        elif not facts.plain:
            details.append(("note", "no-record"))
        if digest in facts.image_blobs:
            details.append(("images", _join(facts.image_blobs[digest])))
        node = DiskNode(_short(digest), KIND_ITEM, CONTENT, namespace=ns, ident=f"blob:{digest}", nbytes=nbytes,
                        state=state, why=alive.why if alive else (), details=details)
        node.verdict = alive
        node.why_namespace = alive.namespace if alive else ns
        by[node.ident] = _in_ns(top, groups, ns if not facts.plain else NO_NAMESPACE).add(node)


def _snapshot_label(r: SnapshotRow) -> str:
    if r.record is not None:
        rid = r.record.id
    else:  # a live snapshot (its key; the daemon tells no directory) or an orphan directory
        rid = _short(r.key) if r.key else r.directory.name
    if r.containers:
        return f"{rid} · {r.containers[0].split('/', 1)[-1]}"
    if r.images:
        image = r.images[0].split("/", 1)[-1]
        return f"{rid} · {image}" + (f" #{r.layer.index}" if r.layer is not None else "")
    return f"{rid} · {r.key}" if r.key and r.record is not None else str(rid)


def _add_snapshots(root: DiskNode, facts: DiskFacts, by: dict[str, DiskNode],
                   verdicts: dict[tuple[str, str], list[Verdict]]) -> None:
    tops: dict[str, tuple[DiskNode, dict[str, DiskNode]]] = {}
    for i, r in enumerate(facts.snapshot_rows or []):
        _yield(i)
        if r.snapshotter not in tops:
            tops[r.snapshotter] = (_group(root, f"{SNAPSHOTS} ({r.snapshotter})", SNAPSHOTS), {})
        top, groups = tops[r.snapshotter]
        ns = r.namespace or NO_NAMESPACE
        rec = r.record
        if r.namespace and r.key:
            ident = f"snapshot:{r.namespace}:{r.snapshotter}/{r.key}"
            v = _first(verdicts, "snapshot", f"{r.namespace}\0{r.snapshotter}/{r.key}")
        elif rec is not None:
            ident, v = f"snaprecord:{r.snapshotter}:{rec.key}", None
        else:
            ident, v = f"snapdir:{r.snapshotter}:{r.directory.name}", None
        details: list[tuple[str, Detail]] = [("key", r.key or (rec.key if rec else "")),
                                             ("directory", "" if facts.live else str(r.directory))]
        if rec is not None:
            details += [("snapshot-kind", rec.kind), ("parent", rec.parent)]
        details += [("chain-bytes", str(r.chain_bytes)), ("images", _join(r.images)),
                    ("containers", _join(r.containers)), ("leases", _join(r.leases))]
        if r.layer is not None:
            details += [("layer", f"#{r.layer.index} {r.layer.blob}"), ("diff-id", r.layer.diff_id)]
        if r.flags:
            details.append(("flags", _join(r.flags)))
        node = DiskNode(_snapshot_label(r), KIND_ITEM, SNAPSHOTS, namespace=r.namespace, ident=ident,
                        nbytes=r.bytes, state=r.state, why=v.why if v is not None else (),
                        details=[d for d in details if d[1]])
        node.verdict = v if v is not None and not v.collect else None
        by[ident] = _in_ns(top, groups, ns).add(node)
    for name, nbytes in facts.not_understood:
        top = _group(root, f"{SNAPSHOTS} ({name})", SNAPSHOTS)
        ident = f"snapshotter:{name}"
        by[ident] = top.add(DiskNode(name, KIND_ITEM, SNAPSHOTS, ident=ident, nbytes=nbytes,
                                     state=states.NOT_UNDERSTOOD, details=[("note", "not-understood")]))


def _add_ingests(root: DiskNode, facts: DiskFacts, by: dict[str, DiskNode],
                 verdicts: dict[tuple[str, str], list[Verdict]]) -> None:
    top = _group(root, INGESTS, INGESTS)
    groups: dict[str, DiskNode] = {}
    left = dict(facts.ingest_dirs)
    for ns in facts.meta.namespaces if facts.meta else ():
        for ing in ns.ingests:
            dirname = hashlib.sha256(ing.backend_ref.encode("utf-8", "surrogateescape")).hexdigest()
            nbytes = left.pop(dirname, ing.offset or 0)
            v = _first(verdicts, "ingest", f"{ns.name}\0{ing.ref}")
            ident = f"ingest:{ns.name}:{ing.ref}"
            details: list[tuple[str, Detail]] = [("ref", ing.ref)]
            if not facts.live:
                details.append(("directory", f"ingest/{dirname}"))
            if ing.expected:
                details.append(("expected", ing.expected))
            node = _in_ns(top, groups, ns.name).add(DiskNode(
                ing.ref, KIND_ITEM, INGESTS, namespace=ns.name, ident=ident, nbytes=nbytes,
                state=_record_state(v), why=v.why if v is not None else (), details=details))
            node.verdict = v if v is not None and not v.collect else None
            by[ident] = node
    for dirname, nbytes in left.items():
        ident = f"ingestdir:{dirname}"
        details = [("directory", f"ingest/{dirname}")]
        if not facts.plain:
            details.append(("note", "no-record"))
        by[ident] = _in_ns(top, groups, NO_NAMESPACE).add(DiskNode(
            dirname[:16], KIND_ITEM, INGESTS, ident=ident, nbytes=nbytes,
            state=states.PLAIN if facts.plain else states.ORPHAN, details=details))


def _add_records(root: DiskNode, facts: DiskFacts, by: dict[str, DiskNode],
                 verdicts: dict[tuple[str, str], list[Verdict]]) -> None:
    meta = facts.meta
    if meta is None:
        return
    images = _group(root, IMAGES, IMAGES)
    containers = _group(root, CONTAINERS, CONTAINERS)
    leases = _group(root, LEASES, LEASES)
    gi: dict[str, DiskNode] = {}
    gc_: dict[str, DiskNode] = {}
    gl: dict[str, DiskNode] = {}
    for ns in meta.namespaces:
        n = ns.name
        for im in ns.images:
            ident = f"image:{n}:{im.name}"
            by[ident] = _in_ns(images, gi, n).add(DiskNode(
                im.name, KIND_ITEM, IMAGES, namespace=n, ident=ident,
                details=[("target", im.target_digest or ""), ("media-type", im.target_media_type)]))
        for c in ns.containers:
            ident = f"container:{n}:{c.id}"
            by[ident] = _in_ns(containers, gc_, n).add(DiskNode(
                c.id, KIND_ITEM, CONTAINERS, namespace=n, ident=ident, state=states.IN_USE,
                details=[("image", c.image), ("snapshot", f"{c.snapshotter}/{c.snapshot_key}" if c.snapshotter else "")]))
        for lease in ns.leases:
            ident = f"lease:{n}:{lease.id}"
            v = _first(verdicts, "lease", f"{n}\0{lease.id}")
            held = len(lease.content) + len(lease.snapshots) + len(lease.ingests)
            node = _in_ns(leases, gl, n).add(DiskNode(
                lease.id, KIND_ITEM, LEASES, namespace=n, ident=ident,
                state=states.COLLECTABLE if v is not None and v.collect else states.LEASE,
                why=v.why if v is not None else (),
                details=[("expires", lease.expire_text or ""), ("holds", str(held))]))
            node.verdict = v if v is not None and not v.collect else None
            by[ident] = node
    for node in (images, containers, leases):
        if not node.children:
            root.children.remove(node)


def _add_metadata(root: DiskNode, facts: DiskFacts, by: dict[str, DiskNode]) -> None:
    if not facts.metadata_files:
        return
    top = _group(root, METADATA, METADATA)
    for rel, nbytes in facts.metadata_files:
        ident = f"file:{rel}"
        by[ident] = top.add(DiskNode(rel, KIND_ITEM, METADATA, ident=ident, nbytes=nbytes, state=states.METADATA,
                                     details=[("directory", rel)]))


def _finish(node: DiskNode) -> None:
    """Sizes and counts up the tree, children largest first, rows numbered (iteratively: no recursion limit)."""
    order: list[DiskNode] = []
    stack = [node]
    while stack:
        _yield(len(order))
        n = stack.pop()
        order.append(n)
        stack.extend(n.children)
    for i, n in enumerate(reversed(order)):  # children before parents
        _yield(i)
        if n.children:
            n.bytes = sum(c.bytes for c in n.children)
            n.count = sum(c.count if c.children else 1 for c in n.children)
            n.children.sort(key=lambda c: -c.bytes)
            for i, c in enumerate(n.children):
                c.row = i
            if len(n.children) > PAGE:
                _paginate(n)


def _paginate(n: DiskNode) -> None:
    """Put ``n``'s sorted children into pages of :data:`PAGE` (expanding 90k rows at once stalls a view)."""
    items, n.children, n.paged = n.children, [], True
    for start in range(0, len(items), PAGE):
        chunk = items[start:start + PAGE]
        page = n.add(DiskNode(f"{start + 1:,}–{start + len(chunk):,}", KIND_GROUP, n.category))
        page.children = chunk
        for i, c in enumerate(chunk):
            c.parent, c.row = page, i
        page.bytes = sum(c.bytes for c in chunk)
        page.count = sum(c.count if c.children else 1 for c in chunk)
        page.row = start // PAGE


def build_tree(facts: DiskFacts) -> DiskTree:
    """The tree of ``facts`` (worker thread)."""
    # 100k nodes with parent links: the cyclic collector would walk them again and again meanwhile
    enabled = pygc.isenabled()
    pygc.disable()
    try:
        tree = _build(facts)
    finally:
        if enabled:
            pygc.enable()
    if len(tree.by_ident) >= FREEZE_ABOVE:
        # kept out of later full collections (one would walk every node with the GIL held, a
        # 2 s stall of the GUI thread); DiskTree.dispose() frees it when it is replaced
        pygc.freeze()
    return tree


def _build(facts: DiskFacts) -> DiskTree:
    verdicts: dict[tuple[str, str], list[Verdict]] = {}
    if facts.run is not None:
        for i, v in enumerate(facts.run.verdicts):
            _yield(i)
            key = v.id if v.kind == "blob" else f"{v.namespace}\0{v.id}"
            verdicts.setdefault((v.kind, key), []).append(v)
    root = DiskNode(facts.root, KIND_ROOT)
    by: dict[str, DiskNode] = {}
    _add_content(root, facts, by, verdicts)
    if facts.snapshot_rows is not None or facts.not_understood:
        _add_snapshots(root, facts, by, verdicts)
    _add_ingests(root, facts, by, verdicts)
    _add_metadata(root, facts, by)
    _add_records(root, facts, by, verdicts)
    _finish(root)
    # a record kind with no bytes of its own goes after those that have some
    root.children.sort(key=lambda c: (c.category in (IMAGES, CONTAINERS, LEASES), -c.bytes))
    for i, c in enumerate(root.children):
        c.row = i
    problems = list(facts.problems) + (list(facts.run.problems) if facts.run is not None else [])
    return DiskTree(root, by, facts.snapshot_rows is not None or facts.plain, problems,
                    facts.run.reclaimable_bytes if facts.run is not None else None, facts.run, live=facts.live)


__all__ = ["DiskNode", "DiskTree", "DiskFacts", "build_tree", "link_target", "PAGE", "CONTENT", "SNAPSHOTS", "INGESTS",
           "METADATA", "IMAGES", "CONTAINERS", "LEASES", "KIND_ROOT", "KIND_GROUP", "KIND_ITEM", "NO_NAMESPACE"]
