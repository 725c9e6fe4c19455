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
        rows = ctx.selection.blob_rows()
        if not rows or self.store is None or not self.allowed():
            return
        total = sum(r.size for r in rows)
        chosen = {r.digest for r in rows}
        roots = [r for r in rows if GC_ROOT in r.labels]
        refs = ctx.referrers.index()
        referenced = [(r, [p for p, _k in refs.get(r.digest, []) if p not in chosen]) for r in rows]
        referenced = [(r, ps) for r, ps in referenced if ps]
        text = self.tr("Delete {n} blob(s), {size} in total?").format(n=len(rows), size=fmt.size(total))
        notes = [self.tr("This cannot be undone.")]
        if roots:
            notes.append(self.tr("{n} of them are garbage-collection roots (containerd.io/gc.root): "
                                 "{list}").format(n=len(roots), list=", ".join(r.short for r in roots[:5])))
        if referenced:
            notes.append(self.tr("{n} of them are referenced by other blobs' "
                                 "containerd.io/gc.ref.content labels, which will then point at "
                                 "missing content: {list}").format(
                n=len(referenced), list=", ".join(f"{r.short} ← {fmt.short_digest(ps[0])}"
                                                  for r, ps in referenced[:5])))
        if not ctx.dialogs.confirm(ctx.parent, self.tr("Delete blobs"), text, "\n\n".join(notes),
                                   ok_text=self.tr("Delete")):
            return
        store = self.store
        digests = [r.digest for r in rows]

        def done(result: operations.BatchResult):
            ctx.blobs.remove_digests(result.done)
            ctx.referrers.invalidate()
            ctx.report.status(self.tr("Deleted {n} blob(s).").format(n=len(result.done)), 5000)
            if result.failed:
                ctx.report.batch(self.tr("{n} of {total} blob(s) could not be deleted.").format(
                    n=len(result.failed), total=len(digests)), result.failed)

        ctx.runner.start("delete", lambda job: operations.delete_blobs(store, digests, job),
                         on_done=done, on_error=lambda e: ctx.report.error(self.tr("Deleting failed."), e))
