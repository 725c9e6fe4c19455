"""The ingests table: active and interrupted writes, with progress and staleness."""

from __future__ import annotations

import time
from typing import Callable

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt

from .. import fmt
from ..blobs.table_model import RowTableModel
from ..rows import IngestRow

COL_REF, COL_PROGRESS, COL_STATE, COL_UPDATED, COL_STARTED = range(5)
PROGRESS_ROLE = Qt.ItemDataRole.UserRole + 2  # (offset, total) for the progress delegate
STALL_SECONDS = 60  # an ingest that has not moved for this long is shown as stalled

SORT_KEYS: dict[int, Callable[[IngestRow], object]] = {
    COL_REF: lambda r: r.ref,
    COL_PROGRESS: lambda r: (r.offset / r.total) if r.total else r.offset,
    COL_STARTED: lambda r: r.started_ns,
    COL_UPDATED: lambda r: r.updated_ns,
    COL_STATE: lambda r: (r.broken is None, r.updated_ns),
}


class IngestTableModel(RowTableModel):
    SORT_KEYS = SORT_KEYS

    def __init__(self, parent: QObject | None = None, clock: Callable[[], int] = time.time_ns):
        super().__init__(parent)
        self._rows: list[IngestRow] = []
        self._clock = clock
        self._headers = [self.tr("Ref"), self.tr("Progress"), self.tr("State"),
                         self.tr("Last update"), self.tr("Started")]

    def is_stalled(self, row: IngestRow) -> bool:
        return row.broken is None and (self._clock() - row.updated_ns) > STALL_SECONDS * 1_000_000_000

    def state_text(self, row: IngestRow) -> str:
        if row.broken is not None:
            return self.tr("damaged")
        if self.is_stalled(row):
            return self.tr("stalled")
        return self.tr("active")

    def progress_text(self, row: IngestRow) -> str:
        if row.total:
            return self.tr("{done} of {total} ({pct:.0f}%)").format(
                done=fmt.size(row.offset), total=fmt.size(row.total), pct=100.0 * row.offset / row.total)
        return self.tr("{done} so far").format(done=fmt.size(row.offset))

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == COL_REF:
                return row.ref
            if col == COL_PROGRESS:
                return "" if row.broken else self.progress_text(row)
            if col == COL_STARTED:
                return fmt.local_time(row.started_ns)
            if col == COL_UPDATED:
                return fmt.ago(row.updated_ns, self._clock())
            if col == COL_STATE:
                return self.state_text(row)
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == COL_REF:
                return row.ref
            if col == COL_STATE and row.broken:
                return row.broken
            if col == COL_UPDATED:
                return fmt.local_time(row.updated_ns)
            if col == COL_PROGRESS and not row.broken:
                return f"{row.offset:,} / {row.total:,} B" if row.total else f"{row.offset:,} B"
            return None
        if role == PROGRESS_ROLE:
            return None if row.broken else (row.offset, row.total)
        if role == Qt.ItemDataRole.ForegroundRole and col == COL_STATE:
            from PySide6.QtGui import QColor
            if row.broken is not None:
                return QColor(200, 30, 30)
            if self.is_stalled(row):
                return QColor(190, 110, 0)
            return None
        return None

    def rows(self) -> list[IngestRow]:
        return list(self._rows)

    def set_rows(self, rows: list[IngestRow]) -> None:
        """Make the table equal to ``rows``: remove, update in place, insert; ages refresh."""
        new = {r.ref: r for r in rows}
        for i in range(len(self._rows) - 1, -1, -1):
            if self._rows[i].ref not in new:
                self.beginRemoveRows(QModelIndex(), i, i)
                del self._rows[i]
                self.endRemoveRows()
        known = {r.ref: i for i, r in enumerate(self._rows)}
        for i, r in enumerate(self._rows):
            self._rows[i] = new[r.ref]
        added = [r for ref, r in new.items() if ref not in known]
        if added:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(added) - 1)
            self._rows.extend(added)
            self.endInsertRows()
        if self._rows:
            # ages ("3 seconds ago") change every tick even when nothing moved on disk
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, len(self._headers) - 1))
            if self._sort_col >= 0:
                self.layoutAboutToBeChanged.emit()
                self._sort_in_place()
                self.layoutChanged.emit()
