"""A table model over a list of dict rows, showing those that pass the subclass's filter.

The Fleet tab's digest table and image drift table are both this: every row kept in
``all_rows``, the shown ones in ``rows`` (one model reset per filter change), fixed headers.
A subclass sets ``headers`` (translated in its own context), implements ``_passes`` and
``data``.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt


class FilteredRowsModel(QAbstractTableModel):
    """See the module doc."""

    def __init__(self, headers: list[str], parent=None) -> None:
        super().__init__(parent)
        self._headers = headers
        self.all_rows: list[dict] = []
        self.rows: list[dict] = []  # those shown

    def _passes(self, row: dict) -> bool:
        raise NotImplementedError

    def _apply(self) -> None:
        self.beginResetModel()
        self.rows = [r for r in self.all_rows if self._passes(r)]
        self.endResetModel()

    def row_at(self, i: int) -> dict:
        return self.rows[i]

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._headers)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._headers[section]
        return None


__all__ = ["FilteredRowsModel"]
