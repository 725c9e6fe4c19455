"""What a Delete of some rows would remove, worked out before the question is asked: their
digests, count and bytes, the garbage-collection roots among them and the blobs outside the
selection whose ``containerd.io/gc.ref.content`` labels point into it.

Read from the columns (gui/blobs/columns.py), no row object made.  A small selection is planned
on the GUI thread from the live columns; a big one on a worker from a snapshot of them
(gui/commands/delete.py), where the label sets are searched again rather than through the GUI's
:class:`~gui.blobs.referrers.ReferrerIndex`, which only the GUI thread may refresh.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import compress
from typing import TYPE_CHECKING, Callable, Iterable, Sequence

from ..drain import drain
from ..rows import GC_ROOT
from .referrers import content_refs

if TYPE_CHECKING:
    from .columns import BlobColumns, ColumnsSnapshot

CHUNK = 16384  # rows between two checks for a cancel (and a GIL hand-off to the GUI thread)
SHOWN = 5      # roots and referenced blobs named in the question


@dataclass(frozen=True)
class DeletePlan:
    digests: list[str]                     # what the delete job is handed, in selection order
    total_bytes: int
    roots: int = 0                         # gc.root blobs among them
    root_names: list[str] = field(default_factory=list)  # the first SHOWN of them
    referenced: int = 0                    # blobs among them that a blob kept names
    referenced_names: list[tuple[str, str]] = field(default_factory=list)  # (digest, first parent)

    @property
    def count(self) -> int:
        return len(self.digests)


def plan_delete(cols: BlobColumns | ColumnsSnapshot, rids: Sequence[int],
                referencing: Callable[[list[str]], dict[str, list[tuple[str, str]]]],
                cancelled: Callable[[], bool] = lambda: False) -> DeletePlan | None:
    """The plan for rows ``rids`` of ``cols``; ``referencing(digests)`` maps each of those digests
    some blob's labels name to its (parent, key) pairs.  None when ``cancelled()`` turns true."""
    sizes, lids, value = cols.sizes, cols.lids, cols.tables.label_sets.value
    total = 0
    digests: list[str] = []
    root_lids: dict[int, bool] = {0: False}
    roots: list[int] = []
    for start in range(0, len(rids), CHUNK):
        if cancelled():
            return None
        part = rids[start:start + CHUNK]
        total += sum(map(sizes.__getitem__, part))
        digests.extend(cols.digests_of(part))
        for lid in set(map(lids.__getitem__, part)) - root_lids.keys():
            root_lids[lid] = value(lid, GC_ROOT) is not None
        if len(root_lids) > 1 and any(root_lids.values()):
            roots.extend(r for r in part if root_lids[lids[r]])
    if cancelled():
        return None
    chosen: Callable[[str], bool] | None = None  # made only when some blob is referenced
    referenced: list[tuple[str, list[str]]] = []
    found = referencing(digests)
    while found:  # taken apart an entry at a time: freed whole, 100k lists hold the GIL 100+ ms
        d, refs = found.popitem()
        if chosen is None:
            chosen = _chosen(cols, rids, digests, cancelled)
            if chosen is None:
                return None
        parents = [p for p, _k in refs if not chosen(p)]
        if parents:
            referenced.append((d, parents))
    if cancelled():
        return None
    return DeletePlan(digests, total, len(roots), [cols.digest_of(r) for r in roots[:SHOWN]],
                      len(referenced), [(d, ps[0]) for d, ps in referenced[:SHOWN]])


def _chosen(cols: BlobColumns | ColumnsSnapshot, rids: Sequence[int], digests: list[str],
            cancelled: Callable[[], bool]) -> Callable[[str], bool] | None:
    """Whether a digest is one of the selected rows'.  A set of the digests for a few rows; for
    many, a byte per row number (a set of a million fresh strings is made, and grown, in single
    calls that hold the GIL 100-150 ms), each digest asked found through the columns' index."""
    if len(rids) <= CHUNK:
        return set(digests).__contains__
    marked = bytearray(cols.n)
    for start in range(0, len(rids), CHUNK):
        if cancelled():
            return None
        for r in rids[start:start + CHUNK]:
            marked[r] = 1
    find = cols.find

    def chosen(digest: str) -> bool:
        rid = find(digest)
        return rid >= 0 and bool(marked[rid])
    return chosen


def referencing_in(snap: ColumnsSnapshot, digests: Iterable[str],
                   cancelled: Callable[[], bool] = lambda: False) -> dict[str, list[tuple[str, str]]]:
    """For a worker: ``ReferrerIndex.referencing`` over a snapshot, its map made afresh from the
    snapshot's label sets (only those whose text holds a content reference are parsed)."""
    by_value = content_refs(snap.tables.label_sets, 0, cancelled)
    named = {d: hits for d in digests if (hits := by_value.get(d))}
    if not named or cancelled():
        return {}
    # the rows of each label set that names one of them, from one pass over the labelled rows
    # (a layer that 2000 manifests name would otherwise be 2000 searches of the whole column)
    wanted = {lid for hits in named.values() for lid, _key in hits}
    lids, alive = snap.lids, snap.alive
    rows: dict[int, list[int]] = {}
    for rid in compress(range(snap.n), lids):  # only rows with labels (label set 0 is none)
        lid = lids[rid]
        if lid in wanted and alive[rid]:
            rows.setdefault(lid, []).append(rid)
    digest_of = snap.digest_of
    out = {}
    while named:
        d, hits = named.popitem()
        parents = [(digest_of(rid), key) for lid, key in hits for rid in rows.get(lid, ())]
        if parents:
            out[d] = parents
    drain(rows)  # freed whole, a big dict is one call that holds the GIL as long as freeing takes
    drain(by_value)
    return out

