"""The present blobs a reference graph holds no fact about, kept compact (design.md §5.2).

In a big store most blobs take part in nothing: no edge names them, they carry no containerd
label the graph reads, no image record names them and they list no descriptor (a registry
mirror's or a build host's loose blobs).  The graph still answers their size and content type
(the blobs table's media-type column, the store's totals, what is reclaimable), so it keeps
them here rather than as a ``Digest`` object and two dict entries each (about 260 bytes a blob):
their raw digests sorted in one ``bytes`` per algorithm, their sizes in an ``array``, their
content types as a small code into a table of the distinct ones, and one byte of "still here"
each.  About 45 bytes a blob; a look-up is a bucket of a directory over the digests' leading
bits and one ``bytes.find`` in it.

:class:`BlobSizes` and :class:`BlobTypes` are the graph's ``sizes`` and ``types``: read-only
mappings over its dicts (the blobs that take part in something) and this table.
"""

from __future__ import annotations

from array import array
from collections.abc import ItemsView, Iterator, Mapping, ValuesView
from itertools import compress
from typing import Iterable

from .digest import ALGORITHMS, Digest

_CHUNK = 4096  # entries turned back into digests per step of an iteration


def _digest(text: str) -> Digest:
    # text made here from validated raw bytes: the validation Digest() does is not needed again
    return str.__new__(Digest, text)


def _sorted(entries: list[tuple[bytes, int, int]]) -> list[tuple[bytes, int, int]]:
    """``sorted(entries)``, by their digests' two leading bytes first and each such bucket alone.

    One ``list.sort`` of 760k entries is a single C call: it held the GIL for a second on a graph
    worker of a million-blob store while the GUI thread waited (tests/perf/RESULTS.md).  Spread
    into buckets by a Python loop, which hands the GIL over as any other, and each bucket (a dozen
    entries for random digests) sorted alone, it gives the same list in about the same time."""
    if len(entries) <= _CHUNK:
        return sorted(entries)
    buckets: list[list[tuple[bytes, int, int]]] = [[] for _ in range(65536)]
    for e in entries:
        buckets[e[0][0] << 8 | e[0][1]].append(e)  # raw digests: 32 bytes or more
    out: list[tuple[bytes, int, int]] = []
    for bucket in buckets:
        if len(bucket) > 1:
            bucket.sort()
        out.extend(bucket)
    return out


class _Group:
    """The blobs of one digest algorithm, sorted by digest."""

    __slots__ = ("prefix", "width", "raw", "sizes", "codes", "starts", "shift")

    def __init__(self, alg: str, entries: list[tuple[bytes, int, int]]):
        entries = _sorted(entries)
        self.prefix = alg + ":"
        self.width = ALGORITHMS[alg] // 2
        self.raw = b"".join(e[0] for e in entries)
        self.sizes = array("q", [e[1] for e in entries])
        self.codes = array("H", [e[2] for e in entries])
        # bucket b holds the entries whose leading 32 bits shifted right by `shift` equal b:
        # entries starts[b]..starts[b + 1]; about two a bucket
        bits = max(1, (len(entries) // 2).bit_length())
        self.shift = 32 - min(bits, 32)
        starts = array("I", [0]) * ((1 << min(bits, 32)) + 1)
        for e in entries:
            starts[(int.from_bytes(e[0][:4], "big") >> self.shift) + 1] += 1
        for b in range(1, len(starts)):
            starts[b] += starts[b - 1]
        self.starts = starts

    def index(self, raw: bytes) -> int:
        """The entry number of ``raw`` (a digest's bytes), or -1."""
        b = int.from_bytes(raw[:4], "big") >> self.shift
        w = self.width
        lo, hi = self.starts[b] * w, self.starts[b + 1] * w
        pos = self.raw.find(raw, lo, hi)
        while pos >= 0 and pos % w:  # a match straddling two entries is not one
            pos = self.raw.find(raw, pos + 1, hi)
        return pos // w if pos >= 0 else -1


class PlainBlobs:
    """Present blobs with a size and a content type (or none known) and nothing else.

    Built once (:meth:`of`); :meth:`copy` shares the tables and copies only the "still here"
    bytes, which :meth:`take` clears (a blob deleted, relabelled, or named by a new edge leaves
    the table for the graph's dicts).
    """

    __slots__ = ("_groups", "_alive", "_types", "count", "total")

    def __init__(self, groups: dict[str, _Group], alive: dict[str, bytearray], types: list, count: int,
                 total: int):
        self._groups, self._alive, self._types = groups, alive, types
        self.count = count    # blobs still here
        self.total = total    # and their bytes

    @classmethod
    def of(cls, blobs: Iterable[tuple[Digest, int, object]]) -> "PlainBlobs":
        """The table of ``(digest, size, content type or None)``; every content type hashable."""
        codes: dict = {None: 0}
        by_alg: dict[str, list[tuple[bytes, int, int]]] = {}
        for d, size, ct in blobs:
            alg, _, enc = d.partition(":")
            code = codes.get(ct)
            if code is None:
                code = codes[ct] = len(codes)
            by_alg.setdefault(alg, []).append((bytes.fromhex(enc), size, code))
        groups = {alg: _Group(alg, entries) for alg, entries in by_alg.items()}
        alive = {alg: bytearray(b"\x01") * len(g.sizes) for alg, g in groups.items()}
        count = sum(len(g.sizes) for g in groups.values())
        return cls(groups, alive, list(codes), count, sum(sum(g.sizes) for g in groups.values()))

    def copy(self) -> "PlainBlobs":
        return PlainBlobs(self._groups, {alg: a[:] for alg, a in self._alive.items()}, self._types,
                          self.count, self.total)

    def _find(self, d) -> tuple[_Group | None, int]:
        if not isinstance(d, str):
            return None, -1
        alg, sep, enc = d.partition(":")
        g = self._groups.get(alg)
        if g is None or len(enc) != 2 * g.width:
            return None, -1
        try:
            raw = bytes.fromhex(enc)
        except ValueError:
            return None, -1
        if raw.hex() != enc:  # fromhex also takes upper case and skips spaces: not a digest's text
            return None, -1
        i = g.index(raw)
        return (g, i) if i >= 0 and self._alive[alg][i] else (None, -1)

    def __contains__(self, d) -> bool:
        return self._find(d)[1] >= 0

    def __len__(self) -> int:
        return self.count

    def get(self, d) -> tuple[int, object] | None:
        """``(size, content type or None)`` of ``d``, or None when it is not here."""
        g, i = self._find(d)
        return None if g is None else (g.sizes[i], self._types[g.codes[i]])

    def take(self, d) -> tuple[int, object] | None:
        """:meth:`get`, and ``d`` leaves the table."""
        g, i = self._find(d)
        if g is None:
            return None
        self._alive[g.prefix[:-1]][i] = 0
        self.count -= 1
        self.total -= g.sizes[i]
        return g.sizes[i], self._types[g.codes[i]]

    def _rows(self) -> Iterator[tuple[_Group, list[int], list[Digest]]]:
        """Chunks of (group, entry numbers, their digests) still here, in digest order."""
        for alg, g in sorted(self._groups.items()):
            alive, w, prefix, raw = self._alive[alg], g.width, g.prefix, g.raw
            for start in range(0, len(alive), _CHUNK):
                nums = list(compress(range(start, min(start + _CHUNK, len(alive))), alive[start:start + _CHUNK]))
                yield g, nums, [_digest(prefix + raw[i * w:(i + 1) * w].hex()) for i in nums]

    def __iter__(self) -> Iterator[Digest]:
        """The digests, sorted (per algorithm, algorithms by name)."""
        for _g, _nums, digests in self._rows():
            yield from digests

    def sizes(self) -> Iterator[tuple[Digest, int]]:
        for g, nums, digests in self._rows():
            yield from zip(digests, map(g.sizes.__getitem__, nums))

    def entries(self) -> Iterator[tuple[Digest, object]]:
        """``(digest, content type or None)`` of every blob."""
        types = self._types
        for g, nums, digests in self._rows():
            yield from zip(digests, map(types.__getitem__, map(g.codes.__getitem__, nums)))

    def types(self) -> Iterator[tuple[Digest, object]]:
        """``(digest, content type)`` of the blobs whose type is known."""
        return ((d, ct) for d, ct in self.entries() if ct is not None)

    def typed_count(self) -> int:
        return sum(sum(1 for c in compress(g.codes, self._alive[alg]) if c) for alg, g in self._groups.items())


class _Values(ValuesView):
    def __iter__(self):
        m = self._mapping
        yield from (v for _d, v in m.dict_items())
        yield from (v for _d, v in m.plain_items())


class _Items(ItemsView):
    def __iter__(self):
        m = self._mapping
        yield from m.dict_items()
        yield from m.plain_items()


class _Both(Mapping):
    """A read-only mapping over a dict (the blobs taking part in something) and a PlainBlobs."""

    __slots__ = ("dict", "plain")

    def __init__(self, d: dict, plain: PlainBlobs | None):
        self.dict, self.plain = d, plain

    def plain_items(self) -> Iterator[tuple[Digest, object]]:
        raise NotImplementedError

    def dict_items(self):
        """The dict's ``(digest, value)`` pairs, as this mapping answers them."""
        return self.dict.items()

    def __iter__(self):
        yield from self.dict
        yield from (d for d, _v in self.plain_items())

    def items(self):
        return _Items(self)

    def values(self):
        return _Values(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)} blobs)"


class BlobSizes(_Both):
    """digest -> size of every present blob."""

    __slots__ = ()

    def plain_items(self):
        return self.plain.sizes() if self.plain is not None else iter(())

    def __getitem__(self, d) -> int:
        try:
            return self.dict[d]
        except KeyError:
            got = self.plain.get(d) if self.plain is not None else None
            if got is None:
                raise
            return got[0]

    def __contains__(self, d) -> bool:
        return d in self.dict or (self.plain is not None and d in self.plain)

    def __len__(self) -> int:
        return len(self.dict) + (self.plain.count if self.plain is not None else 0)

    def total(self) -> int:
        """The bytes of every blob."""
        return sum(self.dict.values()) + (self.plain.total if self.plain is not None else 0)


class BlobTypes(_Both):
    """digest -> content type of every present blob recognised.

    The dict holds the indexes' and manifests' content types without their descriptors, which
    ``listings`` (store/graph_listings.py) keeps: they are put back when one is asked for."""

    __slots__ = ("listings",)

    def __init__(self, d: dict, plain: PlainBlobs | None, listings=None):
        super().__init__(d, plain)
        self.listings = listings

    def plain_items(self):
        return self.plain.types() if self.plain is not None else iter(())

    def head(self, d):
        """``d``'s content type without its descriptors (cheap), or None when it has none."""
        ct = self.dict.get(d)
        if ct is None and self.plain is not None:
            got = self.plain.get(d)
            ct = got[1] if got is not None else None
        return ct

    def full(self, d, ct):
        """``ct`` (the dict's entry for ``d``) with its descriptors put back."""
        listings = self.listings
        return listings.full(d, ct) if listings is not None and d in listings else ct

    def dict_items(self):
        return ((d, self.full(d, ct)) for d, ct in self.dict.items())

    def __getitem__(self, d):
        try:
            return self.full(d, self.dict[d])
        except KeyError:
            got = self.plain.get(d) if self.plain is not None else None
            if got is None or got[1] is None:
                raise
            return got[1]

    def __contains__(self, d) -> bool:
        if d in self.dict:
            return True
        got = self.plain.get(d) if self.plain is not None else None
        return got is not None and got[1] is not None

    def __len__(self) -> int:
        return len(self.dict) + (self.plain.typed_count() if self.plain is not None else 0)
