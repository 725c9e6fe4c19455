"""The treemap as a widget: it blits the picture a worker painted and outlines the selection.

A new tree or a new size asks for a picture (:attr:`TreemapWidget.layoutWanted`, debounced);
until it comes the old one is drawn stretched, so resizing never waits for a layout.  A click
says which node is under the mouse; hovering names it in :attr:`hovered` (plain text).
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from .. import fmt
from . import states
from .disk_tree import DiskNode
from .names import display_name
from .treemap_render import MORE, TreemapPicture, more_text

LAYOUT_DELAY_MS = 60


class TreemapWidget(QWidget):
    nodeClicked = Signal(object)   # a DiskNode (for "N more": the group it belongs to)
    hovered = Signal(str)          # what is under the mouse, plain text ("" when nothing)
    layoutWanted = Signal(int, int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("diskTreemap")
        self.setMouseTracking(True)
        self.setMinimumSize(120, 80)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName(self.tr("Disk treemap"))
        self.root: DiskNode | None = None
        self.picture: TreemapPicture | None = None
        self.selected: DiskNode | None = None
        self.placeholder = ""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(LAYOUT_DELAY_MS)
        self._timer.timeout.connect(self._want_layout)

    def sizeHint(self) -> QSize:
        return QSize(520, 420)

    def set_root(self, root: DiskNode | None) -> None:
        self.root = root
        if root is None:
            self.picture = None
            self.update()
        else:
            self._timer.start()

    def set_placeholder(self, text: str) -> None:
        self.placeholder = text
        self.update()

    def set_picture(self, picture: TreemapPicture, root: DiskNode) -> None:
        """A worker's picture; dropped when it is of another tree than the one shown now."""
        if root is not self.root:
            return
        self.picture = picture
        self.update()

    def set_selected(self, node: DiskNode | None) -> None:
        if node is not self.selected:
            self.selected = node
            self.update()

    def stop(self) -> None:
        self._timer.stop()
        self._timer.timeout.disconnect(self._want_layout)

    def _want_layout(self) -> None:
        if self.root is not None and self.width() > 0 and self.height() > 0:
            self.layoutWanted.emit(self.width(), self.height())

    # ------------------------------------------------------------------ events
    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.root is not None:
            self._timer.start()

    def _at(self, x: float, y: float) -> tuple[DiskNode, int] | None:
        pic = self.picture
        if pic is None or pic.width <= 0 or pic.height <= 0:
            return None
        return pic.hit(x * pic.width / max(1, self.width()), y * pic.height / max(1, self.height()))

    def node_at(self, x: float, y: float) -> DiskNode | None:
        """The node under (x, y) in this widget (for "N more": its group)."""
        hit = self._at(x, y)
        return hit[0] if hit is not None else None

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            hit = self._at(event.position().x(), event.position().y())
            if hit is not None:
                self.nodeClicked.emit(hit[0])
                event.accept()
                return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        hit = self._at(event.position().x(), event.position().y())
        if hit is None:
            self.hovered.emit("")
        else:
            node, what = hit
            if what == MORE and self.picture is not None:
                count, nbytes = self.picture.more.get(node, (0, 0))
                self.hovered.emit(f"{display_name(node)} › {more_text(count)} — {fmt.size(nbytes)}")
            else:
                path = " › ".join(display_name(n) for n in node.path()[1:])
                state = states.name(node.state)
                self.hovered.emit(f"{path} — {fmt.size(node.bytes)}" + (f" — {state}" if state else ""))
        super().mouseMoveEvent(event)

    def leaveEvent(self, event) -> None:
        self.hovered.emit("")
        super().leaveEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        try:
            target = QRectF(0, 0, self.width(), self.height())
            pic = self.picture
            if pic is None:
                p.fillRect(target, self.palette().window())
                p.setPen(self.palette().text().color())
                p.drawText(target.adjusted(12, 12, -12, -12),
                           Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.placeholder)
                return
            p.drawImage(target, pic.image)
            found = pic.rect_of(self.selected)
            if found is not None:
                sx, sy = self.width() / max(1, pic.width), self.height() / max(1, pic.height)
                r = found[1]
                r = QRectF(r.x() * sx, r.y() * sy, r.width() * sx, r.height() * sy).adjusted(1, 1, -1, -1)
                p.setPen(QPen(QColor("#000000"), 3))
                p.drawRect(r)
                p.setPen(QPen(QColor("#ffffff"), 1.5))
                p.drawRect(r)
        finally:
            p.end()


__all__ = ["TreemapWidget"]
