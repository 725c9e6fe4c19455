"""Which blobs point at a digest through ``containerd.io/gc.ref.content*`` labels, worked out
from the blobs model once and kept until something that changes labels says otherwise.

The details pane lists these parents before the image graph exists; Delete warns with them.
"""

from __future__ import annotations

from itertools import compress
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..blobs.blob_model import BlobTableModel


class ReferrerIndex:
    def __init__(self, blobs: BlobTableModel):
        self._blobs = blobs
        self._index: dict[str, list[tuple[str, str]]] | None = None

    def index(self) -> dict[str, list[tuple[str, str]]]:
        """digest -> [(parent digest, label key)], built on first use after an invalidate."""
        if self._index is None:
            from store.graph import content_ref_name  # containerd's GC rules for the key
            idx: dict[str, list[tuple[str, str]]] = {}
            # the label sets that name content (few, shared by many blobs), then the rows that have one
            cols = self._blobs.columns
            # a key's answer once: label sets are many (one per blob at worst), their keys few, and a
            # call per key of every set was 40-70 ms on the GUI thread at a million blobs
            names: dict[str, bool] = {}

            def names_content(key: str) -> bool:
                got = names.get(key)
                if got is None:
                    got = names[key] = content_ref_name(key) is not None
                return got

            refs = {lid: [(k, v) for k, v in labels.items() if names_content(k)]
                    for lid, labels in enumerate(cols.tables.label_sets)}
            refs = {lid: kv for lid, kv in refs.items() if kv}
            if refs:
                # the rows that carry one: a C-level pass over the label-set column, no Python step per row
                has = bytearray(len(cols.tables.label_sets))
                for lid in refs:
                    has[lid] = 1
                lids, alive = cols.lids, cols.alive
                rids = [rid for rid in compress(range(cols.n), map(has.__getitem__, lids)) if alive[rid]]
                for rid, digest in zip(rids, cols.digests_of(rids)):
                    for k, v in refs[lids[rid]]:
                        idx.setdefault(v, []).append((digest, k))
            self._index = idx
        return self._index

    def of(self, digest: str) -> list[tuple[str, str]]:
        return self.index().get(digest, [])

    def invalidate(self) -> None:
        """Blobs or their labels changed (a scan, a delete, a label edit, an import)."""
        self._index = None
