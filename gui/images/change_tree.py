"""A tree of paths for the image layers dialog: one layer's changes against the layers below, or
the whole squashed image.  The tree (:class:`TreeItem`) is built on a worker thread from a
``store.squash.Analysis``; the model only hands it to a ``QTreeView``.

A change is shown three ways at once, never by colour alone: an icon (+, ~, −), the word in the
Change column, and the colour of the name (deleted names are also struck through).
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, QCoreApplication, QModelIndex, QObject, QPersistentModelIndex, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap

from .. import fmt


def type_text(kind: str) -> str:
    """A tar entry type as the user reads it (translated)."""
    names = {
        "file": QCoreApplication.translate("LayerEntries", "file"),
        "dir": QCoreApplication.translate("LayerEntries", "directory"),
        "symlink": QCoreApplication.translate("LayerEntries", "symlink"),
        "hardlink": QCoreApplication.translate("LayerEntries", "hard link"),
        "char": QCoreApplication.translate("LayerEntries", "char device"),
        "block": QCoreApplication.translate("LayerEntries", "block device"),
        "fifo": QCoreApplication.translate("LayerEntries", "fifo"),
    }
    return names.get(kind, kind)


COL_NAME, COL_CHANGE, COL_TYPE, COL_SIZE, COL_LAYER = range(5)
PATH_ROLE = Qt.ItemDataRole.UserRole + 1
CHANGE_ROLE = Qt.ItemDataRole.UserRole + 2

COLOURS = {"added": QColor(0x1b, 0x7f, 0x2a), "modified": QColor(0xa8, 0x63, 0x00), "deleted": QColor(0xc0, 0x1c, 0x28)}
SYMBOLS = {"added": "+", "modified": "~", "deleted": "−"}


class TreeItem:
    """One path: its own change (``""`` for a directory only shown to hold changed paths)."""

    __slots__ = ("name", "path", "type", "size", "change", "layer", "parent", "children", "row")

    def __init__(self, name: str, path: str, type_: str, size: int, change: str, layer: int,
                 parent: TreeItem | None):
        self.name, self.path, self.type, self.size, self.change, self.layer = name, path, type_, size, change, layer
        self.parent = parent
        self.children: list[TreeItem] = []
        self.row = 0

    def count(self) -> int:
        return 1 + sum(c.count() for c in self.children)


def _finish(root: TreeItem) -> TreeItem:
    """Sort (directories first, then by name), number the rows, and sum directory sizes."""
    order: list[TreeItem] = []
    stack = [root]
    while stack:
        item = stack.pop()
        order.append(item)
        item.children.sort(key=lambda c: (not c.children and c.type != "dir", c.name))
        for i, c in enumerate(item.children):
            c.row = i
            stack.append(c)
    for item in reversed(order):  # children before their parents
        if item.children:
            item.size = sum(c.size for c in item.children if c.type not in ("hardlink",))
    return root


def layer_tree(analysis, index: int) -> TreeItem:
    """The changes of layer ``index``, as a tree; directories that only hold changes are unmarked."""
    root = TreeItem("", "", "dir", 0, "", index, None)
    dirs: dict[str, TreeItem] = {"": root}
    for ch in analysis.layers[index].changes:
        head, _, name = ch.path.rpartition("/")
        parent = _dir(dirs, head, index)
        mine = dirs.get(ch.path)
        if mine is not None:  # a directory already made to hold changes below it
            mine.change, mine.type = ch.change, ch.type
            continue
        item = TreeItem(name, ch.path, ch.type, ch.size, ch.change, index, parent)
        parent.children.append(item)
        if ch.type == "dir":
            dirs[ch.path] = item
    return _finish(root)


def entries_tree(entries: list) -> TreeItem:
    """One layer's tar entries (``store.layers.LayerEntry``) as a tree; a whiteout is shown as the
    deletion of the name it hides (its ``path`` stays the whiteout's own, for the preview)."""
    root = TreeItem("", "", "dir", 0, "", -1, None)
    dirs: dict[str, TreeItem] = {"": root}
    for e in entries:
        if not e.path:
            continue
        head, _, name = e.path.rpartition("/")
        parent = _dir(dirs, head, -1)
        if e.whiteout:
            target = name[len(".wh."):]
            label = target if target != ".wh..opq" else name
            item = TreeItem(label, e.path, e.type, 0, "deleted" if target != ".wh..opq" else "", -1, parent)
            parent.children.append(item)
            continue
        mine = dirs.get(e.path)
        if mine is not None:  # made earlier to hold entries below it
            mine.type = e.type
            continue
        item = TreeItem(name, e.path, e.type, e.size, "", -1, parent)
        parent.children.append(item)
        if e.type == "dir":
            dirs[e.path] = item
    return _finish(root)


def _dir(dirs: dict[str, TreeItem], path: str, layer: int) -> TreeItem:
    item = dirs.get(path)
    if item is not None:
        return item
    head, _, name = path.rpartition("/")
    parent = _dir(dirs, head, layer)
    item = TreeItem(name, path, "dir", 0, "", layer, parent)
    parent.children.append(item)
    dirs[path] = item
    return item


def squashed_tree(analysis) -> TreeItem:
    """Every path of the squashed image, each with the layer it comes from."""
    root = TreeItem("", "", "dir", 0, "", -1, None)
    stack = [(analysis.root, root)]
    while stack:
        node, item = stack.pop()
        for name, child in (node.children or {}).items():
            c = TreeItem(name, f"{item.path}/{name}" if item.path else name, child.type, child.size, "",
                         child.layer, item)
            item.children.append(c)
            if child.children:
                stack.append((child, c))
    return _finish(root)


_ICONS: dict[str, QIcon] = {}


def change_icon(change: str) -> QIcon:
    """A small painted badge with the change's symbol, in its colour."""
    icon = _ICONS.get(change)
    if icon is None:
        pm = QPixmap(16, 16)
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(COLOURS[change])
        p.drawRoundedRect(QRectF(1, 1, 14, 14), 3, 3)
        p.setPen(QColor("white"))
        f = QFont()
        f.setBold(True)
        f.setPixelSize(13)
        p.setFont(f)
        p.drawText(QRectF(0, 0, 16, 16), Qt.AlignmentFlag.AlignCenter, SYMBOLS[change])
        p.end()
        icon = _ICONS[change] = QIcon(pm)
    return icon


class ChangeTreeModel(QAbstractItemModel):
    """Read-only tree over a :class:`TreeItem` root built elsewhere."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._root = TreeItem("", "", "dir", 0, "", -1, None)
        self._headers = [self.tr("Name"), self.tr("Change"), self.tr("Type"), self.tr("Size"), self.tr("Layer")]

    def change_text(self, change: str) -> str:
        return {"added": self.tr("added"), "modified": self.tr("modified"), "deleted": self.tr("deleted")}.get(change, "")

    def set_root(self, root: TreeItem) -> None:
        self.beginResetModel()
        self._root = root
        self.endResetModel()

    def root(self) -> TreeItem:
        return self._root

    def _item(self, index: QModelIndex | QPersistentModelIndex) -> TreeItem:
        return index.internalPointer() if index.isValid() else self._root

    def index(self, row: int, column: int, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> QModelIndex:
        if column < 0 or column >= len(self._headers) or row < 0:
            return QModelIndex()
        p = self._item(parent)
        if row >= len(p.children):
            return QModelIndex()
        return self.createIndex(row, column, p.children[row])

    def parent(self, index=QModelIndex()):
        if not index.isValid():
            return QModelIndex()
        item: TreeItem = index.internalPointer()
        p = item.parent
        if p is None or p is self._root:
            return QModelIndex()
        return self.createIndex(p.row, 0, p)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self._item(parent).children)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return len(self._headers)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(self._headers):
            return self._headers[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        item: TreeItem = index.internalPointer()
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == COL_NAME:
                return item.name
            if col == COL_CHANGE:
                return self.change_text(item.change)
            if col == COL_TYPE:
                return type_text(item.type)
            if col == COL_SIZE:
                return fmt.size(item.size) if item.type != "symlink" else ""
            if col == COL_LAYER:
                return str(item.layer) if item.layer >= 0 else ""
            return None
        if role == Qt.ItemDataRole.DecorationRole and col == COL_NAME and item.change:
            return change_icon(item.change)
        if role == Qt.ItemDataRole.ForegroundRole and col in (COL_NAME, COL_CHANGE) and item.change:
            return COLOURS[item.change]
        if role == Qt.ItemDataRole.FontRole and item.change == "deleted" and col == COL_NAME:
            f = QFont()
            f.setStrikeOut(True)
            return f
        if role == Qt.ItemDataRole.ToolTipRole and col == COL_NAME:
            return "/" + item.path + (f"  ({self.change_text(item.change)})" if item.change else "")
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (COL_SIZE, COL_LAYER):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == PATH_ROLE:
            return item.path
        if role == CHANGE_ROLE:
            return item.change
        return None

    def find(self, path: str) -> QModelIndex:
        """The index of ``path`` (column 0), or an invalid index."""
        item = self._root
        for part in [x for x in path.strip("/").split("/") if x]:
            nxt = next((c for c in item.children if c.name == part), None)
            if nxt is None:
                return QModelIndex()
            item = nxt
        return QModelIndex() if item is self._root else self.createIndex(item.row, 0, item)
