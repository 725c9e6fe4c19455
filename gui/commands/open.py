"""Opening a store and reading it again: actionOpenStore, File ▸ Open Recent, actionRefresh, and
the opener behind them that opens a directory on a worker (it may create one)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from .base import Command, CommandContext, Translated

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMenu

    from store.api import BlobscopeStore


class OpenTarget(Translated):
    """Open a store directory or containerd root with the app's (injectable) opener, on a worker;
    ``use(store, target)`` switches the window to it, ``failed(message)`` is told when it cannot."""

    def __init__(self, ctx: CommandContext, use: Callable[[BlobscopeStore, str], None],
                 failed: Callable[[str], None]):
        self.ctx = ctx
        self._use, self._failed = use, failed

    def run(self, path: str) -> None:
        path = str(path)
        report = self.ctx.report
        report.activity(self.tr("Opening…"))

        def failed(error):
            report.activity("")
            report.error(self.tr("Could not open the store at {path}.").format(path=path), error,
                         hint=self.tr("Check that the directory exists and that you may read it."))
            self._failed(str(error))

        open_store = self.ctx.app.open_store
        self.ctx.runner.start(f"open {path}", lambda job: open_store(path),
                              on_done=lambda store: self._use(store, path), on_error=failed)


class OpenStore(Command):
    """Ask for a directory and open it (``open_path`` is the window's: a saved source's settings apply)."""

    action = "actionOpenStore"

    def __init__(self, ctx: CommandContext, open_path: Callable[[str], None]):
        super().__init__(ctx)
        self._open = open_path

    def trigger(self) -> None:
        store = self.store
        start = str(getattr(store, "root", "")) if store is not None else ""
        path = self.ctx.dialogs.open_directory(self.ctx.parent, self.tr("Open a content store"), start)
        if path:
            self._open(path)


class RecentStores(Translated):
    """File ▸ Open Recent, filled from the settings each time it is shown."""

    def __init__(self, ctx: CommandContext, open_path: Callable[[str], None]):
        self.ctx = ctx
        self._open = open_path

    def fill(self, menu: QMenu) -> None:
        menu.clear()
        for p in self.ctx.app.recent_stores():
            act = menu.addAction(p)
            act.triggered.connect(lambda _c=False, p=p: self._open(p))
        if not menu.actions():
            menu.addAction(self.tr("(none)")).setEnabled(False)


class Refresh(Command):
    """Read the store again (``rescan`` is the window's: the scan is its business)."""

    action = "actionRefresh"

    def __init__(self, ctx: CommandContext, rescan: Callable[[], None]):
        super().__init__(ctx)
        self._rescan = rescan

    def enabled(self) -> bool:
        return self.store is not None

    def trigger(self) -> None:
        if self.store is not None:
            self._rescan()
