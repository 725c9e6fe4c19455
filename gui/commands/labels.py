"""actionEditLabels: edit the labels of the one selected blob in the label editor; the store
replaces them all at once."""

from __future__ import annotations

from .. import operations
from ..rows import BlobRow
from .base import Command


class EditLabels(Command):
    action = "actionEditLabels"

    def enabled(self) -> bool:
        return self.selected_blobs() == 1

    def trigger(self) -> None:
        ctx = self.ctx
        rows = ctx.selection.blob_rows()
        if len(rows) != 1 or self.store is None or not self.allowed():
            return
        row = rows[0]
        labels = ctx.dialogs.edit_labels(
            ctx.parent, self.tr("Labels of {short}").format(short=row.short), dict(row.labels),
            self.tr("Labels of {digest}. An empty table removes every label.").format(digest=row.digest))
        if labels is None or labels == row.labels:
            return
        store = self.store

        def done(new_row: BlobRow):
            ctx.blobs.replace_rows([new_row])
            ctx.referrers.invalidate()
            ctx.blobs_changed([new_row.digest])
            ctx.report.status(self.tr("Labels of {short} saved.").format(short=row.short), 5000)

        ctx.runner.start("labels", lambda job: operations.set_labels(store, row, labels), on_done=done,
                         on_error=lambda e: ctx.report.error(
                             self.tr("The labels of {digest} were not changed.").format(digest=row.digest), e))
