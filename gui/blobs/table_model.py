"""The part the blobs and ingests tables share: a flat Qt table over a Python list of rows."""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren


class RowTableModel(QAbstractTableModel):
    """``self._rows`` are the visible rows, ``self._headers`` the column titles.

    Sorting is one ``list.sort`` with the subclass's ``SORT_KEYS[column]`` (never a Python
    comparison per pair), and persistent indexes (the selection) follow their rows.
    """

    SORT_KEYS: dict[int, Callable[[Any], Any]] = {}  # column -> key of one row (a subclass's row type)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._rows: list = []
        self._headers: list[str] = []
        self._sort_col = -1
        self._sort_order = Qt.SortOrder.AscendingOrder

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._headers)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if (orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole
                and 0 <= section < len(self._headers)):
            return self._headers[section]
        return None

    def row_at(self, row: int):
        """The record shown at visible row ``row``."""
        return self._rows[row]

    def flags(self, index: QModelIndex | QPersistentModelIndex):
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return _FLAGS

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self._sort_col = column if column in self.SORT_KEYS else -1
        self._sort_order = order
        self.layoutAboutToBeChanged.emit()
        self._sort_in_place()
        self.layoutChanged.emit()

    def _sort_in_place(self) -> None:
        """Sort the visible rows, keeping persistent indexes (selection) on their rows."""
        if self._sort_col < 0:
            return
        persistent = self.persistentIndexList()
        held = [(p, self._rows[p.row()]) for p in persistent if p.isValid() and p.row() < len(self._rows)]
        self._rows.sort(key=self.SORT_KEYS[self._sort_col],
                        reverse=self._sort_order == Qt.SortOrder.DescendingOrder)
        if held:
            wanted = {id(r) for _, r in held}
            pos = {id(r): i for i, r in enumerate(self._rows) if id(r) in wanted}
            self.changePersistentIndexList(
                [p for p, _ in held],
                [self.index(pos[id(r)], p.column()) for p, r in held])
