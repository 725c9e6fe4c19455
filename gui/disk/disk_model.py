"""The Disk tab's tree list: a QAbstractItemModel over a built :class:`DiskTree` (root → kind →
namespace → item), columns name, size, items and state; a state's colour as the name's decoration."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QIcon, QPixmap

from .. import fmt
from . import states
from .disk_tree import CONTAINERS, IMAGES, LEASES, DiskNode, DiskTree
from .names import display_name

COL_NAME, COL_SIZE, COL_ITEMS, COL_STATE = range(4)
NODE_ROLE = Qt.ItemDataRole.UserRole + 1
IDENT_ROLE = Qt.ItemDataRole.UserRole + 2
BYTES_ROLE = Qt.ItemDataRole.UserRole + 3

Index = QModelIndex | QPersistentModelIndex
RECORDS = (IMAGES, CONTAINERS, LEASES)  # kinds whose items take no bytes of their own


_swatches: dict[str, QIcon] = {}


def _swatch(state: str) -> QIcon:
    icon = _swatches.get(state)
    if icon is None:
        pix = QPixmap(10, 10)
        pix.fill(states.colour(state))
        icon = _swatches[state] = QIcon(pix)
    return icon


class DiskTreeModel(QAbstractItemModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.tree: DiskTree | None = None
        self._headers = [self.tr("Name"), self.tr("Size"), self.tr("Items"), self.tr("State")]

    def set_tree(self, tree: DiskTree | None) -> None:
        self.beginResetModel()
        self.tree = tree
        self.endResetModel()

    # ------------------------------------------------------------------ structure
    def _node(self, index: Index) -> DiskNode | None:
        if not index.isValid():
            return None
        node = index.internalPointer()
        return node if isinstance(node, DiskNode) else None

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:
        if self.tree is None or not 0 <= column < len(self._headers) or row < 0:
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, self.tree.root) if row == 0 else QModelIndex()
        node = self._node(parent)
        if node is None or parent.column() != 0 or row >= len(node.children):
            return QModelIndex()
        return self.createIndex(row, column, node.children[row])

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]
        node = self._node(index)
        if node is None or node.parent is None:
            return QModelIndex()
        return self.index_of(node.parent)

    def index_of(self, node: DiskNode, column: int = 0) -> QModelIndex:
        if self.tree is None:
            return QModelIndex()
        return self.createIndex(0 if node.parent is None else node.row, column, node)

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        if self.tree is None:
            return 0
        if not parent.isValid():
            return 1
        if parent.column() != 0:
            return 0
        node = self._node(parent)
        return len(node.children) if node is not None else 0

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return len(self._headers)

    def hasChildren(self, parent: Index = QModelIndex()) -> bool:
        # asked for every row a view lays out: kept to one lookup
        if not parent.isValid():
            return self.tree is not None
        node = parent.internalPointer()
        return parent.column() == 0 and bool(node.children)

    # ------------------------------------------------------------------ data
    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(self._headers):
            return self._headers[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        node = self._node(index)
        if node is None:
            return None
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == COL_NAME:
                return display_name(node)
            if col == COL_SIZE:
                return "—" if node.category in RECORDS else fmt.size(node.bytes)
            if col == COL_ITEMS:
                return f"{node.count:,}" if node.children else ""
            if col == COL_STATE:
                return states.name(node.state)
            return None
        if role == Qt.ItemDataRole.DecorationRole and col == COL_NAME and not node.children:
            return _swatch(node.state) if node.state else None
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (COL_SIZE, COL_ITEMS):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == NODE_ROLE:
            return node
        if role == IDENT_ROLE:
            return node.ident
        if role == BYTES_ROLE:
            return node.bytes
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


__all__ = ["DiskTreeModel", "NODE_ROLE", "IDENT_ROLE", "BYTES_ROLE", "COL_NAME", "COL_SIZE", "COL_ITEMS",
           "COL_STATE"]
