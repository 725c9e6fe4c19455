"""The details pane's references: a blob's children and parents (edge names, present or missing),
the roots that keep it alive, or "unreferenced — reclaimable".

Every entry is a plain-text tree item (digests and edge names come from labels, which may hold
markup); a click on a present blob asks the window to select it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QCursor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHeaderView,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .. import fmt
from ..kinds import kind_icon, kind_text

DIGEST_ROLE = Qt.ItemDataRole.UserRole + 1
PRESENT_ROLE = Qt.ItemDataRole.UserRole + 2
LIMIT = 500  # an index with thousands of children lists the first ones; the images view has all
LINK = QColor(31, 111, 235)
MISSING = QColor(179, 38, 30)


class ReferencesBox(QGroupBox):
    """Children, parents and roots of one blob; ``blobRequested(digest)`` when one is clicked."""

    blobRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(self.tr("References"), parent)
        self.setObjectName("referencesBox")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.status = QLabel(self)
        self.status.setObjectName("referencesStatus")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("referencesTree")
        self.tree.setColumnCount(4)
        self.tree.setHeaderLabels([self.tr("Edge"), self.tr("Blob"), self.tr("Kind"), self.tr("Size")])
        self.tree.setRootIsDecorated(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setMouseTracking(True)
        hh = self.tree.header()
        hh.setStretchLastSection(False)
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for col, width in ((0, 170), (1, 110), (2, 115), (3, 75)):
            self.tree.setColumnWidth(col, width)
        self.tree.setMinimumHeight(36)  # the pane shrinks with the window; the tree scrolls
        layout.addWidget(self.tree, 1)
        self.tree.itemClicked.connect(self._clicked)
        self.tree.itemActivated.connect(self._clicked)
        self.tree.itemEntered.connect(self._hover)
        self.digest: str | None = None
        self.show_pending(None)

    # ---- filling
    def clear(self) -> None:
        self.digest = None
        self.tree.clear()
        self.status.setText("")

    def show_pending(self, digest: str | None, parents: list[tuple[str, str]] | None = None) -> None:
        """Before the graph is built: the label parents the scan already knows, and a note."""
        self.tree.clear()
        self.digest = digest
        if digest is None:
            self.status.setText("")
            return
        self.status.setText(self.tr("Working out the image graph…"))
        if parents:
            group = self._group(self.tr("Parents ({n})").format(n=len(parents)))
            for parent, key in parents[:LIMIT]:
                self._item(group, key.rsplit("content", 1)[-1].lstrip("./") or key, parent, True, "", -1)
            group.setExpanded(True)

    def show_refs(self, refs) -> None:
        """Fill from a :class:`store.graph.BlobRefs`."""
        self.tree.clear()
        self.digest = str(refs.digest)
        if not refs.present:
            self.status.setText(self.tr("This blob is not in the store."))
        elif refs.reachable:
            self.status.setText(self.tr("Reachable: kept alive by {n} root(s).").format(n=len(refs.roots)))
        else:
            self.status.setText(self.tr("Unreferenced — reclaimable: no root reaches this blob, so "
                                        "containerd's garbage collector would remove it."))
        if refs.note:
            self.status.setText(self.status.text() + "\n" + refs.note)
        for title, links in ((self.tr("Children ({n})"), refs.children), (self.tr("Parents ({n})"), refs.parents)):
            if not links:
                continue
            group = self._group(title.format(n=len(links)))
            for n in links[:LIMIT]:
                self._item(group, n.name or "ref", str(n.digest), n.present, n.kind, n.size,
                           extra=", ".join(n.sources))
            if len(links) > LIMIT:
                QTreeWidgetItem(group, [self.tr("… {n} more").format(n=len(links) - LIMIT)])
            group.setExpanded(True)
        roots = [r for r in refs.roots if r.digest != refs.digest]
        own = [r for r in refs.roots if r.digest == refs.digest]
        if own:
            group = self._group(self.tr("This blob is a root: {reason}").format(reason=own[0].reason))
        if roots:
            group = self._group(self.tr("Kept alive by ({n})").format(n=len(roots)))
            for r in roots[:LIMIT]:
                self._item(group, r.reason, str(r.digest), True, "", -1)
            group.setExpanded(True)
        if not (refs.children or refs.parents or refs.roots):
            self._group(self.tr("(no references to or from this blob)"))

    def _group(self, title: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem(self.tree, [title])
        item.setFirstColumnSpanned(True)
        font = item.font(0)
        font.setBold(True)
        item.setFont(0, font)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)
        return item

    def _item(self, group, name: str, digest: str, present: bool, kind: str, size: int,
              extra: str = "") -> QTreeWidgetItem:
        size_text = fmt.size(size) if size >= 0 else ""
        kind_col = kind_text(kind) if present else self.tr("missing")
        item = QTreeWidgetItem(group, [name, fmt.short_digest(digest), kind_col, size_text])
        item.setData(0, DIGEST_ROLE, digest)
        item.setData(0, PRESENT_ROLE, present)
        if kind:
            item.setIcon(2, kind_icon(kind))
        tip = digest + ("" if present else "\n" + self.tr("Not in the store (referenced, but missing)."))
        if extra:
            tip += "\n" + self.tr("from: {sources}").format(sources=extra)
        for col in range(4):
            item.setToolTip(col, tip)
        font = item.font(1)
        font.setUnderline(present)
        item.setFont(1, font)
        item.setForeground(1, QBrush(LINK if present else MISSING))
        if not present:
            item.setForeground(2, QBrush(MISSING))
        return item

    # ---- clicking
    def _clicked(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        digest = item.data(0, DIGEST_ROLE)
        if digest:
            self.blobRequested.emit(str(digest))

    def _hover(self, item: QTreeWidgetItem, _column: int) -> None:
        if item.data(0, DIGEST_ROLE):
            self.tree.viewport().setCursor(QCursor(Qt.CursorShape.PointingHandCursor))
        else:
            self.tree.viewport().unsetCursor()

    def items(self) -> list[QTreeWidgetItem]:
        """Every link item (for tests and accessibility tools)."""
        out: list[QTreeWidgetItem] = []
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            if group is None:
                continue
            kids = (group.child(j) for j in range(group.childCount()))
            out.extend(k for k in kids if k is not None and k.data(0, DIGEST_ROLE))
        return out
