"""actionExport: save the one selected blob's bytes to a file the person names."""

from __future__ import annotations

import logging

from .. import fmt, operations
from .base import Command

log = logging.getLogger(__name__)


class ExportBlob(Command):
    action = "actionExport"

    def enabled(self) -> bool:
        return self.selected_blobs() == 1

    def trigger(self) -> None:
        ctx = self.ctx
        rows = ctx.selection.blob_rows()
        if len(rows) != 1 or self.store is None:
            return
        row = rows[0]
        target = ctx.dialogs.save_file(ctx.parent, self.tr("Export blob {short}").format(short=row.short),
                                       row.digest.split(":", 1)[-1])
        if not target:
            return
        store = self.store

        def done(size: int):
            ctx.report.status(self.tr("Exported {size} to {path}.").format(size=fmt.size(size), path=target), 5000)
            log.info("exported %s to %s", row.digest, target)

        ctx.runner.start("export", lambda job: operations.export_blob(store, row.digest, target, job),
                         on_done=done, on_error=lambda e: ctx.report.error(
                             self.tr("Exporting {digest} to {path} failed.").format(digest=row.digest,
                                                                                   path=target), e))
