"""actionDelete: delete the selected blobs, after one question for the whole selection that names
its size, the garbage-collection roots in it and the blobs whose labels point into it."""

from __future__ import annotations

from .. import fmt, operations
from ..rows import GC_ROOT
from .base import Command


class DeleteBlobs(Command):
    action = "actionDelete"

    def enabled(self) -> bool:
        return self.selected_blobs() > 0

    def trigger(self) -> None:
        ctx = self.ctx
        rids = ctx.selection.blob_rids()
        if not rids or self.store is None or not self.allowed():
            return
        # worked out from the columns (gui/blobs/columns.py): 100k selected blobs make no row objects
        cols = ctx.blobs.columns
        total = ctx.blobs.total_rows_of(rids)
        sets = cols.tables.label_sets
        root_sets = {lid for lid in range(len(sets)) if sets.value(lid, GC_ROOT) is not None}
        roots = [rid for rid in rids if cols.lids[rid] in root_sets] if root_sets else []
        digests = cols.digests_of(rids)
        chosen: set[str] | None = None  # made only when some blob is referenced (5-12 ms at 100k)
        referenced = []
        for d, refs in ctx.referrers.referencing(digests).items():
            if chosen is None:
                chosen = set(digests)
            parents = [p for p, _k in refs if p not in chosen]
            if parents:
                referenced.append((d, parents))
        text = self.tr("Delete {n} blob(s), {size} in total?").format(n=len(rids), size=fmt.size(total))
        notes = [self.tr("This cannot be undone.")]
        if roots:
            notes.append(self.tr("{n} of them are garbage-collection roots (containerd.io/gc.root): "
                                 "{list}").format(n=len(roots), list=", ".join(
                                     fmt.short_digest(cols.digest_of(r)) for r in roots[:5])))
        if referenced:
            notes.append(self.tr("{n} of them are referenced by other blobs' "
                                 "containerd.io/gc.ref.content labels, which will then point at "
                                 "missing content: {list}").format(
                n=len(referenced), list=", ".join(f"{fmt.short_digest(d)} ← {fmt.short_digest(ps[0])}"
                                                  for d, ps in referenced[:5])))
        if not ctx.dialogs.confirm(ctx.parent, self.tr("Delete blobs"), text, "\n\n".join(notes),
                                   ok_text=self.tr("Delete")):
            return
        store = self.store

        def done(result: operations.BatchResult):
            ctx.blobs.remove_digests(result.done)
            ctx.referrers.invalidate()
            ctx.report.status(self.tr("Deleted {n} blob(s).").format(n=len(result.done)), 5000)
            if result.failed:
                ctx.report.batch(self.tr("{n} of {total} blob(s) could not be deleted.").format(
                    n=len(result.failed), total=len(digests)), result.failed)

        ctx.runner.start("delete", lambda job: operations.delete_blobs(store, digests, job),
                         on_done=done, on_error=lambda e: ctx.report.error(self.tr("Deleting failed."), e))
