"""Which blobs point at a digest through ``containerd.io/gc.ref.content*`` labels, worked out
from the blobs model's label sets, asked one digest (or one selection) at a time.

The details pane lists these parents before the image graph exists; Delete warns with them.

The label sets are few beside the rows (a million blobs, tens of thousands of distinct sets) and
only ever appended to (gui/blobs/columns.py).  One digest (the details pane) is looked for in
the sets' texts; many (Delete) through a map from referenced digest to the sets naming it, which
grows with the sets and is never rebuilt.  The rows carrying a set are found by a C-level
search of the label-set column.  Building a digest -> parents map of every row instead took
3 s of the GUI thread at the first click after each change, on a million blobs with 20k images.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterable

if TYPE_CHECKING:
    from .blob_model import BlobTableModel


class ReferrerIndex:
    def __init__(self, blobs: BlobTableModel):
        self._blobs = blobs
        self._tables: object | None = None
        self._seen = 0  # label sets read so far
        self._by_value: dict[str, list[tuple[int, str]]] = {}  # referenced digest -> [(label set, key)]

    def _refresh(self) -> dict[str, list[tuple[int, str]]]:
        tables = self._blobs.columns.tables
        if tables is not self._tables:  # another listing: new label sets
            self._tables, self._seen, self._by_value = tables, 0, {}
        sets = tables.label_sets
        content_refs(sets, self._seen, into=self._by_value)
        self._seen = len(sets)
        return self._by_value

    def _sets_naming(self, digest: str) -> list[tuple[int, str]]:
        """(label set, key) of each set whose content-reference label names ``digest``: from the map
        when it is up to date, else by a search of the sets' texts (one ``in`` each, no map built:
        the details pane asks for one blob at a time)."""
        tables = self._blobs.columns.tables
        if tables is self._tables and self._seen == len(tables.label_sets):
            return self._by_value.get(digest, [])
        from store.graph import REF_CONTENT, content_ref_name
        sets = tables.label_sets
        return [(lid, k) for lid, text in enumerate(tables.label_texts) if digest in text
                for k, v in sets[lid].items()
                if v == digest and k.startswith(REF_CONTENT) and content_ref_name(k) is not None]

    def of(self, digest: str) -> list[tuple[str, str]]:
        """(parent digest, label key) of each live blob whose labels name ``digest``."""
        return self._rows_of(self._sets_naming(digest))

    def _rows_of(self, hits: list[tuple[int, str]]) -> list[tuple[str, str]]:
        return rows_naming(self._blobs.columns, hits)

    def referencing(self, digests: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
        """``of`` for each of ``digests`` that some blob names (one dict look-up for the others)."""
        by_value = self._refresh()
        return {d: parents for d in digests if d in by_value and (parents := self._rows_of(by_value[d]))}

    def unread_sets(self) -> int:
        """Label sets the map has not read yet (what the next :meth:`referencing` reads first)."""
        tables = self._blobs.columns.tables
        return len(tables.label_sets) - (self._seen if tables is self._tables else 0)

    def hits(self, digests: Iterable[str]) -> int:
        """How many (label set, key) name any of ``digests``: each costs :meth:`referencing` a
        search of the label-set column."""
        by_value = self._refresh()
        return sum(len(by_value[d]) for d in digests if d in by_value)

    def invalidate(self) -> None:
        """Blobs or their labels changed (a scan, a delete, a label edit, an import): nothing to
        drop, the label sets are only ever appended to and the rows are read when asked."""


def content_refs(sets, start: int = 0, cancelled: Callable[[], bool] | None = None,
                 into: dict[str, list[tuple[int, str]]] | None = None) -> dict[str, list[tuple[int, str]]]:
    """Referenced digest -> [(label set, key)] for label sets ``start..`` of ``sets`` (a
    ``label_sets`` of gui/blobs/columns.py), added to ``into``; a set whose text names no content
    reference is not parsed.  Stops early (the map partial) once ``cancelled()``."""
    from store.graph import REF_CONTENT, content_ref_name  # containerd's GC rules for the key
    by_value: dict[str, list[tuple[int, str]]] = {} if into is None else into
    texts = sets.texts
    for lid in range(start, len(texts)):
        if cancelled is not None and not lid % 4096 and cancelled():
            break
        if REF_CONTENT not in texts[lid] and lid not in sets.odd:
            continue
        for k, v in sets[lid].items():
            if k.startswith(REF_CONTENT) and content_ref_name(k) is not None:
                by_value.setdefault(v, []).append((lid, k))
    return by_value


def rows_naming(cols, hits: list[tuple[int, str]]) -> list[tuple[str, str]]:
    """(digest, key) of each live row of ``cols`` (the columns or a snapshot) whose label set is
    one of ``hits`` (label set, key)."""
    if not hits:
        return []
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
