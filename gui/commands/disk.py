"""The Disk tab's actions: analyse the open root again (actionAnalyseDisk) and copy the selected
item's "why is this alive" chain (actionCopyWhyChain).  Deleting stays out: an offline root is
read-only, and the tab says so."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from PySide6.QtGui import QGuiApplication

from .base import Command, CommandContext

if TYPE_CHECKING:
    from ..disk.controller import DiskAnalysis


class AnalyseDisk(Command):
    """Measure the open root (or plain store) again and show the Disk tab."""

    action = "actionAnalyseDisk"

    def __init__(self, ctx: CommandContext, analysis: DiskAnalysis, show_tab: Callable[[], None]):
        super().__init__(ctx)
        self.analysis = analysis
        self._show_tab = show_tab

    def enabled(self) -> bool:
        return self.store is not None and self.analysis.can_analyse()

    def trigger(self) -> None:
        if not self.enabled():
            self.ctx.report.status(self.tr("This store has no directory whose disk use Blobscope can measure."), 5000)
            return
        self._show_tab()
        self.analysis.start()


class CopyWhyChain(Command):
    """The selected Disk item's chain from a root, one link a line, onto the clipboard."""

    action = "actionCopyWhyChain"

    def __init__(self, ctx: CommandContext, analysis: DiskAnalysis):
        super().__init__(ctx)
        self.analysis = analysis

    def enabled(self) -> bool:
        node = self.analysis.tab.current_node()
        return node is not None and bool(node.why)

    def trigger(self) -> None:
        text = self.analysis.tab.details.chain_text()
        if not text:
            self.ctx.report.status(self.tr("The selected item has no chain to copy."), 3000)
            return
        QGuiApplication.clipboard().setText(text)
        self.ctx.report.status(self.tr("Copied the chain of {n} link(s).").format(n=text.count("\n") + 1), 3000)
