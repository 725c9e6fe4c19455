"""Compare with…: pick another source, list the blobs only here and only there."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .. import fmt
from . import opening as sources
from .saved import Source

if TYPE_CHECKING:
    from .hosts import CompareHost

log = logging.getLogger(__name__)


class CompareDialog(QDialog):
    """Pick another source; list the blobs only here and only there (computed on a worker)."""

    def __init__(self, controller: CompareHost, parent: QWidget):
        super().__init__(parent)
        self.controller = controller
        self.setObjectName("compareDialog")
        self.setWindowTitle(self.tr("Compare Sources"))
        self.resize(900, 560)
        self.choices: list[Source] = []
        self.outcome = None
        self.running = False
        self.source_box = QComboBox(self)
        self.source_box.setObjectName("compareSourceBox")
        self.compare_button = QPushButton(self.tr("Compare"), self)
        self.compare_button.setObjectName("compareButton")
        self.compare_button.clicked.connect(self.run)
        self.summary = QLabel(self)
        self.summary.setObjectName("compareSummary")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        self.only_here = self._tree("onlyHereView")
        self.only_there = self._tree("onlyThereView")
        self.here_caption = QLabel(self)
        self.there_caption = QLabel(self)
        for label in (self.here_caption, self.there_caption):
            label.setTextFormat(Qt.TextFormat.PlainText)
        top = QHBoxLayout()
        top.addWidget(QLabel(self.tr("Compare with:"), self))
        top.addWidget(self.source_box, 1)
        top.addWidget(self.compare_button)
        panes = QHBoxLayout()
        for caption, tree in ((self.here_caption, self.only_here), (self.there_caption, self.only_there)):
            col = QVBoxLayout()
            col.addWidget(caption)
            col.addWidget(tree)
            panes.addLayout(col)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addLayout(panes, 1)
        layout.addWidget(buttons)

    def _tree(self, name: str) -> QTreeWidget:
        tree = QTreeWidget(self)
        tree.setObjectName(name)
        tree.setHeaderLabels([self.tr("Digest"), self.tr("Size"), self.tr("Labels")])
        tree.setRootIsDecorated(False)
        tree.setUniformRowHeights(True)
        tree.setColumnWidth(0, 260)
        return tree

    def reload(self) -> None:
        self.choices = self.controller.compare_choices()
        self.source_box.clear()
        for s in self.choices:
            self.source_box.addItem(s.name_with_namespace, s.target)
        self.compare_button.setEnabled(bool(self.choices))
        if not self.choices:
            self.summary.setText(self.tr("There is no other source to compare with: add one with Sources…"))

    def select(self, target: str, namespace: str = "default") -> bool:
        for i, s in enumerate(self.choices):
            if s.target == target and s.namespace == namespace:
                self.source_box.setCurrentIndex(i)
                return True
        return False

    def run(self) -> None:
        index = self.source_box.currentIndex()
        if index < 0 or self.running:
            return
        other = self.choices[index]
        window = self.controller.window
        here = window.store
        self.running = True
        self.compare_button.setEnabled(False)
        self.outcome = None
        self.only_here.clear()
        self.only_there.clear()
        self.summary.setText(self.tr("Listing both sources…"))

        from ..fleet.settings import ssh_options
        ssh = ssh_options(window.ctx.settings) if other.is_ssh else None

        def work(job):
            from store.containerd.sources import compare
            that = sources.open_spec(other, ssh)
            try:
                return compare(here, that)
            finally:
                if that is not here and hasattr(that, "close") and getattr(that, "_owns_channel", True):
                    try:
                        that.close()
                    except Exception:  # noqa: BLE001 - a close failure changes no result
                        log.debug("closing %s failed", other.target, exc_info=True)

        def done(result):
            self.running = False
            self.compare_button.setEnabled(True)
            self.show_result(sources.describe(here), other, result)
            self.controller.compareDone.emit()

        def failed(error):
            self.running = False
            self.compare_button.setEnabled(True)
            self.summary.setText(self.tr("The comparison failed: {why}").format(why=str(error)))
            self.controller.compareDone.emit()

        window.runner.start("compare", work, on_done=done, on_error=failed)

    def show_result(self, here_name: str, other: Source, result) -> None:
        self.outcome = result
        there_name = other.name_with_namespace
        self.here_caption.setText(self.tr("Only in this source ({n}, {size})").format(
            n=len(result.only_a), size=fmt.size(result.only_a_bytes)))
        self.there_caption.setText(self.tr("Only in {other} ({n}, {size})").format(
            other=there_name, n=len(result.only_b), size=fmt.size(result.only_b_bytes)))
        self.summary.setText(self.tr("{here} and {there}: {both} blobs in both, {a} only here, {b} only there.")
                             .format(here=here_name, there=there_name, both=len(result.both),
                                     a=len(result.only_a), b=len(result.only_b)))
        for tree, infos in ((self.only_here, result.only_a), (self.only_there, result.only_b)):
            tree.setUpdatesEnabled(False)
            items = []
            for info in infos:
                labels = ", ".join(f"{k}={v}" for k, v in sorted(info.labels.items()))
                item = QTreeWidgetItem([str(info.digest), fmt.size(info.size), labels])
                item.setToolTip(0, str(info.digest))
                items.append(item)
            tree.addTopLevelItems(items)
            tree.setUpdatesEnabled(True)

    def digests(self, which: str) -> list[str]:
        tree = self.only_here if which == "here" else self.only_there
        items = (tree.topLevelItem(i) for i in range(tree.topLevelItemCount()))
        return [item.text(0) for item in items if item is not None]
