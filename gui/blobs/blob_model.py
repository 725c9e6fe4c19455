"""The blobs table: a QAbstractTableModel over a plain list of BlobRow.

Sorting and filtering live here, on precomputed keys, so 100k rows sort with one
``list.sort`` instead of a Python ``lessThan`` per comparison.
"""

from __future__ import annotations

import logging
from operator import attrgetter
from typing import Callable, Container, Iterable

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt, Signal

from .. import fmt
from ..kinds import kind_icon, kind_of
from ..rows import BlobRow
from .table_model import RowTableModel

log = logging.getLogger(__name__)

COL_DIGEST, COL_SIZE, COL_MEDIA, COL_LABELS, COL_CREATED, COL_UPDATED = range(6)
SORT_KEYS: dict[int, Callable[[BlobRow], object]] = {
    COL_DIGEST: attrgetter("digest"),
    COL_SIZE: attrgetter("size"),
    COL_CREATED: attrgetter("created_ns"),
    COL_UPDATED: attrgetter("updated_ns"),
    COL_MEDIA: attrgetter("media_type"),
    COL_LABELS: attrgetter("labels_text"),
}
# Above this many changed rows the model resets instead of moving rows one by one.
_INCREMENTAL_LIMIT = 256


class BlobTableModel(RowTableModel):
    """All blobs (``all_rows``) and the visible, filtered and sorted subset."""

    SORT_KEYS = SORT_KEYS
    totalsChanged = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._all: dict[str, BlobRow] = {}
        self._rows: list[BlobRow] = []
        self._filter: Callable[[BlobRow], bool] | None = None
        self._headers = [self.tr("Digest"), self.tr("Size"), self.tr("Media type"),
                         self.tr("Labels"), self.tr("Created"), self.tr("Updated")]
        self.total_bytes = 0

    # ---- Qt model interface
    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == COL_DIGEST:
                return row.short
            if col == COL_SIZE:
                return fmt.size(row.size)
            if col == COL_CREATED:
                return fmt.local_time(row.created_ns)
            if col == COL_UPDATED:
                return fmt.local_time(row.updated_ns)
            if col == COL_MEDIA:
                return row.media_type or "—"
            if col == COL_LABELS:
                return row.labels_text
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == COL_DIGEST:
                if row.verified is False:
                    return self.tr("{digest}\nVerification failed: the content does not match "
                                   "its digest.").format(digest=row.digest)
                return row.digest
            if col == COL_SIZE:
                return fmt.exact_size(row.size)
            if col == COL_LABELS and row.labels:
                return "\n".join(f"{k}={v}" for k, v in sorted(row.labels.items()))
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole and col == COL_SIZE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and row.verified is False:
            from PySide6.QtGui import QColor
            return QColor(200, 30, 30)
        if role == Qt.ItemDataRole.DecorationRole and col == COL_MEDIA:
            return kind_icon(kind_of(row.media_type, row.size))
        if role == Qt.ItemDataRole.DecorationRole and col == COL_DIGEST and row.verified is not None:
            from ..resources import icon
            return icon("verify-ok" if row.verified else "verify-bad")
        return None

    def row_for(self, digest: str) -> int:
        """Visible row number of a digest, or -1."""
        item = self._all.get(digest)
        if item is None:
            return -1
        try:
            return self._rows.index(item)
        except ValueError:
            return -1

    def visible_rows_of(self, digests: Container[str]) -> list[int]:
        """Visible row numbers of ``digests``, ascending (one pass, for selecting thousands at once)."""
        return [i for i, r in enumerate(self._rows) if r.digest in digests]

    def get(self, digest: str) -> BlobRow | None:
        return self._all.get(digest)

    def all_rows(self) -> Iterable[BlobRow]:
        return self._all.values()

    @property
    def total_count(self) -> int:
        return len(self._all)

    # ---- filtering and sorting
    def set_filter(self, predicate: Callable[[BlobRow], bool] | None) -> None:
        self._filter = predicate
        self.beginResetModel()
        self._rows = self._visible(self._all.values())
        self._sort_in_place()
        self.endResetModel()

    def _visible(self, rows: Iterable[BlobRow]) -> list[BlobRow]:
        pred = self._filter
        return list(rows) if pred is None else [r for r in rows if pred(r)]

    # ---- feeding
    def clear(self) -> None:
        self.beginResetModel()
        self._all = {}
        self._rows = []
        self.total_bytes = 0
        self.endResetModel()
        self.totalsChanged.emit()

    def append_rows(self, rows: list[BlobRow]) -> None:
        """A batch of a first scan (or new blobs): rows appear at once, sorted in if a sort is active."""
        known = [r for r in rows if r.digest in self._all]
        if known:  # e.g. importing content that is already there: update the row in place
            self.replace_rows(known, emit_totals=False)
        fresh = [r for r in rows if r.digest not in self._all]
        for r in fresh:
            self._all[r.digest] = r
            self.total_bytes += r.size
        visible = self._visible(fresh)
        if visible:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(visible) - 1)
            self._rows.extend(visible)
            self.endInsertRows()
            if self._sort_col >= 0:
                self.layoutAboutToBeChanged.emit()
                self._sort_in_place()
                self.layoutChanged.emit()
        self.totalsChanged.emit()

    def rows_by_digest(self) -> dict[str, BlobRow]:
        """A copy of every row by digest (the base a scanner-thread rescan diffs against)."""
        return dict(self._all)

    def apply_changes(self, removed: list[str], added: list[BlobRow], changed: list[BlobRow]) -> None:
        """Apply a rescan's differences (``rows.diff_rows``, on the scanner thread); rows that did
        not change stay the same objects."""
        if not (removed or added or changed):
            return
        for r in changed:  # keep what the GUI learned about a row that did not change on disk
            old = self._all.get(r.digest)
            if old is None:
                continue
            r.media_type = r.media_type or old.media_type
            if r.size == old.size and r.updated_ns == old.updated_ns:
                r.verified = old.verified
        if len(removed) + len(added) + len(changed) > _INCREMENTAL_LIMIT:
            new = dict(self._all)
            for d in removed:
                new.pop(d, None)
            for r in added:
                new[r.digest] = r
            for r in changed:
                new[r.digest] = r
            self.beginResetModel()
            self._all = new
            self._rows = self._visible(new.values())
            self._sort_in_place()
            self.endResetModel()
            self.total_bytes = sum(r.size for r in new.values())
            self.totalsChanged.emit()
        else:  # each keeps total_bytes; append_rows emits totalsChanged once for all three
            self.remove_digests(removed, emit_totals=False)
            self.replace_rows(changed, emit_totals=False)
            self.append_rows(added)

    def remove_digests(self, digests: Iterable[str], *, emit_totals: bool = True) -> None:
        gone = [self._all.pop(d) for d in list(digests) if d in self._all]
        if not gone:
            return
        gone_ids = {id(r) for r in gone}
        if len(gone) > _INCREMENTAL_LIMIT:
            # one reset: each single-row removal costs O(rows + selection ranges), so deleting
            # 5 000 selected blobs one by one froze the window for over a second
            self.beginResetModel()
            self._rows = [r for r in self._rows if id(r) not in gone_ids]
            self.endResetModel()
        else:
            positions = [i for i, r in enumerate(self._rows) if id(r) in gone_ids]
            for i in reversed(positions):
                self.beginRemoveRows(QModelIndex(), i, i)
                del self._rows[i]
                self.endRemoveRows()
        self.total_bytes -= sum(r.size for r in gone)
        if emit_totals:
            self.totalsChanged.emit()

    def replace_rows(self, rows: Iterable[BlobRow], *, emit_totals: bool = True) -> None:
        """New versions of known blobs (labels edited, verification done)."""
        rows = [r for r in rows if r.digest in self._all]
        if not rows:
            return
        pos = {id(r): i for i, r in enumerate(self._rows)}
        last = self.columnCount() - 1
        for r in rows:
            old = self._all[r.digest]
            self._all[r.digest] = r
            self.total_bytes += r.size - old.size
            i = pos.get(id(old))
            if i is None:
                continue
            self._rows[i] = r
            self.dataChanged.emit(self.index(i, 0), self.index(i, last))
        if self._filter is not None:  # an edit can make a row stop matching the filter
            self.set_filter(self._filter)
        if emit_totals:
            self.totalsChanged.emit()

    def set_media_types(self, types: dict[str, str]) -> None:
        """Media types learned later (previews, the OCI graph) fill the column in place."""
        for d, mt in types.items():
            r = self._all.get(d)
            if r is not None and mt:
                r.media_type = mt
        if self._sort_col == COL_MEDIA:
            self.sort(self._sort_col, self._sort_order)
        if self._rows:
            self.dataChanged.emit(self.index(0, COL_MEDIA), self.index(len(self._rows) - 1, COL_MEDIA))

    def mark_verified(self, results: dict[str, bool]) -> None:
        for d, ok in results.items():
            r = self._all.get(d)
            if r is not None:
                r.verified = ok
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, self.columnCount() - 1))
