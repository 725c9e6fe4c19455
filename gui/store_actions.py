"""What the window's actions do: ask (through the dialog service), run a job, update the models.

A mixin of :class:`gui.main_window.MainWindow`; it uses the window's models, views, job
runner and dialog service, and never touches the disk itself.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtGui import QGuiApplication

from . import fmt, operations
from .import_dialog import ImportProgressDialog
from .rows import GC_ROOT, BlobRow

log = logging.getLogger(__name__)


class StoreActions:
    """The handlers behind actionOpenStore, actionDelete, actionAbort, actionEditLabels,
    actionExport, actionVerify, actionImport, actionCopyDigest and actionAbout."""

    def choose_store(self) -> None:
        start = str(getattr(self.store, "root", "")) if self.store is not None else ""
        path = self.ctx.dialogs.open_directory(self, self.tr("Open a content store"), start)
        if path:
            self.open_store(path)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        for p in self.ctx.recent_stores():
            act = self.recent_menu.addAction(p)
            act.triggered.connect(lambda _c=False, p=p: self.open_store(p))
        if not self.recent_menu.actions():
            self.recent_menu.addAction(self.tr("(none)")).setEnabled(False)

    def copy_digests(self) -> None:
        rows = self.selected_blob_rows()
        if rows:
            QGuiApplication.clipboard().setText("\n".join(r.digest for r in rows))
            self.statusBar().showMessage(self.tr("Copied {n} digest(s).").format(n=len(rows)), 3000)

    def delete_selected(self) -> None:
        rows = self.selected_blob_rows()
        if not rows or self.store is None or not self.actions["actionDelete"].isEnabled():
            return
        total = sum(r.size for r in rows)
        chosen = {r.digest for r in rows}
        roots = [r for r in rows if GC_ROOT in r.labels]
        refs = self.referrers()
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
        if not self.ctx.dialogs.confirm(self, self.tr("Delete blobs"), text, "\n\n".join(notes),
                                        ok_text=self.tr("Delete")):
            return
        store = self.store
        digests = [r.digest for r in rows]

        def done(result: operations.BatchResult):
            self.blob_model.remove_digests(result.done)
            self._referrers = None
            self.statusBar().showMessage(self.tr("Deleted {n} blob(s).").format(n=len(result.done)), 5000)
            if result.failed:
                self._report_batch(self.tr("{n} of {total} blob(s) could not be deleted.").format(
                    n=len(result.failed), total=len(digests)), result.failed)

        self.runner.start("delete", lambda job: operations.delete_blobs(store, digests, job),
                          on_done=done, on_error=lambda e: self._report(self.tr("Deleting failed."), e))

    def abort_selected(self) -> None:
        rows = self.selected_ingest_rows()
        if not rows or self.store is None or not self.actions["actionAbort"].isEnabled():
            return
        total = sum(r.offset for r in rows)
        text = self.tr("Abort {n} ingest(s) and remove {size} of partial data?").format(
            n=len(rows), size=fmt.size(total))
        detail = self.tr("An aborted ingest cannot be resumed; whoever was writing it has to start "
                         "again.")
        if not self.ctx.dialogs.confirm(self, self.tr("Abort ingests"), text, detail,
                                        ok_text=self.tr("Abort")):
            return
        store = self.store
        refs = [r.ref for r in rows if r.broken is None]
        broken = [r.ref for r in rows if r.broken is not None]

        def done(result: operations.BatchResult):
            self.ingest_model.set_rows([r for r in self.ingest_model.rows() if r.ref not in result.done])
            self.statusBar().showMessage(self.tr("Aborted {n} ingest(s).").format(n=len(result.done)), 5000)
            self.update_actions()
            if result.failed:
                self._report_batch(self.tr("{n} of {total} ingest(s) could not be aborted.").format(
                    n=len(result.failed), total=len(rows)), result.failed)

        self.runner.start("abort", lambda job: operations.abort_ingests(store, refs, broken, job),
                          on_done=done, on_error=lambda e: self._report(self.tr("Aborting failed."), e))

    def edit_labels(self) -> None:
        rows = self.selected_blob_rows()
        if len(rows) != 1 or self.store is None or not self.actions["actionEditLabels"].isEnabled():
            return
        row = rows[0]
        labels = self.ctx.dialogs.edit_labels(
            self, self.tr("Labels of {short}").format(short=row.short), dict(row.labels),
            self.tr("Labels of {digest}. An empty table removes every label.").format(digest=row.digest))
        if labels is None or labels == row.labels:
            return
        store = self.store

        def done(new_row: BlobRow):
            self.blob_model.replace_rows([new_row])
            self._referrers = None
            if self.details.current == new_row.digest:
                self.details.current = None
                self._on_blob_selection()
            self.statusBar().showMessage(self.tr("Labels of {short} saved.").format(short=row.short), 5000)

        self.runner.start("labels", lambda job: operations.set_labels(store, row, labels), on_done=done,
                          on_error=lambda e: self._report(
                              self.tr("The labels of {digest} were not changed.").format(digest=row.digest), e))

    def export_blob(self) -> None:
        rows = self.selected_blob_rows()
        if len(rows) != 1 or self.store is None:
            return
        row = rows[0]
        target = self.ctx.dialogs.save_file(self, self.tr("Export blob {short}").format(short=row.short),
                                            row.digest.split(":", 1)[-1])
        if not target:
            return
        store = self.store

        def done(size: int):
            self.statusBar().showMessage(self.tr("Exported {size} to {path}.").format(
                size=fmt.size(size), path=target), 5000)
            log.info("exported %s to %s", row.digest, target)

        self.runner.start("export", lambda job: operations.export_blob(store, row.digest, target, job),
                          on_done=done, on_error=lambda e: self._report(
                              self.tr("Exporting {digest} to {path} failed.").format(digest=row.digest,
                                                                                    path=target), e))

    def verify(self) -> None:
        if self.store is None or self._verify_job is not None:
            return
        rows = self.selected_blob_rows() or list(self.blob_model.all_rows())
        if not rows:
            return
        digests = [r.digest for r in rows]
        sizes = {r.digest: r.size for r in rows}
        store = self.store
        self.verify_bar.setRange(0, len(digests))
        self.verify_bar.setValue(0)
        self.verify_bar.show()
        self.verify_cancel.show()

        def progress(done, total):
            self.verify_bar.setValue(done)
            self.verify_bar.setFormat(self.tr("Verifying %v of %m"))

        def finish():
            self._verify_job = None
            self.verify_bar.hide()
            self.verify_cancel.hide()
            self.update_actions()

        def done(results: dict):
            finish()
            self.blob_model.mark_verified({d: ok for d, ok in results.items() if ok is not None})
            bad = [d for d, ok in results.items() if ok is False]
            checked = sum(1 for ok in results.values() if ok is not None)
            log.info("verified %d blobs, %d mismatches", checked, len(bad))
            self.statusBar().showMessage(self.tr("Verified {n} blob(s): {bad} mismatch(es).").format(
                n=checked, bad=len(bad)), 8000)
            if bad:
                self.ctx.dialogs.error(
                    self, self.tr("Verification"),
                    self.tr("{n} blob(s) do not match their digest; they are marked in red.").format(n=len(bad)),
                    "\n".join(bad))
            if self.details.current in results:
                self.details.current = None
                self._on_blob_selection()

        def failed(error):
            finish()
            self._report(self.tr("Verification failed."), error)

        self._verify_job = self.runner.start("verify", lambda job: operations.verify_blobs(store, digests, job, sizes=sizes),
                                             on_done=done, on_error=failed, on_progress=progress)
        self.update_actions()

    def _cancel_verify(self) -> None:
        if self._verify_job is not None:
            self._verify_job.cancel()

    def import_files(self) -> None:
        if self.store is None or not self.actions["actionImport"].isEnabled():
            return
        paths = self.ctx.dialogs.open_files(self, self.tr("Import files into the store"))
        if paths:
            self.import_paths(paths)

    def import_paths(self, paths: list[str], labels: dict[str, str] | None = None) -> None:
        if self.store is None or getattr(self.store, "read_only", False):
            return
        if labels is None:
            labels = self.ctx.dialogs.edit_labels(
                self, self.tr("Labels for the imported content"), {},
                self.tr("Labels to put on {n} imported file(s); leave empty for none.").format(n=len(paths)))
            if labels is None:
                return
        store = self.store
        dlg = ImportProgressDialog(self)
        self.import_dialog = dlg
        state = {"job": None, "imported": []}
        dlg.cancelRequested.connect(lambda: state["job"] and state["job"].cancel())

        def start(i: int):
            if i >= len(paths):
                finish()
                return
            path = paths[i]
            dlg.start_file(Path(path).name, i + 1, len(paths))
            state["job"] = self.runner.start(
                f"import {path}", lambda job: operations.import_one(store, path, labels, job),
                on_done=lambda row: (state["imported"].append(row), self.blob_model.append_rows([row]),
                                     start(i + 1)),
                on_error=lambda e: failed(path, e), on_progress=dlg.set_progress)

        def finish():
            dlg.done(0)
            self.import_dialog = None
            self._referrers = None
            n = len(state["imported"])
            self.statusBar().showMessage(self.tr("Imported {n} file(s).").format(n=n), 5000)
            log.info("imported %d file(s)", n)

        def failed(path, error):
            from store import errors
            dlg.done(0)
            self.import_dialog = None
            self.scanner.poll_ingests()
            if isinstance(error, errors.Cancelled):
                log.info("import of %s cancelled; the ingest is kept and resumes on the next import", path)
                self.statusBar().showMessage(self.tr("Import cancelled; importing the same file again "
                                                     "resumes it."), 8000)
                return
            self._report(self.tr("Importing {path} failed.").format(path=path), error)

        dlg.show()
        start(0)

    def about(self) -> None:
        from store import __version__
        self.ctx.dialogs.info(self, self.tr("About Blobscope"), self.tr(
            "Blobscope {version}\nA browser for containerd content stores.\nLicensed under the "
            "Apache License 2.0.").format(version=__version__))

    def _focus_filter(self) -> None:
        self.filter_edit.setFocus()
        self.filter_edit.selectAll()
