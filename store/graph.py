"""The reference graph of a content store: who references whom, what keeps a blob alive, what space is shared.

Edges come from two places:

* containerd's labels (containerd-store.md §5.2): ``containerd.io/gc.ref.content`` and
  ``…content.<name>`` / ``…content/<name>`` (``m.<i>``, ``config``, ``l.<i>``,
  ``referrer.sha256.<i>``…), and the 2.2+ back-reference ``containerd.io/gc.bref.content*``
  (on the child, naming the parent);
* the descriptors inside manifests and indexes (read from the media-type cache, so a
  rebuild parses nothing), including ``subject``, which makes the subject a parent of
  its referrer (the direction containerd's ``referrer`` labels point).

``containerd.io/gc.ref.snapshot.*`` names snapshots, not blobs; ``containerd.io/uncompressed``
names a diff ID and ``containerd.io/distribution.source.*`` a registry: all three are kept as
facts about the blob, never followed.

Reachability follows containerd's garbage collector (mark from the roots, sweep the rest):
the roots are blobs labelled ``containerd.io/gc.root``, images named by the caller (the
target digests of containerd's image records, when known), and — because a bare content
store has no image records — every index or manifest that no present index or manifest
references ("top-level images").  A blob not reachable from any root is *reclaimable*,
even when other (themselves unreachable) blobs reference it.  A cycle of references with no
root is therefore reclaimable, as containerd's collector would sweep it.

Use from a GUI (all plain data, no Qt; build on a worker thread, query from any thread)::

    cache = oci.MediaTypeCache.for_store(store)          # one per store, shareable
    types = oci.classify(store, rows, cache)              # media-type column for a scan batch
    g = load_graph(store, cache, infos=rows, cancel=...)  # after the scan: no second walk
    g.blob_types()            # digest -> (media type, kind) for every blob
    g.refs(d)                 # details pane: children/parents (links), roots, reachable
    g.image_roots(); g.tree(d); g.images()                # images view with sizes
    g.reclaimable()           # "select unreferenced"
    g.space()                 # status bar / du totals
"""

from __future__ import annotations

import logging
import sys
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Sequence

from . import errors, imagenames, oci
from .digest import Digest
from .gcpause import paused_gc
from .graph_listings import Listings
from .graph_plain import BlobSizes, BlobTypes, PlainBlobs
from .imagenames import annotated_name
from .oci import ContentType, Kind, Platform

log = logging.getLogger(__name__)

GC_ROOT = "containerd.io/gc.root"
REF_CONTENT = "containerd.io/gc.ref.content"
BREF_CONTENT = "containerd.io/gc.bref.content"
REF_SNAPSHOT = "containerd.io/gc.ref.snapshot."
UNCOMPRESSED = "containerd.io/uncompressed"
DISTRIBUTION_SOURCE = "containerd.io/distribution.source."
REF_NAME = imagenames.REF_NAME

# Edge sources, in the order a person should see them.
FROM_LABEL = "label"          # containerd.io/gc.ref.content* on the parent
FROM_BACKREF = "backref"      # containerd.io/gc.bref.content* on the child
FROM_MANIFEST = "descriptor"  # a descriptor inside the parent index/manifest
FROM_SUBJECT = "subject"      # the child's own `subject` names the parent

def content_ref_name(key: str, prefix: str = REF_CONTENT) -> str | None:
    """The edge name of a ``gc.ref.content`` label key, or None when GC would ignore the key.

    containerd accepts the bare key and any suffix starting with ``.`` or ``/``;
    ``containerd.io/gc.ref.contentX`` is not a reference.
    """
    if key == prefix:
        return ""
    if key.startswith(prefix) and key[len(prefix)] in "./":
        return sys.intern(key[len(prefix) + 1:])  # "l.0", "config": one string for every edge
    return None


@dataclass(frozen=True, slots=True)
class Edge:
    parent: Digest
    child: Digest
    name: str                    # "m.0", "config", "l.2", "referrer", "" (bare gc.ref.content) ...
    sources: tuple[str, ...]     # FROM_LABEL / FROM_BACKREF / FROM_MANIFEST / FROM_SUBJECT

    def to_json(self) -> dict:
        return {"parent": str(self.parent), "child": str(self.child), "name": self.name,
                "sources": list(self.sources)}


@dataclass(frozen=True)
class SnapshotRef:
    snapshotter: str
    key: str
    label: str


@dataclass(frozen=True, slots=True)  # one an image (a root): no __dict__ each
class Root:
    digest: Digest
    # "top-level index", "top-level manifest", "image <name>", "gc.root label"; several joined by ", "
    reason: str

    def to_json(self) -> dict:
        return {"digest": str(self.digest), "reason": self.reason}


@dataclass(frozen=True)
class Neighbour:
    """One end of an edge, as the details pane lists it (a link to click)."""

    digest: Digest
    name: str
    sources: tuple[str, ...]
    present: bool
    size: int                    # -1 when unknown (absent, and no descriptor gave it)
    media_type: str
    kind: str

    def to_json(self) -> dict:
        return {"digest": str(self.digest), "name": self.name, "sources": list(self.sources),
                "present": self.present, "size": self.size, "mediaType": self.media_type,
                "kind": self.kind}


@dataclass(frozen=True)
class BlobRefs:
    """Everything the graph knows about one blob."""

    digest: Digest
    present: bool
    size: int
    media_type: str
    kind: str
    children: tuple[Neighbour, ...]
    parents: tuple[Neighbour, ...]
    roots: tuple[Root, ...]      # the roots that keep it alive (itself included when it is one)
    reachable: bool
    uncompressed: Digest | None
    snapshots: tuple[SnapshotRef, ...]
    sources: Mapping[str, tuple[str, ...]]  # registry host -> repositories
    note: str

    def to_json(self) -> dict:
        return {"digest": str(self.digest), "present": self.present, "size": self.size,
                "mediaType": self.media_type, "kind": self.kind,
                "children": [c.to_json() for c in self.children],
                "parents": [p.to_json() for p in self.parents],
                "roots": [r.to_json() for r in self.roots], "reachable": self.reachable,
                "reclaimable": self.present and not self.reachable,
                "uncompressed": str(self.uncompressed) if self.uncompressed else None,
                "snapshots": [{"snapshotter": s.snapshotter, "key": s.key} for s in self.snapshots],
                "distributionSources": {k: list(v) for k, v in self.sources.items()},
                "note": self.note}


@dataclass
class TreeNode:
    """A node of an image tree: index -> manifests (by platform) -> config and layers."""

    digest: Digest
    name: str
    media_type: str
    kind: str
    size: int
    present: bool
    platform: Platform | None = None
    annotations: Mapping[str, str] = field(default_factory=dict)
    cycle: bool = False          # this digest is already an ancestor: not expanded again
    children: list["TreeNode"] = field(default_factory=list)

    def to_json(self) -> dict:
        d = {"digest": str(self.digest), "name": self.name, "mediaType": self.media_type,
             "kind": self.kind, "size": self.size, "present": self.present}
        if self.platform is not None:
            d["platform"] = str(self.platform)
        if self.annotations:
            d["annotations"] = dict(self.annotations)
        if self.cycle:
            d["cycle"] = True
        d["children"] = [c.to_json() for c in self.children]
        return d


@dataclass(frozen=True, slots=True)  # one an image (a root): no __dict__ each
class ImageSpace:
    """One image (a root index or manifest) and the bytes it holds."""

    digest: Digest
    name: str                    # its first name (image record, else annotation: see store.imagenames), else ""
    media_type: str
    kind: str
    platforms: tuple[str, ...]
    blob_count: int
    total: int                   # bytes of the present blobs it reaches (itself included)
    shared: int                  # of which also reached by at least one other image
    unique: int                  # total - shared: what deleting only this image would free
    missing: int                 # referenced blobs that are not in the store
    names: tuple[str, ...] = ()  # every name: ``name`` is the first

    def to_json(self) -> dict:
        return {"digest": str(self.digest), "name": self.name, "names": list(self.names),
                "mediaType": self.media_type, "kind": self.kind, "platforms": list(self.platforms),
                "blobs": self.blob_count, "total": self.total, "shared": self.shared,
                "unique": self.unique, "missing": self.missing}


@dataclass(frozen=True)
class StoreSpace:
    blob_count: int
    blob_bytes: int
    ingest_count: int
    ingest_bytes: int
    reachable_count: int
    reachable_bytes: int
    reclaimable_count: int
    reclaimable_bytes: int
    image_count: int
    image_shared_bytes: int      # bytes reached by two images or more

    def to_json(self) -> dict:
        return dict(self.__dict__)


class Graph:
    """An immutable snapshot of a store's references; every query is in memory and cheap.

    Build it with :func:`build_graph` (from a walk's infos and content types) or
    :func:`load_graph` (from a store).  Safe to query from any thread.
    """

    def __init__(self, sizes: dict, types: dict, edges: dict, labels_info: tuple, *,
                 extra_roots: Mapping[Digest, str | Sequence[str]] | None, platforms: dict,
                 annotations: dict, problems: list, ingest_count: int, ingest_bytes: int,
                 adjacency: tuple[dict, dict] | None = None,
                 images: Iterable[Digest] | None = None, plain: PlainBlobs | None = None,
                 listings: Listings | None = None, edge_count: int | None = None):
        # every present blob: those taking part in something in the dicts, the rest (no edge, no
        # label fact, no root, no descriptor) compact in ``plain`` (store/graph_plain.py)
        self.sizes: BlobSizes = BlobSizes(sizes, plain)
        # the indexes' and manifests' descriptors in columns (store/graph_listings.py), their types
        # without them in ``types``
        self._listings: Listings = listings if listings is not None else Listings()
        self.types: BlobTypes = BlobTypes(types, plain, self._listings)
        # keyed by (parent, child): a descriptor's platform and annotations belong to the edge
        self._platform: dict[tuple[Digest, Digest], Platform] = platforms
        self._annotations: dict[tuple[Digest, Digest], dict] = annotations
        self.problems: list[str] = problems
        self.ingest_count = ingest_count
        self.ingest_bytes = ingest_bytes
        self._uncompressed, self._snapshots, self._sources, self._gc_root = labels_info
        # Each edge is kept once: (parent, child, name, source bit mask), in the lists of both its
        # ends; an Edge object is made when one is asked for.
        if adjacency is not None:  # worked out from an earlier graph's (Graph.updated), or read back
            self._children, self._parents = adjacency
            self.edge_count = edge_count if edge_count is not None else sum(map(len, self._children.values()))
        else:
            self._children, self._parents = _adjacency(edges)
            self.edge_count = len(edges)
        self._lock = threading.Lock()
        self._image_space: dict[Digest, ImageSpace] | None = None
        self._image_shared_bytes = 0  # bytes reached by two images or more, set with _image_space
        self._names: dict[Digest, tuple[str, ...]] = {
            Digest(d): (names,) if isinstance(names, str) else tuple(names)
            for d, names in (extra_roots or {}).items()}
        # the present indexes and manifests (given by the builder, which saw each type go by)
        self._image_digests = (list(images) if images is not None
                               else [d for d, ct in types.items() if ct.is_image and d in sizes])
        # (a graph's own ``types`` dict holds its content types without descriptors)
        # Every edge's ends, every root and image is in the dicts (never plain): the walks below
        # look present blobs up there alone.
        self._present: dict[Digest, int] = sizes
        self.roots: dict[Digest, Root] = self._find_roots()
        self.reachable: frozenset[Digest] = frozenset(self._mark())
        self.facts: _Facts | None = None  # what it was built from, for updated()

    # --- a few blobs changed -------------------------------------------------------------------
    def updated(self, store, cache: oci.MediaTypeCache | None, rows: Iterable, gone: Iterable, *,
                known: Mapping[str, ContentType] | None = None,
                extra_roots: Mapping[str, str | Sequence[str]] | None = None,
                ingest_count: int | None = None, ingest_bytes: int | None = None,
                cancel: Callable[[], bool] | None = None, processes: str | None = None) -> "Graph":
        """This graph after a few blobs changed, in proportion to the change (design.md §5.2).

        ``rows``: records (``digest``, ``size``, ``labels``) of blobs new or relabelled since;
        ``gone``: digests no longer present.  Only blobs new to the graph are recognised
        (:func:`oci.classify`: the cache, or a read of their heads); every other fact is this
        graph's, so nothing else is read and nothing walked.  The result equals a full
        :func:`build_graph` of the store as it is now (``extra_roots`` and the ingest figures
        default to this graph's).  This graph is left as it was.
        """
        if self.facts is None:
            raise errors.FailedPrecondition("this graph was not built from facts; build it again")
        recs: dict[Digest, object] = {}
        for r in rows:
            d = r.digest
            recs[d if isinstance(d, Digest) else Digest(d)] = r
        dead = {x if isinstance(x, Digest) else Digest(x) for x in gone} - recs.keys()
        new = self.facts.copy()
        with paused_gc():
            for d in recs:
                new.promote(d)  # a compact plain blob changed: it is a dict entry again
            if new.plain is not None:  # a plain blob deleted gave nothing else to take out
                dead = {d for d in dead if new.plain.take(d) is None}
            for d in recs.keys() | dead:
                kids, pars = self._edge_list(self._children.get(d, ())), self._edge_list(self._parents.get(d, ()))
                new.drop_labels(d, kids, pars)
                if d in dead:
                    new.drop_type(d, kids, pars)
                    new.sizes.pop(d, None)
            todo = [r for d, r in recs.items() if d not in new.types]
            if cancel is not None and cancel():
                raise errors.Cancelled("updating the reference graph stopped")
            types = oci.classify(store, todo, cache, known=known, cancel=cancel, processes=processes) if todo else {}
            memo: dict[str, Digest] = {}
            for d, r in recs.items():
                new.sizes[d] = r.size  # type: ignore[attr-defined]
                if r.labels:  # type: ignore[attr-defined]
                    new.add_labels(d, r.labels, memo)  # type: ignore[attr-defined]
            for d, ct in types.items():
                if d in recs:
                    new.add_type(d, ct)
            return new.graph(self._names if extra_roots is None else extra_roots,
                             self.ingest_count if ingest_count is None else ingest_count,
                             self.ingest_bytes if ingest_bytes is None else ingest_bytes, prev=self)

    # --- roots and reachability -----------------------------------------------------------
    def _is_image(self, d: Digest) -> bool:
        ct = self.types.dict.get(d)
        return ct is not None and ct.is_image

    def _find_roots(self) -> dict[Digest, Root]:
        reasons: dict[Digest, list[str]] = defaultdict(list)
        extra = self._names
        for d, names in extra.items():
            reasons[d].extend([f"image {n}" for n in names if n] or ["image"])
        self._top_level: set[Digest] = set(reasons)
        for d in self._image_digests:
            ct = self.types.dict[d]
            # An index/manifest that a present index/manifest lists is part of that image, not one itself.
            if any(k[0] != d and k[0] in self._present and self._is_image(k[0])
                   for k in self._parents.get(d, ())):
                continue
            self._top_level.add(d)
            if d not in extra:
                reasons[d].append(f"top-level {ct.kind.value}")
        for d in self._gc_root:
            reasons[d].append("gc.root label")
        return {d: Root(d, ", ".join(r)) for d, r in reasons.items()}

    def _closure(self, start: Iterable[Digest]) -> set[Digest]:
        """Every digest reachable from ``start`` (present or not); cycles are visited once."""
        seen = set(start)
        queue = deque(seen)
        children = self._children
        while queue:
            for k in children.get(queue.popleft(), ()):
                if k[1] not in seen:
                    seen.add(k[1])
                    queue.append(k[1])
        return seen

    def _mark(self) -> set[Digest]:
        present = self._present
        return {d for d in self._closure(self.roots) if d in present}

    def reclaimable(self) -> list[Digest]:
        """Present blobs that no root reaches, sorted by digest."""
        reachable = self.reachable
        out = [d for d in self._present if d not in reachable]
        if self.sizes.plain is not None:
            out.extend(self.sizes.plain)  # no root reaches a plain blob (nothing names it)
        out.sort()
        return out

    def roots_of(self, digest) -> list[Root]:
        """The roots that keep ``digest`` alive (walks parents; cycles are visited once)."""
        d = Digest(digest)
        seen = {d}
        queue = deque([d])
        found = []
        while queue:
            cur = queue.popleft()
            if cur in self.roots:
                found.append(self.roots[cur])
            for k in self._parents.get(cur, ()):
                if k[0] not in seen:
                    seen.add(k[0])
                    queue.append(k[0])
        return sorted(found, key=lambda r: r.digest)

    # --- neighbours ---------------------------------------------------------------------------
    def _edge_list(self, keys: Iterable[tuple]) -> list[Edge]:
        return [_new_edge(k, k[3]) for k in keys]

    def children(self, digest) -> list[Edge]:
        return self._edge_list(self._children.get(Digest(digest), ()))

    def parents(self, digest) -> list[Edge]:
        return self._edge_list(self._parents.get(Digest(digest), ()))

    def missing(self) -> list[Edge]:
        """Edges whose child is not in the store (a manifest whose layer is absent...)."""
        present = self._present
        return self._edge_list(k for lst in self._children.values() for k in lst if k[1] not in present)

    def cycles(self) -> list[list[Digest]]:
        """Groups of blobs that reference each other in a loop (strongly connected components)."""
        index: dict[Digest, int] = {}
        low: dict[Digest, int] = {}
        on_stack: set[Digest] = set()
        stack: list[Digest] = []
        out: list[list[Digest]] = []
        counter = 0
        for start in list(self._children):
            if start in index:
                continue
            work = [(start, iter(self._children.get(start, ())))]
            index[start] = low[start] = counter
            counter += 1
            stack.append(start)
            on_stack.add(start)
            while work:
                node, it = work[-1]
                advanced = False
                for k in it:
                    c = k[1]
                    if c not in index:
                        index[c] = low[c] = counter
                        counter += 1
                        stack.append(c)
                        on_stack.add(c)
                        work.append((c, iter(self._children.get(c, ()))))
                        advanced = True
                        break
                    if c in on_stack:
                        low[node] = min(low[node], index[c])
                if advanced:
                    continue
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    comp = []
                    while True:
                        x = stack.pop()
                        on_stack.discard(x)
                        comp.append(x)
                        if x == node:
                            break
                    if len(comp) > 1 or any(k[1] == node for k in self._children.get(node, ())):
                        out.append(sorted(comp))
        return out

    # --- what a blob is -------------------------------------------------------------------------
    def _declared(self, d: Digest) -> tuple[str, int]:
        """The media type and size the descriptors listing ``d`` declare ('' and -1 when none does):
        each from the lowest parent digest declaring it, its first descriptor naming ``d``.

        Worked out from the parents' content types when asked rather than kept for every blob (four
        dicts, about 180 bytes an image blob): ``d``'s parents are sorted by digest, and the first
        one listing it usually declares both."""
        keys = self._parents.get(d)
        if keys is None:
            return "", -1
        listings = self._listings
        got = listings.declared(keys[0][0], d)
        if got is not None and got[0] and got[1] >= 0:
            return got  # the lowest parent declares both: the usual
        mt, size, last = "", -1, None
        for k in keys:
            p = k[0]
            if p == last:
                continue
            last = p
            got = listings.declared(p, d)  # None: p names d by a label alone
            if got is None:
                continue
            pmt, psize = got
            if not mt:
                mt = pmt
            if size < 0:
                size = psize
            if mt and size >= 0:
                break
        return mt, size

    def media_type(self, digest) -> str:
        """The media type a parent's descriptor declares, else the one sniffed, else ''."""
        d = Digest(digest)
        mt = self._declared(d)[0]
        if mt:
            return mt
        ct = self.types.head(d)
        return ct.media_type if ct else ""

    def kind(self, digest) -> str:
        """The sniffed kind, else the one the declared media type names, else ''."""
        d = Digest(digest)
        ct = self.types.head(d)
        if ct is not None:
            return ct.kind.value
        k = oci.kind_of_media_type(self._declared(d)[0])
        return k.value if k is not None else ""

    def size(self, digest) -> int:
        d = Digest(digest)
        size = self.sizes.get(d)
        return size if size is not None else self._declared(d)[1]

    def blob_types(self) -> dict[Digest, tuple[str, str]]:
        """digest -> (media type, kind) for every present blob: the blobs table's column in one call."""
        # every declared media type in one pass over the descriptors (the lowest parent declaring
        # one wins: the parents in digest order, each one's first descriptor naming the child)
        declared = self._listings.declared_types()
        types = self.types.dict
        out = {}
        for d in self._present:
            ct = types.get(d)
            if ct is not None:
                out[d] = (declared.get(d) or ct.media_type, ct.kind.value)
            else:
                mt = declared.get(d, "")
                out[d] = (mt, k.value if (k := oci.kind_of_media_type(mt)) is not None else "")
        del declared
        plain = self.sizes.plain
        if plain is not None:
            # a plain blob has no parent to declare its type: its own, the same pair for each type
            pairs: dict = {None: ("", "")}
            for d, ct in plain.entries():
                pair = pairs.get(ct)
                if pair is None:
                    pair = pairs[ct] = (ct.media_type, ct.kind.value)  # type: ignore[attr-defined]
                out[d] = pair
        return out

    def _neighbour(self, d: Digest, name: str, sources) -> Neighbour:
        return Neighbour(d, name, sources, d in self.sizes, self.size(d), self.media_type(d), self.kind(d))

    def refs(self, digest) -> BlobRefs:
        """Children, parents, roots and label facts of one blob (present or only referenced)."""
        d = Digest(digest)
        ct = self.types.head(d)
        return BlobRefs(
            digest=d, present=d in self.sizes, size=self.size(d), media_type=self.media_type(d),
            kind=self.kind(d),
            children=tuple(self._neighbour(e.child, e.name, e.sources) for e in self.children(d)),
            parents=tuple(self._neighbour(e.parent, e.name, e.sources) for e in self.parents(d)),
            roots=tuple(self.roots_of(d)), reachable=d in self.reachable,
            uncompressed=self._uncompressed.get(d), snapshots=tuple(self._snapshots.get(d, ())),
            sources={k: tuple(v) for k, v in self._sources.get(d, {}).items()},
            note=ct.note if ct else "")

    # --- images ----------------------------------------------------------------------------------
    def image_roots(self) -> list[Root]:
        """Roots that are images (top-level indexes/manifests and named images), by digest."""
        return sorted((self.roots[d] for d in self._top_level), key=lambda r: r.digest)

    def tree(self, digest, *, max_nodes: int = 100000) -> TreeNode:
        """The graph below ``digest`` as a tree; a digest already on the path is shown once, marked ``cycle``."""
        d = Digest(digest)
        root = self._tree_node(d, "", None)
        count = 1
        stack = [(root, frozenset([d]))]
        while stack:
            node, path = stack.pop()
            by_child: dict[Digest, list[tuple]] = {}
            for k in self._children.get(node.digest, ()):
                by_child.setdefault(k[1], []).append(k)
            for child, keys in by_child.items():
                name = ", ".join(dict.fromkeys(k[2] for k in keys if k[2])) or "ref"
                kid = self._tree_node(child, name, node.digest)
                node.children.append(kid)
                count += 1
                if child in path:
                    kid.cycle = True
                elif count < max_nodes:
                    stack.append((kid, path | {child}))
        return root

    def _tree_node(self, d: Digest, name: str, parent: Digest | None) -> TreeNode:
        plat = self._platform.get((parent, d)) if parent is not None else None
        ct = self.types.head(d) if plat is None else None
        if ct is not None and ct.kind == Kind.CONFIG:
            plat = ct.platform
        return TreeNode(d, name, self.media_type(d), self.kind(d), self.size(d), d in self.sizes,
                        platform=plat, annotations=self._annotations.get((parent, d), {}) if parent else {})

    def image_names(self, digest) -> tuple[str, ...]:
        """The image records' names of ``digest`` (``extra_roots``), else the name its own annotations
        give, else those of a descriptor pointing at it, else those of the descriptors it lists (an
        index naming its manifests, as an OCI layout's ``index.json`` does), each by
        :func:`store.imagenames.annotated_name`; else ()."""
        d = Digest(digest)
        names = tuple(n for n in self._names.get(d, ()) if n)
        if names:
            return names
        ann = self._annotations
        ct = self.types.head(d)
        name = (ct.name if ct is not None else "") \
            or annotated_name(ann.get((k[0], d)) for k in self._parents.get(d, ())) \
            or annotated_name(ann.get((d, k[1])) for k in self._children.get(d, ()))
        return (name,) if name else ()

    def image_name(self, digest) -> str:
        """The first of :meth:`image_names`, or ''."""
        names = self.image_names(digest)
        return names[0] if names else ""

    def _images(self) -> dict[Digest, ImageSpace]:
        with self._lock:
            if self._image_space is None:
                self._image_space = self._compute_image_space()
            return self._image_space

    def images(self) -> list[ImageSpace]:
        """Every image with its total, shared and unique bytes (computed once, then cached)."""
        return list(self._images().values())

    def image(self, digest) -> ImageSpace | None:
        return self._images().get(Digest(digest))

    def _compute_image_space(self) -> dict[Digest, ImageSpace]:
        closures = {r.digest: self._closure([r.digest]) for r in self.image_roots()}
        count: dict[Digest, int] = defaultdict(int)
        for cl in closures.values():
            for d in cl:
                count[d] += 1
        sizes = self._present
        self._image_shared_bytes = sum(sizes[x] for x, n in count.items() if n > 1 and x in sizes)
        out = {}
        for d, cl in closures.items():
            present = [x for x in cl if x in sizes]
            total = sum(sizes[x] for x in present)
            shared = sum(sizes[x] for x in present if count[x] > 1)
            plats = []
            for k in self._children.get(d, ()):
                p = self._platform.get((d, k[1]))
                if p is not None and str(p) not in plats:
                    plats.append(str(p))
            if not plats:
                for x in cl:
                    ct = self.types.head(x)
                    if ct is not None and ct.kind == Kind.CONFIG and ct.platform and str(ct.platform) not in plats:
                        plats.append(str(ct.platform))
            names = self.image_names(d)
            out[d] = ImageSpace(d, names[0] if names else "", self.media_type(d), self.kind(d), tuple(plats),
                                len(present), total, shared, total - shared, len(cl) - len(present), names)
        return out

    def space(self) -> StoreSpace:
        image_count = len(self._images())  # also sets _image_shared_bytes: no image closure is walked again
        # in slices, the GIL handed over between them: one sum over a million-blob store's reachable
        # blobs held it 30-60 ms on the graph's worker (the window's GUI thread waited)
        get, reach, reach_bytes = self._present.__getitem__, list(self.reachable), 0
        for start in range(0, len(reach), 16384):
            reach_bytes += sum(map(get, reach[start:start + 16384]))
        total = self.sizes.total()
        return StoreSpace(
            blob_count=len(self.sizes), blob_bytes=total, ingest_count=self.ingest_count,
            ingest_bytes=self.ingest_bytes, reachable_count=len(self.reachable), reachable_bytes=reach_bytes,
            reclaimable_count=len(self.sizes) - len(self.reachable), reclaimable_bytes=total - reach_bytes,
            image_count=image_count, image_shared_bytes=self._image_shared_bytes)


def _new_edge(key: tuple, mask: int) -> Edge:
    # made on demand from a key (a blob's children, parents, missing edges: thousands at once), so
    # the frozen dataclass's __init__ (one object.__setattr__ a field) is skipped for the slots'
    # own setters
    e = object.__new__(Edge)
    _SET_PARENT(e, key[0])
    _SET_CHILD(e, key[1])
    _SET_NAME(e, key[2])
    _SET_SOURCES(e, _SOURCES_OF_MASK[mask])
    return e


_SET_PARENT, _SET_CHILD, _SET_NAME, _SET_SOURCES = (
    vars(Edge)[f].__set__ for f in ("parent", "child", "name", "sources"))


def _adjacency(edges: dict[tuple, int]) -> tuple[dict[Digest, tuple], dict[Digest, tuple]]:
    """Children and parents lists of every digest, in the order a person should see them, from
    edges (``(parent, child, name)`` -> source bit mask, see _SOURCE_BIT): tuples of the edges
    ``(parent, child, name, mask)`` (48 bytes for the usual one, against 88 for a list grown by
    append).  The edges are kept there alone, not in a dict beside (50 bytes an edge at 1M)."""
    children: dict[Digest, list[tuple]] = {}
    parents: dict[Digest, list[tuple]] = {}
    for key, mask in edges.items():
        key = (*key, mask)
        lst = children.get(key[0])
        if lst is None:
            children[key[0]] = [key]
        else:
            lst.append(key)
        lst = parents.get(key[1])
        if lst is None:
            parents[key[1]] = [key]
        else:
            lst.append(key)
    return _sorted_tuples(children, _edge_order), _sorted_tuples(parents, _parent_order)


def _sorted_tuples(lists: dict[Digest, list[tuple]], order) -> dict[Digest, tuple]:
    out = {}
    for d, lst in lists.items():
        out[d] = tuple(sorted(lst, key=order)) if len(lst) > 1 else (lst[0],)
    return out


def _adjacency_after(prev: Graph, facts: "_Facts", dirty: set[tuple]):
    """``prev``'s children and parents lists with the edges of ``dirty`` (keys added, changed or
    taken out since; their masks now in ``facts.edges``) made again: only the lists of their ends
    are touched.  And the number of edges now."""
    children, parents = dict(prev._children), dict(prev._parents)
    count = prev.edge_count
    made = []
    for key in dirty:
        now = facts.edges[key]
        count += (now > 0) - (facts.base_mask(key) > 0)
        if now:
            made.append((*key, now))
    for lists, end, order in ((children, 0, _edge_order), (parents, 1, _parent_order)):
        by_end: dict[Digest, list[tuple]] = {}
        for key in dirty:
            by_end.setdefault(key[end], [])
        for edge in made:
            by_end[edge[end]].append(edge)
        for d, edges in by_end.items():
            lst = [k for k in lists.get(d, ()) if k[:3] not in dirty]
            lst.extend(edges)
            if len(lst) > 1:
                lst.sort(key=order)
            if lst:
                lists[d] = tuple(lst)
            else:
                lists.pop(d, None)
    return children, parents, count


# Edge sources as bits while building, and each mask's sources in the order a person should see them.
_SOURCE_ORDER = (FROM_MANIFEST, FROM_LABEL, FROM_BACKREF, FROM_SUBJECT)
_SOURCE_BIT = {src: 1 << i for i, src in enumerate(_SOURCE_ORDER)}
_LISTED = _SOURCE_BIT[FROM_MANIFEST]
_SOURCES_OF_MASK = tuple(tuple(src for i, src in enumerate(_SOURCE_ORDER) if mask & (1 << i))
                         for mask in range(1 << len(_SOURCE_ORDER)))


def _hashable(ct: ContentType) -> bool:
    try:
        hash(ct)
    except TypeError:
        return False
    return True


def _parent_order(key: tuple):
    return (key[0], key[2])


def _edge_order(key: tuple):
    name = key[2]
    head, _, tail = name.partition(".")
    group = {"config": 0, "m": 1, "l": 2}.get(head, 3 if name != "referrer" else 4)
    return (group, int(tail) if tail.isdigit() else 0, name, key[1])


def build_graph(infos: Iterable, types: Mapping[Digest, ContentType], *,
                extra_roots: Mapping[str, str | Sequence[str]] | None = None,
                ingest_count: int = 0, ingest_bytes: int = 0,
                cancel: Callable[[], bool] | None = None) -> Graph:
    """Build the graph from one walk's :class:`Info` records and the blobs' content types.

    ``infos`` may be any records with ``digest``, ``size`` and ``labels`` (the GUI's rows).

    ``extra_roots`` maps digests to the names of the image records pointing at them (one name,
    or a list: :func:`store.disk.image_records.recorded_names`); they are roots whether or not anything
    references them, and those names win over annotations.
    """
    with paused_gc():
        return _build_graph(infos, types, extra_roots=extra_roots, ingest_count=ingest_count,
                            ingest_bytes=ingest_bytes, cancel=cancel)


def _build_graph(infos, types, *, extra_roots, ingest_count, ingest_bytes, cancel) -> Graph:
    facts = _Facts()
    infos = infos if isinstance(infos, list) else list(infos)
    sizes = facts.sizes
    for info in infos:
        d = info.digest
        # Any record with .digest/.size/.labels will do (a GUI row holds a plain str digest).
        sizes[d if isinstance(d, Digest) else Digest(d)] = info.size
    memo: dict[str, Digest] = {d: d for d in sizes}  # label values mostly name present, validated blobs
    for n, info in enumerate(infos):
        if cancel is not None and n % 4096 == 0 and cancel():
            raise errors.Cancelled(f"building the reference graph stopped after {n} blobs")
        if info.labels:
            facts.add_labels(memo[info.digest], info.labels, memo)
    for d, ct in types.items():
        if d in sizes:
            facts.add_type(d, ct)
    return facts.graph(extra_roots, ingest_count, ingest_bytes)


class _Facts:
    """What a graph is made of, by the blob each fact comes from, so that a graph can be derived
    for a few changed blobs (:meth:`Graph.updated`) without reading or walking the rest.

    A label edge belongs to the blob whose labels name it (the parent of a ``gc.ref``, the child
    of a ``gc.bref``), a descriptor edge to the manifest or index that lists it (the referrer for
    ``subject``); so each blob's share can be taken out again through the graph's adjacency.
    """

    __slots__ = ("sizes", "types", "edges", "base", "base_maps", "uncompressed", "snapshots", "sources", "gc_root",
                 "label_problems", "type_problems",
                 "platforms", "annotations", "images", "dirty", "plain", "listings")

    def __init__(self) -> None:
        self.sizes: dict[Digest, int] = {}
        self.types: dict[Digest, ContentType] = {}                # present blobs only (descriptors: listings)
        self.listings = Listings()                                # the descriptors of indexes and manifests
        # (parent, child, name) -> source bits: every edge while a graph is built from scratch;
        # once it is, the edges are its lists' alone (``base``, the children lists) and this holds
        # those changed since (0: taken out)
        self.edges: dict[tuple, int] = {}
        self.base: dict[Digest, tuple] | None = None
        self.base_maps: dict[Digest, dict[tuple, int]] = {}       # of parents of many children, made when asked
        self.uncompressed: dict[Digest, Digest] = {}
        self.snapshots: dict[Digest, list[SnapshotRef]] = {}
        self.sources: dict[Digest, dict[str, list[str]]] = {}
        self.gc_root: set[Digest] = set()
        self.label_problems: dict[Digest, list[str]] = {}
        self.type_problems: dict[Digest, str] = {}
        self.platforms: dict[tuple, Platform] = {}
        self.annotations: dict[tuple, dict] = {}
        self.images: dict[Digest, None] = {}  # present indexes and manifests, in the order they came
        self.dirty: set[tuple] | None = None  # edge keys changed since copy() (None: not tracked)
        # the present blobs that take part in nothing, out of sizes and types (made by graph())
        self.plain: PlainBlobs | None = None

    def copy(self) -> "_Facts":
        """A copy whose dicts can change without touching this one's (values are replaced, never
        edited), which notes the edges that change from here on."""
        new = _Facts()
        for name in self.__slots__:
            if name not in ("dirty", "plain", "listings", "edges", "base", "base_maps"):
                setattr(new, name, getattr(self, name).copy())
        new.plain = self.plain.copy() if self.plain is not None else None
        new.listings = self.listings.copy()
        new.base = self.base
        new.dirty = set()
        return new

    def promote(self, d: Digest) -> None:
        """``d`` out of the compact plain blobs and into sizes and types (it takes part in something
        now, or is about to change); nothing when it is not a plain blob."""
        got = self.plain.take(d) if self.plain is not None else None
        if got is not None:
            self.sizes[d] = got[0]
            if got[1] is not None:
                self.types[d] = got[1]  # type: ignore[assignment]

    def compact(self, extra_roots: Iterable[Digest]) -> None:
        """Move the present blobs that take part in nothing (no edge, label fact, root, image or
        descriptor) out of sizes and types into a :class:`PlainBlobs` (a fresh build)."""
        keep: set[Digest] = set()
        for parent, child, _name in self.edges:
            keep.add(parent)
            keep.add(child)
        for facts in (self.uncompressed, self.snapshots, self.sources, self.gc_root, self.label_problems,
                      self.type_problems, self.images, self.listings.parents(), extra_roots):
            keep.update(facts)
        sizes, types = self.sizes, self.types
        kept_sizes: dict[Digest, int] = {}
        kept_types: dict[Digest, ContentType] = {}
        plain: list[tuple[Digest, int, ContentType | None]] = []
        for d, size in sizes.items():
            ct = types.get(d)
            if d not in keep and (ct is None or (not ct.descriptors and _hashable(ct))):
                plain.append((d, size, ct))
                continue
            kept_sizes[d] = size
            if ct is not None:
                kept_types[d] = ct
        if not plain:
            return
        self.plain = PlainBlobs.of(plain)
        del plain
        self.sizes, self.types = kept_sizes, kept_types

    def base_mask(self, key: tuple) -> int:
        """The source bits of edge ``key`` in the graph these facts were copied from (0: none)."""
        kids = self.base.get(key[0]) if self.base is not None else None
        if not kids:
            return 0
        if len(kids) > 16:  # an index of thousands relabelled: not one scan of them an edge
            got = self.base_maps.get(key[0])
            if got is None:
                got = self.base_maps[key[0]] = {k[:3]: k[3] for k in kids}
            return got.get(key, 0)
        child, name = key[1], key[2]
        for k in kids:
            if k[1] == child and k[2] == name:
                return k[3]
        return 0

    def _mask(self, key: tuple) -> int:
        got = self.edges.get(key)
        return got if got is not None else self.base_mask(key)

    def _add_edge(self, parent: Digest, child: Digest, name: str, src: str) -> None:
        key = (parent, child, name)
        self.edges[key] = self._mask(key) | _SOURCE_BIT[src]
        if self.dirty is not None:
            self.dirty.add(key)

    def _drop_edge(self, parent: Digest, child: Digest, name: str, src: str) -> None:
        key = (parent, child, name)
        if self.dirty is not None:
            self.dirty.add(key)
        mask = self._mask(key) & ~_SOURCE_BIT[src]
        if mask or self.base is not None:
            self.edges[key] = mask  # 0 kept: the edge the base has is gone
        else:
            self.edges.pop(key, None)

    def add_labels(self, d: Digest, labels: Mapping[str, str], memo: dict[str, Digest]) -> None:
        """The edges and facts ``d``'s labels give (containerd-store.md §5.2)."""
        problems: list[str] = []

        def as_digest(key, value):
            x = memo.get(value)
            if x is not None:
                return x
            try:
                x = memo[value] = Digest(value)
                return x
            except errors.InvalidArgument:
                problems.append(f"blob {d} has label {key!r} whose value {value[:80]!r} is not a digest; "
                                "the reference was ignored")
                return None

        for key, value in labels.items():
            if not key.startswith("containerd.io/"):
                continue
            if key == GC_ROOT:
                if value:
                    self.gc_root.add(d)
            elif key.startswith(REF_CONTENT):
                name = content_ref_name(key)
                if name is not None and (child := as_digest(key, value)) is not None:
                    self._add_edge(d, child, name, FROM_LABEL)
            elif key.startswith(BREF_CONTENT):
                name = content_ref_name(key, BREF_CONTENT)
                if name is not None and (parent := as_digest(key, value)) is not None:
                    self._add_edge(parent, d, name, FROM_BACKREF)
            elif key.startswith(REF_SNAPSHOT):
                rest = key[len(REF_SNAPSHOT):]
                self.snapshots.setdefault(d, []).append(SnapshotRef(rest.split("/", 1)[0], value, key))
            elif key == UNCOMPRESSED:
                if (u := as_digest(key, value)) is not None:
                    self.uncompressed[d] = u
            elif key.startswith(DISTRIBUTION_SOURCE):
                self.sources.setdefault(d, {})[key[len(DISTRIBUTION_SOURCE):]] = [r for r in value.split(",") if r]
        if problems:
            self.label_problems[d] = problems

    def add_type(self, d: Digest, ct: ContentType) -> None:
        """``d``'s content type, and the edges and facts of its descriptors (a present blob)."""
        if ct.descriptors:
            self.types[d] = self.listings.add(d, ct)
        elif ct.platform is None and not (ct.note or ct.name or ct.artifact_type):
            self.types[d] = ct  # a bare (media type, kind): shared already (store/oci.py)
        else:
            self.types[d] = self.listings.shared(ct)
        if ct.is_image:
            self.images[d] = None
        if not ct.descriptors:
            return
        if ct.note:
            self.type_problems[d] = f"blob {d} ({ct.media_type}): {ct.note}"
        for desc in ct.descriptors:
            if desc.role == "subject":
                self._add_edge(desc.digest, d, "referrer", FROM_SUBJECT)
                continue
            self._add_edge(d, desc.digest, desc.name, FROM_MANIFEST)
            if desc.platform is not None:
                self.platforms[(d, desc.digest)] = desc.platform
            if desc.annotations:
                self.annotations[(d, desc.digest)] = dict(desc.annotations)

    def drop_labels(self, d: Digest, children: Iterable[Edge], parents: Iterable[Edge]) -> None:
        """Take out what ``d``'s labels gave (its edges as the graph it was added to has them)."""
        for e in children:
            if FROM_LABEL in e.sources:
                self._drop_edge(d, e.child, e.name, FROM_LABEL)
        for e in parents:
            if FROM_BACKREF in e.sources:
                self._drop_edge(e.parent, d, e.name, FROM_BACKREF)
        self.gc_root.discard(d)
        for facts in (self.uncompressed, self.snapshots, self.sources, self.label_problems):
            facts.pop(d, None)

    def drop_type(self, d: Digest, children: Iterable[Edge], parents: Iterable[Edge]) -> None:
        """Take out ``d``'s content type and what its descriptors gave."""
        self.types.pop(d, None)
        self.listings.drop(d)
        self.images.pop(d, None)
        self.type_problems.pop(d, None)
        for e in children:
            if FROM_MANIFEST in e.sources:
                self._drop_edge(d, e.child, e.name, FROM_MANIFEST)
                self.platforms.pop((d, e.child), None)
                self.annotations.pop((d, e.child), None)
        for e in parents:
            if FROM_SUBJECT in e.sources:
                self._drop_edge(e.parent, d, e.name, FROM_SUBJECT)

    def graph(self, extra_roots, ingest_count: int, ingest_bytes: int, prev: Graph | None = None,
              adjacency: tuple[dict, dict] | None = None) -> Graph:
        """The graph of these facts; ``prev``: the graph they were copied from (its lists are reused);
        ``adjacency``: the children and parents lists of these very facts, already made."""
        edge_count = None
        if prev is not None and self.dirty is not None:
            children, parents, edge_count = _adjacency_after(prev, self, self.dirty)
            adjacency = (children, parents)
        problems = [text for texts in self.label_problems.values() for text in texts]
        problems.extend(self.type_problems.values())
        roots = {Digest(k): v for k, v in (extra_roots or {}).items()}
        if self.dirty is None:
            if self.plain is None:  # else compacted already (a graph read back, store/graph_copy.py)
                self.compact(roots)
        else:  # every end of a changed edge and every named image is a dict entry
            for key in self.dirty:
                self.promote(key[0])
                self.promote(key[1])
            for d in roots:
                self.promote(d)
        g = Graph(self.sizes, self.types, self.edges,
                  (self.uncompressed, self.snapshots, self.sources, self.gc_root),
                  extra_roots=roots,
                  platforms=self.platforms, annotations=self.annotations, problems=problems,
                  ingest_count=ingest_count, ingest_bytes=ingest_bytes,
                  adjacency=adjacency, images=self.images, plain=self.plain, listings=self.listings,
                  edge_count=edge_count)
        self.dirty = None
        self.edges, self.base, self.base_maps = {}, g._children, {}  # the graph's lists hold them now
        g.facts = self
        return g


def load_graph(store, cache: oci.MediaTypeCache | None = None, *,
               infos: Iterable | None = None,
               known: Mapping[str, oci.ContentType] | None = None,
               extra_roots: Mapping[str, str | Sequence[str]] | None = None,
               cancel: Callable[[], bool] | None = None,
               progress: Callable[[int, int], None] | None = None,
               processes: str | None = None, prune: bool = False) -> Graph:
    """Walk ``store`` once, recognise its blobs (through ``cache``) and build the graph.

    Give ``infos`` (the :class:`Info` records a scan already listed) to skip the walk, and
    ``known`` (content types already recognised, see :func:`oci.classify`) to skip those blobs.
    Cheap on a warm cache (reads no blob); call it on a worker thread.  ``cancel()``
    is polled and raises :class:`errors.Cancelled`; ``progress(done, total)`` reports
    the blobs recognised for the first time (the slow part on a cold cache).
    ``processes``: a start method for recognising them in worker processes (see
    :func:`oci.classify`).  ``prune``: ``infos`` (or the walk) lists the whole store, so the
    cache forgets every other digest (blobs deleted since) when it holds more answers than
    the store has recognised blobs.
    """
    if infos is not None:
        infos = list(infos)
    else:
        infos = []
        for info in store.walk():
            infos.append(info)
            if cancel is not None and len(infos) % 4096 == 0 and cancel():
                raise errors.Cancelled(f"listing blobs stopped after {len(infos)}")
    types = oci.classify(store, infos, cache, known=known, cancel=cancel, progress=progress,
                         processes=processes)
    # Every blob recognised is cached now: more answers than that means some are for blobs
    # deleted since.  (Counting first keeps a rescan with nothing deleted at one cheap query.)
    if prune and cache is not None and len(cache) > len(types):
        cache.prune(info.digest for info in infos)
    ingest_count = ingest_bytes = 0
    if hasattr(store, "list_statuses"):
        try:
            statuses = store.list_statuses()  # not usage(): that walks the blobs a second time
            ingest_count, ingest_bytes = len(statuses), sum(s.offset for s in statuses)
        except (OSError, errors.ContentError) as e:
            log.warning("ingest usage of %s could not be read: %s", getattr(store, "root", store), e)
    return build_graph(infos, types, extra_roots=extra_roots, ingest_count=ingest_count,
                       ingest_bytes=ingest_bytes, cancel=cancel)


__all__ = ["Graph", "Edge", "Root", "Neighbour", "BlobRefs", "TreeNode", "ImageSpace", "StoreSpace",
           "SnapshotRef", "build_graph", "load_graph", "content_ref_name"]
