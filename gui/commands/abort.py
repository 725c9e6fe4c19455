"""actionAbort: abort the selected ingests (and remove damaged ones), after one question."""

from __future__ import annotations

from .. import fmt, operations
from .base import Command


class AbortIngests(Command):
    action = "actionAbort"

    def enabled(self) -> bool:
        return self.store is not None and self.ctx.selection.ingest_count() > 0

    def trigger(self) -> None:
        ctx = self.ctx
        rows = ctx.selection.ingest_rows()
        if not rows or self.store is None or not self.allowed():
            return
        total = sum(r.offset for r in rows)
        text = self.tr("Abort {n} ingest(s) and remove {size} of partial data?").format(
            n=len(rows), size=fmt.size(total))
        detail = self.tr("An aborted ingest cannot be resumed; whoever was writing it has to start "
                         "again.")
        if not ctx.dialogs.confirm(ctx.parent, self.tr("Abort ingests"), text, detail,
                                   ok_text=self.tr("Abort")):
            return
        store = self.store
        refs = [r.ref for r in rows if r.broken is None]
        broken = [r.ref for r in rows if r.broken is not None]

        def done(result: operations.BatchResult):
            ctx.ingests.set_rows([r for r in ctx.ingests.rows() if r.ref not in result.done])
            ctx.report.status(self.tr("Aborted {n} ingest(s).").format(n=len(result.done)), 5000)
            ctx.actions_changed()
            if result.failed:
                ctx.report.batch(self.tr("{n} of {total} ingest(s) could not be aborted.").format(
                    n=len(result.failed), total=len(rows)), result.failed)

        ctx.runner.start("abort", lambda job: operations.abort_ingests(store, refs, broken, job),
                         on_done=done, on_error=lambda e: ctx.report.error(self.tr("Aborting failed."), e))
