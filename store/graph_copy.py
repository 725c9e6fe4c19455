"""A reference graph written out and read back, so that its objects sit together in memory.

A graph over a million blobs is built beside a million short-lived objects (the listing's
records, the media-type pass's digests and answers, the build's own tables).  CPython's small
object allocator returns memory to the system an arena (1 MiB) at a time, and only when the
arena is empty: the few hundred thousand objects the graph keeps, born among all those others,
keep most arenas alive once the others are freed.  At 1M blobs the window held about 600 MiB
for a graph whose objects take about 330 MB (tests/perf/RESULTS.md).

:func:`to_bytes` writes the graph (its facts and what was worked out from them) as a pickle
stream; the caller drops the graph and everything built with it; :func:`from_bytes` reads it
back, and the objects it makes are made together.  Both go a chunk at a time, handing the GIL
to other threads (the GUI's) in between.  Only this process reads what it wrote.
"""

from __future__ import annotations

import io
import pickle
import time
from itertools import islice
from typing import Callable

from . import errors
from .gcpause import paused_gc
from .graph import Graph, _Facts
from .graph_listings import Listings

CHUNK = 4096  # entries of a big table written or read between two GIL hand-offs


class _Parts:
    """The pickle stream's frames as they come: one copy at the end, not a buffer grown 100 times."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)


def _pieces(value) -> list:
    """``value`` (a dict, set or list) as pieces of the same type of at most CHUNK entries: read
    back, each piece is the objects themselves (no (key, value) pair made and dropped a entry)."""
    if isinstance(value, dict):
        items = iter(value.items())
        return [dict(islice(items, CHUNK)) for _ in range(0, len(value), CHUNK)]
    seq = list(value)
    return [type(value)(seq[i:i + CHUNK]) for i in range(0, len(seq), CHUNK)]


def _write(p: pickle.Pickler, name: str, value, cancel: Callable[[], bool] | None) -> None:
    if not isinstance(value, (dict, set, list)) or len(value) <= CHUNK:
        p.dump((name, 0, value))
        return
    pieces = _pieces(value)
    p.dump((name, len(pieces), type(value)()))
    for piece in pieces:
        if cancel is not None and cancel():
            raise errors.Cancelled("copying the reference graph stopped")
        p.dump(piece)
        time.sleep(0)


def to_bytes(graph: Graph, cancel: Callable[[], bool] | None = None) -> bytes:
    """``graph`` written out (:func:`from_bytes` reads it); the graph is left as it was.

    The facts are written, their children and parents lists and the per-image space; roots and
    reachability are worked out again when read (a second or two at 1M blobs, and nothing to
    keep in step).  ``cancel()`` is polled between chunks and raises :class:`errors.Cancelled`."""
    with paused_gc():  # a million new objects: no collection would find anything to free
        return _to_bytes(graph, cancel)


def _to_bytes(graph: Graph, cancel: Callable[[], bool] | None) -> bytes:
    facts = graph.facts
    if facts is None:
        raise errors.FailedPrecondition("this graph was not built from facts; build it again")
    out = _Parts()
    p = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)  # one memo: shared objects stay shared
    for name in _Facts.__slots__:
        if name == "listings":  # its tables one by one: the digests' list is one entry a descriptor
            parts = facts.listings.state()
            p.dump((name, -len(parts), None))
            for part in parts:
                _write(p, "", part, cancel)
        elif name not in ("dirty", "base", "base_maps"):  # base: the children lists, written below
            _write(p, name, getattr(facts, name), cancel)
    p.dump(None)
    for lists in (graph._children, graph._parents):  # their keys are the edges' own: written once
        _write(p, "", lists, cancel)
    p.dump((graph._names, graph.ingest_count, graph.ingest_bytes, graph._image_space, graph._image_shared_bytes))
    return b"".join(out.parts)


def _read(u: pickle.Unpickler, head: tuple, cancel: Callable[[], bool] | None):
    _name, pieces, value = head
    for _ in range(pieces):
        if cancel is not None and cancel():
            raise errors.Cancelled("copying the reference graph stopped")
        piece = u.load()
        if isinstance(value, list):
            value.extend(piece)
        else:
            value.update(piece)
        time.sleep(0)
    return value


def from_bytes(data: bytes, cancel: Callable[[], bool] | None = None) -> Graph:
    """The graph :func:`to_bytes` wrote, equal to it in every answer (and updatable as it was)."""
    with paused_gc():
        return _from_bytes(data, cancel)


def _from_bytes(data: bytes, cancel: Callable[[], bool] | None) -> Graph:
    u = pickle.Unpickler(io.BytesIO(data))
    facts = _Facts()
    while (head := u.load()) is not None:
        if head[1] < 0:  # a table written part by part (the listings)
            facts.listings = Listings.from_state([_read(u, u.load(), cancel) for _ in range(-head[1])])
        else:
            setattr(facts, head[0], _read(u, head, cancel))
    children, parents = _read(u, u.load(), cancel), _read(u, u.load(), cancel)
    names, ingest_count, ingest_bytes, image_space, shared = u.load()
    del u
    g = facts.graph(names, ingest_count, ingest_bytes, adjacency=(children, parents))
    g._image_space, g._image_shared_bytes = image_space, shared
    return g
