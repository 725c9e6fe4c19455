"""The Disk tab's details: what the selected node is, its size and state, and "why is this alive"
as a chain of links from a root, each link selecting the item it names.  Plain text only."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QTextOption
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from .. import fmt
from . import states
from .disk_tree import KIND_ITEM, DiskNode, DiskTree, link_target
from .names import display_name

IDENT_ROLE = Qt.ItemDataRole.UserRole + 1
LINK_COLOUR = "#1a5fb4"
MAX_LISTED = 20  # images or containers named in a field; the rest are counted


class DiskDetails(QWidget):
    linkActivated = Signal(str)  # the ident of the item a chain link names

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("diskDetails")
        self.node: DiskNode | None = None
        self.tree: DiskTree | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.title = self._label("diskDetailsTitle")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        # digests do not break at spaces: a plain-text box that wraps anywhere shows them whole
        self.facts = QPlainTextEdit(self)
        self.facts.setObjectName("diskDetailsFacts")
        self.facts.setReadOnly(True)
        self.facts.setFrameShape(QFrame.Shape.NoFrame)
        self.facts.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self.facts.viewport().setAutoFillBackground(False)
        self.why_title = self._label("diskWhyTitle")
        self.chain = QListWidget(self)
        self.chain.setObjectName("whyChain")
        self.chain.setWordWrap(True)
        self.chain.setResizeMode(QListView.ResizeMode.Adjust)
        self.chain.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.chain.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.chain.setAccessibleName(self.tr("Why is this alive"))
        self.chain.itemClicked.connect(self._clicked)
        self.chain.itemActivated.connect(self._clicked)
        layout.addWidget(self.title)
        layout.addWidget(self.facts, 1)
        layout.addWidget(self.why_title)
        layout.addWidget(self.chain, 1)
        self._field_names = {
            "digest": self.tr("Digest"), "namespaces": self.tr("Recorded in namespaces"),
            "images": self.tr("Images"), "key": self.tr("Key"), "directory": self.tr("Path"),
            "snapshot-kind": self.tr("Kind"), "parent": self.tr("Parent"),
            "chain-bytes": self.tr("With its parents"), "containers": self.tr("Containers"),
            "leases": self.tr("Leases"), "layer": self.tr("Layer blob"), "diff-id": self.tr("Diff ID"),
            "flags": self.tr("Flags"), "ref": self.tr("Ref"), "expected": self.tr("Expected digest"),
            "target": self.tr("Target"), "media-type": self.tr("Media type"), "image": self.tr("Image"),
            "snapshot": self.tr("Snapshot"), "expires": self.tr("Expires"), "holds": self.tr("Resources held"),
            "note": self.tr("Note"),
        }
        self._notes = {
            "no-record": self.tr("no namespace records it"),
            "not-understood": self.tr("Blobscope cannot read this snapshotter's records; its whole directory "
                                      "is counted"),
        }
        self.show_node(None)

    def _label(self, name: str) -> QLabel:
        label = QLabel(self)
        label.setObjectName(name)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    def set_tree(self, tree: DiskTree | None) -> None:
        self.tree = tree

    def show_node(self, node: DiskNode | None) -> None:
        self.node = node
        self.chain.clear()
        if node is None:
            self.title.setText(self.tr("Nothing selected"))
            self.facts.setPlainText(self.tr("Click a rectangle or a row to see what it is and what keeps it."))
            self.why_title.setText("")
            return
        self.title.setText(" › ".join(display_name(n) for n in node.path()[1:]) or display_name(node))
        lines = [self.tr("Size: {size} ({exact})").format(size=fmt.size(node.bytes), exact=fmt.exact_size(node.bytes))]
        if node.children:
            lines.append(self.tr("Items: {n}").format(n=f"{node.count:,}"))
        if node.state:
            lines.append(self.tr("State: {state} — {meaning}").format(state=states.name(node.state),
                                                                    meaning=states.meaning(node.state)))
        for field_id, raw in node.details:
            if isinstance(raw, tuple):
                value = ", ".join(raw[:MAX_LISTED])
                if len(raw) > MAX_LISTED:
                    value += " " + self.tr("and {n} more").format(n=len(raw) - MAX_LISTED)
            elif field_id == "chain-bytes":
                value = fmt.size(int(raw))
            elif field_id == "note":
                value = self._notes.get(raw, raw)
            else:
                value = raw
            lines.append(f"{self._field_names.get(field_id, field_id)}: {value}")
        self.facts.setPlainText("\n".join(lines))
        if node.kind != KIND_ITEM:
            self.why_title.setText("")
        elif node.why:
            self.why_title.setText(self.tr("Why is this alive (from a root, click a link to select it):"))
            for i, text in enumerate(node.why):
                self._add_link(("↳ " if i else "") + text, link_target(text, node.why_namespace))
        elif node.state == states.COLLECTABLE:
            self.why_title.setText(self.tr("Nothing keeps it: containerd's next garbage collection removes it."))
        elif node.state in (states.PLAIN, states.METADATA, states.NOT_UNDERSTOOD, states.ORPHAN):
            self.why_title.setText(self.tr("containerd's garbage collector does not decide about this."))
        else:
            self.why_title.setText("")

    def show_roots(self, node: DiskNode, chains: list[tuple[str, ...]]) -> None:
        """Every root that keeps ``node`` (a worker found them): each one must go before the next
        garbage collection frees it.  Dropped when another node is shown by now."""
        if node is not self.node or len(chains) < 2:
            return
        header = QListWidgetItem(self.tr("Kept by {n} roots; every one must go before it can be collected:")
                                 .format(n=len(chains)))
        header.setFlags(Qt.ItemFlag.ItemIsEnabled)
        font = header.font()
        font.setBold(True)
        header.setFont(font)
        self.chain.addItem(header)
        for chain in chains:
            self._add_link("• " + chain[0], link_target(chain[0], node.why_namespace))

    def _add_link(self, text: str, ident: str | None) -> None:
        item = QListWidgetItem(text)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
        if ident is not None and self.tree is not None and self.tree.find(ident) is not None:
            item.setData(IDENT_ROLE, ident)
            item.setForeground(QBrush(QColor(LINK_COLOUR)))
            font = item.font()
            font.setUnderline(True)
            item.setFont(font)
            item.setToolTip(self.tr("Select this item"))
        self.chain.addItem(item)

    def _clicked(self, item: QListWidgetItem) -> None:
        ident = item.data(IDENT_ROLE)
        if ident:
            self.linkActivated.emit(ident)

    def roots(self) -> list[str]:
        """The roots listed below the chain (without their bullets)."""
        texts = [self.chain.item(i).text() for i in range(self.chain.count())]
        return [t[2:] for t in texts if t.startswith("• ")]

    def links(self) -> list[tuple[str, str | None]]:
        """The chain as shown: (text, ident or None) per link."""
        out = []
        for i in range(self.chain.count()):
            item = self.chain.item(i)
            out.append((item.text(), item.data(IDENT_ROLE)))
        return out

    def chain_text(self) -> str:
        """The chain as plain text, one link a line (what Copy why-chain copies)."""
        return "\n".join(self.node.why) if self.node is not None else ""


__all__ = ["DiskDetails", "IDENT_ROLE"]
