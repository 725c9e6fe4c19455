"""The descriptors a reference graph's indexes and manifests list, kept column by column (design.md §5.2).

A graph keeps every index's and manifest's content type, descriptors included: they are its
edges' names, the media types and sizes it declares for its children, their platforms.  As
objects a descriptor costs about 100 bytes (a slotted object, its tuple slot, its size) and a
manifest of ten layers over a kilobyte.  Here they are rows of a few columns shared by every
parent: the child's ``Digest`` (the object the graph already holds), the size in an
``array('q')``, the index among its role, and a code into a table of the distinct
(role, media type, platform, artifact type) they carry; annotations, rare, by row.  About 24
bytes a descriptor.  The graph keeps each parent's content type without its descriptors (one
shared object per distinct one) and asks here for the rest.

The columns only grow: a parent changed or deleted leaves rows nobody points at, and a copy
(:meth:`Listings.copy`, for :meth:`store.graph.Graph.updated`) shares the columns and copies
only the parents' row ranges, so that an update costs what it adds.  When the rows nobody
points at outnumber the live ones, a copy packs the live ones into new columns.
"""

from __future__ import annotations

import dataclasses
from array import array
from typing import Iterator, Mapping

from .digest import Digest
from .oci import ContentType, Descriptor

_BIG = -(1 << 63)        # a size that does not fit in the array: in ``big_sizes`` by row
_NO_ANNOTATIONS: Mapping[str, str] = {}
_MAP_ABOVE = 64          # a parent listing more rows gets a map child -> declared, when first asked


class _Columns:
    """The rows, appended to only (shared by the copies of a Listings)."""

    __slots__ = ("digests", "sizes", "indexes", "codes", "shapes", "shape_codes", "annotations", "big_sizes",
                 "heads")

    def __init__(self) -> None:
        self.digests: list[Digest] = []
        self.sizes = array("q")
        self.indexes = array("I")
        self.codes = array("I")
        self.shapes: list[tuple] = []                 # (role, media type, platform, artifact type)
        self.shape_codes: dict[tuple, int] = {}
        self.annotations: dict[int, Mapping[str, str]] = {}
        self.big_sizes: dict[int, int] = {}
        self.heads: dict = {}  # content types without descriptors, shared (by their fields, or themselves)

    def append(self, desc: Descriptor) -> None:
        row = len(self.digests)
        shape = (desc.role, desc.media_type, desc.platform, desc.artifact_type)
        code = self.shape_codes.get(shape)
        if code is None:
            code = self.shape_codes[shape] = len(self.shapes)
            self.shapes.append(shape)
        size = desc.size
        if not _BIG < size < -_BIG:
            self.big_sizes[row] = size
            size = _BIG
        self.sizes.append(size)
        self.indexes.append(desc.index)
        self.codes.append(code)
        if desc.annotations:
            self.annotations[row] = desc.annotations
        self.digests.append(desc.digest)

    def size(self, row: int) -> int:
        size = self.sizes[row]
        return size if size != _BIG else self.big_sizes[row]

    def descriptor(self, row: int) -> Descriptor:
        role, media_type, platform, artifact_type = self.shapes[self.codes[row]]
        return Descriptor(role, self.indexes[row], self.digests[row], self.size(row), media_type, platform,
                          self.annotations.get(row, _NO_ANNOTATIONS), artifact_type)


def _packable(desc: Descriptor) -> bool:
    try:
        hash((desc.role, desc.media_type, desc.platform, desc.artifact_type))
    except TypeError:
        return False
    return isinstance(desc.size, int) and 0 <= desc.index < 1 << 32


class Listings:
    """The descriptors of the graph's indexes and manifests, by parent digest."""

    __slots__ = ("_at", "_cols", "_dead", "_maps", "_odd")

    def __init__(self) -> None:
        self._at: dict[Digest, int] = {}        # parent -> first row << 32 | row count
        self._cols = _Columns()
        self._dead = 0                          # rows no parent points at
        self._maps: dict[Digest, dict[Digest, tuple[str, int]]] = {}
        self._odd: dict[Digest, tuple] = {}     # descriptors that do not pack (never seen in practice)

    def copy(self) -> "Listings":
        new = Listings()
        if self._dead >= 1024 and self._dead > len(self._cols.digests) // 2:
            cols = new._cols
            for p, at in self._at.items():
                start, n = at >> 32, at & 0xFFFFFFFF
                new._at[p] = len(cols.digests) << 32 | n
                for row in range(start, start + n):
                    cols.append(self._cols.descriptor(row))
            cols.heads = self._cols.heads
        else:
            new._at, new._cols, new._dead = self._at.copy(), self._cols, self._dead
        new._odd = self._odd.copy()
        return new

    def state(self) -> list:
        """What :meth:`from_state` makes this again from: tables a copy can write a chunk at a time."""
        c = self._cols
        return [self._at, c.digests, c.sizes, c.indexes, c.codes, c.shapes, c.annotations, c.big_sizes, c.heads,
                self._odd, [self._dead]]

    @classmethod
    def from_state(cls, state: list) -> "Listings":
        new = cls()
        c = new._cols
        (new._at, c.digests, c.sizes, c.indexes, c.codes, c.shapes, c.annotations, c.big_sizes, c.heads,
         new._odd, (new._dead,)) = state
        c.shape_codes = {shape: code for code, shape in enumerate(c.shapes)}
        return new

    def __contains__(self, parent) -> bool:
        return parent in self._at or parent in self._odd

    def __len__(self) -> int:
        return len(self._at) + len(self._odd)

    def add(self, parent: Digest, ct: ContentType) -> ContentType:
        """Keep ``ct``'s descriptors as ``parent``'s; ``ct`` without them (the graph keeps that)."""
        self.drop(parent)
        descs, cols = ct.descriptors, self._cols
        if not all(map(_packable, descs)):
            self._odd[parent] = descs
            return dataclasses.replace(ct, descriptors=())
        self._at[parent] = len(cols.digests) << 32 | len(descs)
        for desc in descs:
            cols.append(desc)
        key = (ct.media_type, ct.kind, ct.artifact_type, ct.platform, ct.note, ct.name)
        try:
            head = cols.heads.get(key)
        except TypeError:  # an unhashable platform: not shared
            return dataclasses.replace(ct, descriptors=())
        if head is None:
            head = cols.heads[key] = dataclasses.replace(ct, descriptors=())
        return head

    def shared(self, ct: ContentType) -> ContentType:
        """``ct`` (one without descriptors), or the equal one kept already: each image config is
        recognised into its own object (its platform), the same few over and over."""
        heads = self._cols.heads
        try:
            got = heads.get(ct)
        except TypeError:  # an unhashable field: not shared
            return ct
        if got is None:
            got = heads[ct] = ct
        return got

    def drop(self, parent: Digest) -> None:
        at = self._at.pop(parent, None)
        if at is not None:
            self._dead += at & 0xFFFFFFFF
            self._maps.pop(parent, None)
        self._odd.pop(parent, None)

    def descriptors(self, parent) -> tuple[Descriptor, ...]:
        """``parent``'s descriptors, as its content type had them (made again: equal, not the same)."""
        odd = self._odd.get(parent)
        if odd is not None:
            return odd
        at = self._at.get(parent)
        if at is None:
            return ()
        start = at >> 32
        return tuple(map(self._cols.descriptor, range(start, start + (at & 0xFFFFFFFF))))

    def full(self, parent, head: ContentType) -> ContentType:
        """``head`` (what the graph keeps of ``parent``'s content type) with its descriptors."""
        descs = self.descriptors(parent)
        return dataclasses.replace(head, descriptors=descs) if descs else head

    def declared(self, parent, child) -> tuple[str, int] | None:
        """The media type and size ``parent``'s descriptors declare for ``child`` (the first one naming
        it with a media type, the first with a size; '' and -1 when none), None when it lists none."""
        at = self._at.get(parent)
        if at is None:
            return _declared(self._odd[parent], child) if parent in self._odd else None
        n = at & 0xFFFFFFFF
        if n > _MAP_ABOVE:  # an index of thousands: not one scan of it a child
            got = self._maps.get(parent)
            if got is None:
                got = self._maps[parent] = _declared_map(self.descriptors(parent))
            return got.get(child)
        start, cols = at >> 32, self._cols
        end, digests, shapes, codes = start + n, cols.digests, cols.shapes, cols.codes
        try:
            row = digests.index(child, start, end)
        except ValueError:
            return None
        shape, size = shapes[codes[row]], cols.sizes[row]
        if shape[1] and size >= 0 and shape[0] != "subject":
            return shape[1], size  # the usual: the first row naming the child declares both
        found, mt, size = False, "", -1
        while True:
            try:
                row = digests.index(child, row, end)
            except ValueError:
                break
            shape = shapes[codes[row]]
            if shape[0] != "subject":
                found = True
                mt = mt or shape[1]
                if size < 0:
                    size = cols.size(row)
                if mt and size >= 0:
                    break
            row += 1
        return (mt, size) if found else None

    def declared_types(self) -> dict[Digest, str]:
        """child -> the media type declared for it by the lowest parent digest declaring one."""
        out: dict[Digest, str] = {}
        cols = self._cols
        digests, shapes, codes = cols.digests, cols.shapes, cols.codes
        parents = sorted([*self._at, *self._odd])
        for p in parents:
            at = self._at.get(p)
            if at is None:
                for desc in self._odd[p]:
                    if desc.media_type and desc.role != "subject":
                        out.setdefault(desc.digest, desc.media_type)
                continue
            start = at >> 32
            for row in range(start, start + (at & 0xFFFFFFFF)):
                shape = shapes[codes[row]]
                if shape[1] and shape[0] != "subject":
                    out.setdefault(digests[row], shape[1])
        return out

    def parents(self) -> Iterator[Digest]:
        yield from self._at
        yield from self._odd


def _declared(descs, child) -> tuple[str, int] | None:
    return _declared_map(descs).get(child)


def _declared_map(descs) -> dict[Digest, tuple[str, int]]:
    out: dict[Digest, tuple[str, int]] = {}
    for desc in descs:
        if desc.role == "subject":
            continue
        mt, size = out.get(desc.digest, ("", -1))
        out[desc.digest] = (mt or desc.media_type, size if size >= 0 else desc.size)
    return out
