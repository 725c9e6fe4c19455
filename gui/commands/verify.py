"""actionVerify: re-hash the selected blobs (every blob when none is selected) on all cores,
with a progress bar and a Stop button in the status bar; mismatches are marked in red."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from .. import operations
from .base import Command, CommandContext

if TYPE_CHECKING:
    from PySide6.QtWidgets import QAbstractButton, QProgressBar

    from ..jobs import Job

log = logging.getLogger(__name__)


class Verify(Command):
    action = "actionVerify"

    def __init__(self, ctx: CommandContext, bar: QProgressBar, stop: QAbstractButton):
        super().__init__(ctx)
        self.bar, self.stop = bar, stop
        self.job: Job | None = None  # the verification running now; one at a time
        stop.clicked.connect(self.cancel)

    def enabled(self) -> bool:
        return self.store is not None and self.job is None and self.ctx.blobs.total_count > 0

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def trigger(self) -> None:
        ctx = self.ctx
        if self.store is None or self.job is not None:
            return
        rows = ctx.selection.blob_rows() or list(ctx.blobs.all_rows())
        if not rows:
            return
        digests = [r.digest for r in rows]
        sizes = {r.digest: r.size for r in rows}
        store = self.store
        self.bar.setRange(0, len(digests))
        self.bar.setValue(0)
        self.bar.show()
        self.stop.show()

        def progress(done, total):
            self.bar.setValue(done)
            self.bar.setFormat(self.tr("Verifying %v of %m"))

        def finish():
            self.job = None
            self.bar.hide()
            self.stop.hide()
            ctx.actions_changed()

        def done(results: dict):
            finish()
            ctx.blobs.mark_verified({d: ok for d, ok in results.items() if ok is not None})
            bad = [d for d, ok in results.items() if ok is False]
            checked = sum(1 for ok in results.values() if ok is not None)
            log.info("verified %d blobs, %d mismatches", checked, len(bad))
            ctx.report.status(self.tr("Verified {n} blob(s): {bad} mismatch(es).").format(
                n=checked, bad=len(bad)), 8000)
            if bad:
                ctx.dialogs.error(
                    ctx.parent, self.tr("Verification"),
                    self.tr("{n} blob(s) do not match their digest; they are marked in red.").format(n=len(bad)),
                    "\n".join(bad))
            ctx.blobs_changed(results)

        def failed(error):
            finish()
            ctx.report.error(self.tr("Verification failed."), error)

        self.job = ctx.runner.start("verify", lambda job: operations.verify_blobs(store, digests, job, sizes=sizes),
                                    on_done=done, on_error=failed, on_progress=progress)
        ctx.actions_changed()
