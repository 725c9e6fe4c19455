"""An image's layers stacked as an overlay would stack them: each layer's changes, the squashed
file system, and the space wasted on file versions the final image never shows (dive's view).

Each layer blob is read once, streaming (``store.layers.iter_layer``); what is kept is paths,
types, sizes and the layer each came from, never file contents.  A layer is applied as the OCI
image spec's "applying changesets" says: its whiteouts (``.wh.<name>``) and opaque markers
(``.wh..wh..opq``) hide what the layers *below* hold, never what the same layer adds; an entry
whose path exists below is a modification, else an addition.

Definitions (docs/blobctl.md, ``blobctl layers``):

* ``total_bytes``: the sizes of every regular file entry of every layer (hard links count 0);
* ``squashed_bytes``: the sizes of the regular files the final image shows;
* ``wasted_bytes``: the bytes of file versions the final image does not show, because a later
  layer (or a later entry of the same layer) overwrote them, deleted them through a whiteout,
  hid them under an opaque directory, or replaced a directory above them;
  ``wasted_bytes == total_bytes - squashed_bytes``;
* ``efficiency``: ``1 - wasted_bytes / total_bytes`` (1.0 for an image without file bytes).

dive's own figures are computed in the same pass (``dive_efficiency``, ``dive_wasted_bytes``), by
the rules of dive's ``filetree/efficiency.go`` (facts, not its code): every leaf of each layer's
own tree (an entry with no entry below it in that layer) is one version of its path, a whiteout
one of the path it deletes, sized 0 for a file and the file bytes below it for a directory;
opaque markers are ignored, as dive ignores them.  ``dive_wasted_bytes`` sums *every* version of
the paths seen more than once (the version still shown too); ``dive_efficiency`` is the sum over
paths of their smallest version divided by the sum of all versions.

Damage never stops the analysis: a layer that is missing, not a tar, or damaged part-way keeps
what was read before the damage and is flagged; a whiteout of a path that does not exist
below, a hard link to nothing and an absolute or ``..`` name (clamped to the root) are flagged.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Callable, Iterator

from . import errors, layers
from .api import ContentStore
from .imagepick import ImageLayers

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
MAX_PROBLEMS = 50  # problems kept per analysis (the count goes on)

ADDED, MODIFIED, DELETED = "added", "modified", "deleted"


class Node:
    """One path of the stacked file system: a directory holds ``children``."""

    __slots__ = ("type", "size", "layer", "children")

    def __init__(self, type_: str, size: int, layer: int):
        self.type = type_
        self.size = size
        self.layer = layer
        self.children: dict[str, Node] | None = {} if type_ == "dir" else None

    def file_bytes(self) -> int:
        """Bytes of the regular files at and below this node (hard links count 0)."""
        if self.children is None:
            return self.size if self.type == "file" else 0
        total = 0
        stack = [self]
        while stack:
            n = stack.pop()
            for c in (n.children or {}).values():
                if c.children is not None:
                    stack.append(c)
                elif c.type == "file":
                    total += c.size
        return total

    def count(self) -> int:
        """Paths at and below this node."""
        if self.children is None:
            return 1
        return 1 + sum(c.count() for c in self.children.values())


@dataclass(frozen=True)
class Change:
    path: str
    change: str      # added, modified, deleted
    type: str        # file, dir, symlink, hardlink, ...; for a deletion, what was deleted
    size: int        # a file's size; for a deletion, the file bytes it hid

    def to_json(self) -> dict:
        return {"path": self.path, "change": self.change, "type": self.type, "size": self.size}


@dataclass
class LayerReport:
    index: int
    digest: str
    media_type: str
    blob_size: int
    entries: int = 0
    added: int = 0
    added_bytes: int = 0
    modified: int = 0
    modified_bytes: int = 0
    deleted: int = 0
    deleted_bytes: int = 0
    file_bytes: int = 0          # regular file bytes this layer holds
    error: str = ""              # missing, not a layer, damaged: what was read before counts
    changes: list[Change] = field(default_factory=list)

    def to_json(self, *, changes: bool = False) -> dict:
        d = {"index": self.index, "digest": self.digest, "mediaType": self.media_type, "size": self.blob_size,
             "entries": self.entries, "file_bytes": self.file_bytes,
             "added": self.added, "added_bytes": self.added_bytes,
             "modified": self.modified, "modified_bytes": self.modified_bytes,
             "deleted": self.deleted, "deleted_bytes": self.deleted_bytes}
        if self.error:
            d["error"] = self.error
        if changes:
            d["changes"] = [c.to_json() for c in self.changes]
        return d


@dataclass
class Analysis:
    image: str
    manifest: str
    platform: str
    layers: list[LayerReport]
    root: Node
    total_bytes: int = 0
    wasted_bytes: int = 0
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0
    dive_efficiency: float = 1.0
    dive_wasted_bytes: int = 0

    @property
    def squashed_bytes(self) -> int:
        return self.root.file_bytes()

    @property
    def efficiency(self) -> float:
        return 1.0 if self.total_bytes <= 0 else 1.0 - self.wasted_bytes / self.total_bytes

    @property
    def complete(self) -> bool:
        return not any(x.error for x in self.layers)

    def files(self) -> Iterator[tuple[str, Node]]:
        """Every path of the squashed file system (parents before children), with its node."""
        stack: list[tuple[str, Node]] = [("", self.root)]
        while stack:
            path, node = stack.pop()
            if path:
                yield path, node
            if node.children:
                for name in sorted(node.children, reverse=True):
                    stack.append((f"{path}/{name}" if path else name, node.children[name]))

    def find(self, path: str) -> Node | None:
        return _lookup(self.root, layers.normalise(path))

    def to_json(self, *, changes: bool = False, files: bool = False) -> dict:
        d: dict = {"image": self.image, "manifest": self.manifest, "platform": self.platform,
                   "layers": [x.to_json(changes=changes) for x in self.layers],
                   "total_bytes": self.total_bytes, "squashed_bytes": self.squashed_bytes,
                   "squashed_paths": self.root.count() - 1,
                   "wasted_bytes": self.wasted_bytes, "efficiency": round(self.efficiency, 6),
                   "complete": self.complete, "problems": list(self.problems),
                   "problem_count": self.problem_count,
                   "dive": {"efficiency": round(self.dive_efficiency, 6), "wasted_bytes": self.dive_wasted_bytes}}
        if files:
            d["files"] = [{"path": p, "type": n.type, "size": n.size, "layer": n.layer} for p, n in self.files()]
        return d


def _lookup(root: Node, path: str) -> Node | None:
    node: Node | None = root
    if not path:
        return root
    for part in path.split("/"):
        if node is None or node.children is None:
            return None
        node = node.children.get(part)
    return node


class _Stacker:
    """Applies layers one after the other to one tree."""

    def __init__(self, keep_changes: bool):
        self.root = Node("dir", 0, -1)
        self.keep = keep_changes
        self.total = 0
        self.wasted = 0
        self.problems: list[str] = []
        self.problem_count = 0
        self.versions: dict[str, list[int]] = {}  # dive's rules: path -> [count, cumulative, smallest]

    def version(self, path: str, size: int) -> None:
        v = self.versions.get(path)
        if v is None:
            self.versions[path] = [1, size, size]
        else:
            v[0] += 1
            v[1] += size
            if size < v[2]:
                v[2] = size

    def dive_figures(self) -> tuple[float, int]:
        """dive's efficiency score and wasted bytes over the versions seen."""
        smallest = cumulative = wasted = 0
        for count, cum, low in self.versions.values():
            smallest += low
            cumulative += cum
            if count > 1:
                wasted += cum
        return (1.0 if cumulative == 0 else smallest / cumulative), wasted

    def _dive_versions(self, normal: list[layers.LayerEntry], whiteouts: list[tuple[str, str]]) -> None:
        """One version per leaf of this layer's own tree, before the layer is applied."""
        inner: set[str] = set()
        for path in [e.path for e in normal] + [own for _t, own in whiteouts]:
            head = path.rpartition("/")[0]
            while head and head not in inner:
                inner.add(head)
                head = head.rpartition("/")[0]
        for e in normal:
            if e.path not in inner:
                self.version(e.path, e.size)
        for target, _own in whiteouts:
            below = _lookup(self.root, target)
            self.version(target, below.file_bytes() if below is not None and below.children is not None else 0)

    def problem(self, text: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)

    def _parent(self, path: str, layer: int) -> tuple[Node, str]:
        """The directory that holds ``path`` (made, as the unpacker would, when missing) and the name."""
        head, _, name = path.rpartition("/")
        node = self.root
        if head:
            for part in head.split("/"):
                assert node.children is not None
                child = node.children.get(part)
                if child is None or child.children is None:
                    if child is not None:  # a file where a directory must be: the file goes
                        self.wasted += child.file_bytes()
                    child = Node("dir", 0, layer)
                    node.children[part] = child
                node = child
        return node, name

    def apply(self, report: LayerReport, entries: list[layers.LayerEntry]) -> None:
        i = report.index
        whiteouts: list[tuple[str, str]] = []   # (target path, the whiteout's own path)
        opaque: list[str] = []
        normal: list[layers.LayerEntry] = []
        for e in entries:
            if e.unsafe:
                self.problem(f"layer {i}: entry name climbs out of the root or is absolute; read as /{e.path}")
            if not e.path:
                continue  # the root itself
            base = posixpath.basename(e.path)
            if base == OPAQUE:
                opaque.append(posixpath.dirname(e.path))
            elif base.startswith(WHITEOUT):
                target = posixpath.join(posixpath.dirname(e.path), base[len(WHITEOUT):])
                if base[len(WHITEOUT):] in ("", ".", ".."):
                    self.problem(f"layer {i}: whiteout /{e.path} names no file; ignored")
                    continue
                whiteouts.append((target, e.path))
            else:
                normal.append(e)
        below = {e.path: _lookup(self.root, e.path) is not None for e in normal}
        self._dive_versions(normal, whiteouts)
        for target, own in whiteouts:
            head, _, name = target.rpartition("/")
            parent = _lookup(self.root, head)
            child = parent.children.get(name) if parent is not None and parent.children is not None else None
            if child is None or parent is None or parent.children is None:
                self.problem(f"layer {i}: whiteout /{own} deletes /{target}, which no layer below has")
                continue
            del parent.children[name]
            self._deleted(report, target, child)
        for d in opaque:
            node = _lookup(self.root, d)
            if node is None or node.children is None:
                continue  # an opaque marker in a directory new in this layer hides nothing
            for name, hidden in sorted(node.children.items()):
                self._deleted(report, posixpath.join(d, name) if d else name, hidden)
            node.children = {}
        for e in normal:
            self._add(report, e, below[e.path])

    def _deleted(self, report: LayerReport, path: str, node: Node) -> None:
        hidden = node.file_bytes()
        self.wasted += hidden
        report.deleted += 1
        report.deleted_bytes += hidden
        if self.keep:
            report.changes.append(Change(path, DELETED, node.type, hidden))

    def _add(self, report: LayerReport, e: layers.LayerEntry, existed: bool) -> None:
        i = report.index
        parent, name = self._parent(e.path, i)
        assert parent.children is not None
        old = parent.children.get(name)
        size = e.size
        if e.type == "file":
            self.total += size
            report.file_bytes += size
        if e.type == "hardlink":
            target = _lookup(self.root, layers.normalise(e.linkname))
            if target is None or target.children is not None:
                self.problem(f"layer {i}: hard link /{e.path} names /{layers.normalise(e.linkname)}, "
                             "which is not a file")
                size = 0
            else:
                size = target.size
        if e.type == "dir":
            if old is not None and old.children is not None:
                old.layer = i  # a directory re-stated (its metadata may change): not counted as a change
                return
            node = Node("dir", 0, i)
        else:
            node = Node(e.type, size, i)
        if old is not None:
            self.wasted += old.file_bytes()
        parent.children[name] = node
        change = MODIFIED if existed else ADDED
        counted = size if e.type == "file" else 0
        if change == ADDED:
            report.added += 1
            report.added_bytes += counted
        else:
            report.modified += 1
            report.modified_bytes += counted
        if self.keep:
            report.changes.append(Change(e.path, change, e.type, size))


def analyse(store: ContentStore, image: ImageLayers, *, keep_changes: bool = True,
            cancel: Callable[[], bool] | None = None,
            progress: Callable[[int, int], None] | None = None) -> Analysis:
    """Stack the layers of ``image`` (``store.imagepick.resolve``), reading each layer once."""
    st = _Stacker(keep_changes)
    reports: list[LayerReport] = []
    count = len(image.layers)
    for i, desc in enumerate(image.layers):
        if progress is not None:
            progress(i, count)
        report = LayerReport(i, str(desc.digest), desc.media_type, desc.size)
        entries: list[layers.LayerEntry] = []
        try:
            report.blob_size = store.info(desc.digest).size
            for e in layers.iter_layer(store, desc.digest, cancel=cancel):
                entries.append(e)
        except errors.Cancelled:
            raise
        except errors.NotFound:
            report.error = "the layer blob is not in the store"
        except layers.NotALayer as e:
            report.error = str(e)
        except errors.ContentError as e:
            report.error = f"could not read the layer: {e}"
        report.entries = len(entries)
        if report.error:
            st.problem(f"layer {i} ({desc.digest}): {report.error}")
        st.apply(report, entries)
        reports.append(report)
    if progress is not None:
        progress(count, count)
    dive_efficiency, dive_wasted = st.dive_figures()
    return Analysis(str(image.image), str(image.manifest), image.platform, reports, st.root,
                    st.total, st.wasted, st.problems, st.problem_count, dive_efficiency, dive_wasted)


__all__ = ["ADDED", "DELETED", "MODIFIED", "Analysis", "Change", "LayerReport", "Node", "analyse"]
