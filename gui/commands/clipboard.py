"""actionCopyDigest: the selected blobs' digests onto the clipboard, one a line."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication

from .base import Command


class CopyDigests(Command):
    action = "actionCopyDigest"

    def enabled(self) -> bool:
        return self.selected_blobs() > 0

    def trigger(self) -> None:
        rows = self.ctx.selection.blob_rows()
        if rows:
            QGuiApplication.clipboard().setText("\n".join(r.digest for r in rows))
            self.ctx.report.status(self.tr("Copied {n} digest(s).").format(n=len(rows)), 3000)
