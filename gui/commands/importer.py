"""actionImport and drag-and-drop: import files into the store one after the other, with the
labels asked for once, in a progress dialog whose Cancel leaves a resumable ingest."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .. import operations
from ..ingests.import_dialog import ImportProgressDialog
from .base import Command, CommandContext

if TYPE_CHECKING:
    from ..rows import BlobRow

log = logging.getLogger(__name__)


class ImportFiles(Command):
    action = "actionImport"

    def __init__(self, ctx: CommandContext, poll_ingests: Callable[[], None]):
        super().__init__(ctx)
        self._poll_ingests = poll_ingests  # a cancelled import leaves an ingest: list it now
        self.dialog: ImportProgressDialog | None = None  # the progress dialog of the import running now

    def enabled(self) -> bool:
        return self.store is not None

    def trigger(self) -> None:
        if self.store is None or not self.allowed():
            return
        paths = self.ctx.dialogs.open_files(self.ctx.parent, self.tr("Import files into the store"))
        if paths:
            self.run(paths)

    def run(self, paths: list[str], labels: dict[str, str] | None = None) -> None:
        """Import ``paths`` (dropped on the window, or chosen); ``labels`` None asks for them."""
        ctx = self.ctx
        if self.store is None or getattr(self.store, "read_only", False):
            return
        if labels is None:
            labels = ctx.dialogs.edit_labels(
                ctx.parent, self.tr("Labels for the imported content"), {},
                self.tr("Labels to put on {n} imported file(s); leave empty for none.").format(n=len(paths)))
            if labels is None:
                return
        store = self.store
        dlg = ImportProgressDialog(ctx.parent)
        self.dialog = dlg
        state: dict = {"job": None, "imported": []}
        dlg.cancelRequested.connect(lambda: state["job"] and state["job"].cancel())

        def start(i: int):
            if i >= len(paths):
                finish()
                return
            path = paths[i]
            dlg.start_file(Path(path).name, i + 1, len(paths))
            state["job"] = ctx.runner.start(
                f"import {path}", lambda job: operations.import_one(store, path, labels, job),
                on_done=lambda row: imported(row, i), on_error=lambda e: failed(path, e),
                on_progress=dlg.set_progress)

        def imported(row: BlobRow, i: int):
            state["imported"].append(row)
            ctx.blobs.append_rows([row])
            start(i + 1)

        def finish():
            dlg.done(0)
            self.dialog = None
            ctx.referrers.invalidate()
            n = len(state["imported"])
            ctx.report.status(self.tr("Imported {n} file(s).").format(n=n), 5000)
            log.info("imported %d file(s)", n)

        def failed(path: str, error):
            from store import errors
            dlg.done(0)
            self.dialog = None
            self._poll_ingests()
            if isinstance(error, errors.Cancelled):
                log.info("import of %s cancelled; the ingest is kept and resumes on the next import", path)
                ctx.report.status(self.tr("Import cancelled; importing the same file again resumes it."), 8000)
                return
            ctx.report.error(self.tr("Importing {path} failed.").format(path=path), error)

        dlg.show()
        start(0)

