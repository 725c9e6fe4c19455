"""The images view's model: image → manifests by platform → config and layers, with sizes.

A small QAbstractItemModel over the plain :class:`store.graph.TreeNode` / ``ImageSpace``
records a worker built; child items are wrapped the first time a view asks for them, so a
store with thousands of images costs nothing until they are expanded.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from .. import fmt
from ..kinds import kind_icon

COL_NAME, COL_DIGEST, COL_MEDIA, COL_SIZE, COL_TOTAL, COL_SHARED, COL_UNIQUE = range(7)
DIGEST_ROLE = Qt.ItemDataRole.UserRole + 1
PRESENT_ROLE = Qt.ItemDataRole.UserRole + 2
SORT_ROLE = Qt.ItemDataRole.UserRole + 3
MISSING = QColor(179, 38, 30)
_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


def _space_bytes(space, col: int) -> int | None:
    """An image row's total, shared or unique bytes for that column; None elsewhere."""
    if space is None:
        return None
    return {COL_TOTAL: space.total, COL_SHARED: space.shared, COL_UNIQUE: space.unique}.get(col)


class _Item:
    __slots__ = ("parent", "row", "_node", "space", "_children", "_tree")

    def __init__(self, parent: "_Item | None", row: int, node, space=None, tree=None):
        self.parent = parent
        self.row = row
        self._node = node         # store.graph.TreeNode, or None: made by ``tree`` when first asked
        self.space = space        # store.graph.ImageSpace for an image row, else None
        self._children: list[_Item] | None = None
        self._tree = tree

    @property
    def node(self):
        if self._node is None:
            self._node = self._tree(self.space.digest)
        return self._node

    @property
    def children(self) -> list["_Item"]:
        if self._children is None:
            self._children = [_Item(self, i, c) for i, c in enumerate(self.node.children)]
        return self._children

    def child_count(self) -> int:
        return len(self.node.children)


class ImagesTreeModel(QAbstractItemModel):
    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._top: list[_Item] = []
        self._headers = [self.tr("Image / blob"), self.tr("Digest"), self.tr("Media type"), self.tr("Size"),
                         self.tr("Total"), self.tr("Shared"), self.tr("Unique")]

    # ---- feeding
    def set_images(self, images: list[tuple[object, object]], tree=None) -> None:
        """``images``: (ImageSpace, TreeNode) pairs, in the order to show them; a pair's TreeNode
        may be None when ``tree(digest)`` (``store.graph.Graph.tree``) makes it on first use: a
        store of 20k images then holds 20k small records, not 400k tree nodes nobody opened."""
        self.beginResetModel()
        self._top = [_Item(None, i, node, space, tree) for i, (space, node) in enumerate(images)]
        self.endResetModel()

    def clear(self) -> None:
        self.set_images([])

    # ---- Qt model interface
    def _item(self, index: QModelIndex | QPersistentModelIndex) -> _Item | None:
        return index.internalPointer() if index.isValid() else None

    def index(self, row: int, column: int, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> QModelIndex:
        if column < 0 or column >= len(self._headers) or row < 0:
            return QModelIndex()
        if parent.isValid():
            if parent.column() != 0:
                return QModelIndex()
            item = self._item(parent)
            kids = item.children if item is not None else []
        else:
            kids = self._top
        if row >= len(kids):
            return QModelIndex()
        return self.createIndex(row, column, kids[row])

    def parent(self, index: QModelIndex | QPersistentModelIndex = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # Qt overloads QObject.parent() with parent(index)
        item = self._item(index)
        if item is None or item.parent is None:
            return QModelIndex()
        return self.createIndex(item.parent.row, 0, item.parent)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        if not parent.isValid():
            return len(self._top)
        item = self._item(parent)
        if parent.column() != 0 or item is None:
            return 0
        return item.child_count()

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return len(self._headers)

    def hasChildren(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> bool:
        return self.rowCount(parent) > 0

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(self._headers):
            return self._headers[section]
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex):
        return _FLAGS if index.isValid() else Qt.ItemFlag.NoItemFlags

    def _name(self, item: _Item) -> str:
        n = item.node
        if item.space is not None:
            label = item.space.name or fmt.short_digest(n.digest)
            if item.space.platforms:
                label += "  [" + ", ".join(item.space.platforms) + "]"
            return label
        text = n.name
        if n.platform is not None and n.kind != "config":
            text += f"  {n.platform}"
        if n.cycle:
            text += "  " + self.tr("(cycle: shown above)")
        return text

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        item = self._item(index)
        if item is None:
            return None
        n = item.node
        col = index.column()
        space = item.space
        if role == Qt.ItemDataRole.DisplayRole:
            if col == COL_NAME:
                return self._name(item)
            if col == COL_DIGEST:
                return fmt.short_digest(n.digest)
            if col == COL_MEDIA:
                return n.media_type or "—"
            if col == COL_SIZE:
                if not n.present:
                    return self.tr("missing")
                return fmt.size(n.size) if n.size >= 0 else ""
            value = _space_bytes(space, col)
            return fmt.size(value) if value is not None else None
        if role == SORT_ROLE:
            if col == COL_SIZE:
                return n.size
            value = _space_bytes(space, col)
            return value if value is not None else self.data(index, Qt.ItemDataRole.DisplayRole)
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = str(n.digest)
            if not n.present:
                tip += "\n" + self.tr("Referenced, but not in the store.")
            if space is not None and space.names:
                tip = "\n".join(space.names) + "\n" + tip
            if space is not None:
                tip += "\n" + self.tr("{n} blobs: {total} in total, {shared} shared with other images, "
                                      "{unique} only in this one").format(
                    n=space.blob_count, total=fmt.exact_size(space.total), shared=fmt.exact_size(space.shared),
                    unique=fmt.exact_size(space.unique))
                if space.missing:
                    tip += "\n" + self.tr("{n} referenced blob(s) missing from the store").format(n=space.missing)
            return tip
        if role == Qt.ItemDataRole.DecorationRole and col == COL_NAME:
            return kind_icon(n.kind)
        if role == Qt.ItemDataRole.ForegroundRole and not n.present:
            return QBrush(MISSING)
        if role == Qt.ItemDataRole.TextAlignmentRole and col >= COL_SIZE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == DIGEST_ROLE:
            return str(n.digest)
        if role == PRESENT_ROLE:
            return n.present
        return None

    # ---- reading
    def image_count(self) -> int:
        return len(self._top)

    def find(self, digest: str) -> QModelIndex:
        """The first index (depth first, expanding as needed) showing ``digest``."""
        stack = [(self._top, QModelIndex())]
        while stack:
            items, parent = stack.pop()
            for item in items:
                idx = self.index(item.row, 0, parent)
                if str(item.node.digest) == digest:
                    return idx
                if item.child_count() and not item.node.cycle:
                    stack.append((item.children, idx))
        return QModelIndex()
