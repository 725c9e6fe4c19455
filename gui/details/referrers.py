"""Which blobs point at a digest through ``containerd.io/gc.ref.content*`` labels, worked out
from the blobs model's label sets, asked one digest (or one selection) at a time.

The details pane lists these parents before the image graph exists; Delete warns with them.

The label sets are few beside the rows (a million blobs, tens of thousands of distinct sets) and
only ever appended to (gui/blobs/columns.py), so the map from a referenced digest to the sets
naming it grows with them and is never rebuilt; the rows carrying a set are found by a C-level
search of the label-set column.  Building a digest -> parents map of every row instead took
3 s of the GUI thread at the first click after each change, on a million blobs with 20k images.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from ..blobs.blob_model import BlobTableModel


class ReferrerIndex:
    def __init__(self, blobs: BlobTableModel):
        self._blobs = blobs
        self._tables: object | None = None
        self._seen = 0  # label sets read so far
        self._by_value: dict[str, list[tuple[int, str]]] = {}  # referenced digest -> [(label set, key)]

    def _refresh(self) -> dict[str, list[tuple[int, str]]]:
        from store.graph import REF_CONTENT, content_ref_name  # containerd's GC rules for the key
        tables = self._blobs.columns.tables
        if tables is not self._tables:  # another listing: new label sets
            self._tables, self._seen, self._by_value = tables, 0, {}
        sets = tables.label_sets
        by_value = self._by_value
        for lid in range(self._seen, len(sets)):
            for k, v in sets[lid].items():
                if k.startswith(REF_CONTENT) and content_ref_name(k) is not None:
                    by_value.setdefault(v, []).append((lid, k))
        self._seen = len(sets)
        return by_value

    def of(self, digest: str) -> list[tuple[str, str]]:
        """(parent digest, label key) of each live blob whose labels name ``digest``."""
        hits = self._refresh().get(digest)
        if not hits:
            return []
        cols = self._blobs.columns
        lids, alive, n = cols.lids, cols.alive, cols.n
        out = []
        for lid, key in hits:
            rid = -1
            while True:
                try:
                    rid = lids.index(lid, rid + 1, n)  # C-level search of the label-set column
                except ValueError:
                    break
                if alive[rid]:
                    out.append((cols.digest_of(rid), key))
        return out

    def referencing(self, digests: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
        """``of`` for each of ``digests`` that some blob names (one dict look-up for the others)."""
        by_value = self._refresh()
        return {d: parents for d in digests if d in by_value and (parents := self.of(d))}

    def invalidate(self) -> None:
        """Blobs or their labels changed (a scan, a delete, a label edit, an import): nothing to
        drop, the label sets are only ever appended to and the rows are read when asked."""
