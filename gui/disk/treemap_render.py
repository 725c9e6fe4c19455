"""The treemap of a disk tree, laid out and painted into a QImage on a worker.

Groups (kinds, namespaces) are nested boxes with a title strip when there is room; items are
cushioned rectangles in their state's colour, as QDirStat draws them.  Children too small to
see (under :data:`MIN_AREA` square pixels) are merged into one "N more" rectangle, so the work
is bounded by the pixels, not by the 100k blobs.  The GUI thread only blits the image and
outlines the selection with :attr:`TreemapPicture.rects`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from PySide6.QtCore import QCoreApplication, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QLinearGradient, QPainter, QPen

from .. import fmt
from . import states
from .disk_tree import DiskNode
from .names import display_name
from .squarify import squarify

MIN_AREA = 36.0  # square pixels: smaller children go into "N more"
HEADER = 16  # a group's title strip
PAD = 2
LEAF, GROUP, MORE = 0, 1, 2


@dataclass
class TreemapPicture:
    width: int
    height: int
    image: QImage
    # (x, y, w, h, node, what): in painting order, so a later rect lies inside or beside an earlier one;
    # for MORE the node is the group whose small children it stands for
    rects: list[tuple[float, float, float, float, DiskNode, int]] = field(default_factory=list)
    where: dict[DiskNode, int] = field(default_factory=dict)  # node -> index in rects
    more: dict[DiskNode, tuple[int, int]] = field(default_factory=dict)  # group -> (count, bytes) merged

    def hit(self, x: float, y: float) -> tuple[DiskNode, int] | None:
        """The deepest rect under (x, y)."""
        for rx, ry, rw, rh, node, what in reversed(self.rects):
            if rx <= x < rx + rw and ry <= y < ry + rh:
                return node, what
        return None

    def rect_of(self, node: DiskNode | None) -> tuple[DiskNode, QRectF] | None:
        """The rect showing ``node``, or its nearest ancestor that has one."""
        while node is not None:
            i = self.where.get(node)
            if i is not None:
                r = self.rects[i]
                return node, QRectF(r[0], r[1], r[2], r[3])
            node = node.parent
        return None


Rects = list[tuple[float, float, float, float, DiskNode, int]]


def layout(root: DiskNode, width: int, height: int, *, cancelled=lambda: False,
           more: dict[DiskNode, tuple[int, int]] | None = None) -> Rects:
    """The rects of ``root`` in a ``width`` x ``height`` area (no painting); ``more`` gets, per group
    with a "N more" rect, how many children and bytes it stands for."""
    out: Rects = []
    if more is None:
        more = {}
    if root.bytes <= 0 or width <= 0 or height <= 0:
        return out
    stack: list[tuple[DiskNode, float, float, float, float]] = [(root, 0.0, 0.0, float(width), float(height))]
    while stack:
        if cancelled():
            return out
        if not len(out) % 128:
            time.sleep(0)  # the GUI thread's turn with the GIL
        node, x, y, w, h = stack.pop()
        if not node.children:
            out.append((x, y, w, h, node, LEAF))
            continue
        out.append((x, y, w, h, node, GROUP))
        head = HEADER if h >= 3 * HEADER and w >= 60 else 0
        ix, iy, iw, ih = x + PAD, y + PAD + head, w - 2 * PAD, h - 2 * PAD - head
        if iw < 2 or ih < 2:
            continue
        scale = iw * ih / node.bytes
        children = node.items()
        shown: list[DiskNode] = []
        for c in children:  # largest first: the first too small ends the shown ones
            if c.bytes * scale < MIN_AREA:
                break
            shown.append(c)
        rest_bytes = node.bytes - sum(c.bytes for c in shown)
        rest_count = 0
        if rest_bytes > 0:
            rest_count = sum(1 for c in children[len(shown):] if c.bytes > 0)
        values = [float(c.bytes) for c in shown]
        if rest_count:
            values.append(float(rest_bytes))
        rects = squarify(values, ix, iy, iw, ih)
        for c, (cx, cy, cw, ch) in zip(shown, rects):
            if c.children and cw >= 8 and ch >= 8:
                stack.append((c, cx, cy, cw, ch))
            else:
                out.append((cx, cy, cw, ch, c, LEAF))
        if rest_count:
            cx, cy, cw, ch = rects[-1]
            out.append((cx, cy, cw, ch, node, MORE))
            more[node] = (rest_count, rest_bytes)
    return out


def more_text(count: int) -> str:
    return QCoreApplication.translate("DiskTreemap", "{n} more").format(n=f"{count:,}")


def render(root: DiskNode, width: int, height: int, font: QFont, *, dpr: float = 1.0,
           cancelled=lambda: False) -> TreemapPicture:
    """Lay out and paint ``root`` (worker thread: a QImage may be painted on any thread)."""
    more: dict[DiskNode, tuple[int, int]] = {}
    rects = layout(root, width, height, cancelled=cancelled, more=more)
    image = QImage(max(1, int(width * dpr)), max(1, int(height * dpr)), QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(dpr)
    image.fill(QColor(states.GROUP_COLOUR))
    pic = TreemapPicture(width, height, image, rects, more=more)
    p = QPainter(image)
    try:
        p.setFont(font)
        fm = QFontMetrics(font)
        line = fm.height()
        group_pen = QPen(QColor("#20242a"))
        text_light, text_dark = QColor("#ffffff"), QColor("#101010")
        for i, (_x, _y, _w, _h, node, what) in enumerate(rects):
            if what != MORE:
                pic.where[node] = i
        for k, (x, y, w, h, node, what) in enumerate(rects):
            if not k % 32:
                if cancelled():
                    break
                time.sleep(0)
            r = QRectF(x, y, w, h)
            if what == GROUP:
                p.fillRect(r, QColor(states.GROUP_COLOUR))
                p.setPen(group_pen)
                p.drawRect(r.adjusted(0, 0, -1, -1))
                if h >= 3 * HEADER and w >= 60:
                    p.setPen(text_light)
                    title = f"{display_name(node)}  {fmt.size(node.bytes)}"
                    p.drawText(QRectF(x + 4, y + 1, w - 8, HEADER), Qt.AlignmentFlag.AlignVCenter,
                               fm.elidedText(title, Qt.TextElideMode.ElideRight, int(w - 8)))
                continue
            base = states.colour(node.state) if what == LEAF else QColor(states.MORE_COLOUR)
            if w >= 3 and h >= 3:
                g = QLinearGradient(QPointF(x, y), QPointF(x + w, y + h))
                g.setColorAt(0.0, base.lighter(135))
                g.setColorAt(1.0, base.darker(125))
                p.fillRect(r, g)
                p.setPen(base.darker(170))
                p.drawRect(r.adjusted(0, 0, -1, -1))
            else:
                p.fillRect(r, base)
            if w >= 40 and h >= line + 2:
                count, more_bytes = more.get(node, (0, 0)) if what == MORE else (0, node.bytes)
                text = more_text(count) if what == MORE else display_name(node)
                dark = base.lightness() > 150
                p.setPen(text_dark if dark else text_light)
                lines = [text]
                if h >= 2 * line + 4:
                    lines.append(fmt.size(more_bytes))
                for k, t in enumerate(lines):
                    p.drawText(QRectF(x + 3, y + 2 + k * line, w - 6, line), Qt.AlignmentFlag.AlignLeft,
                               fm.elidedText(t, Qt.TextElideMode.ElideRight, int(w - 6)))
    finally:
        p.end()
    return pic


__all__ = ["TreemapPicture", "layout", "render", "MIN_AREA", "LEAF", "GROUP", "MORE"]
