"""The Disk tab's actions that change something, each only where it is Blobscope's to do:
remove a lease and a blob's gc.root label through a running daemon, ask it for a garbage
collection now (predicted, confirmed with the bytes per kind, measured after), and delete an
orphaned snapshot directory of a stopped root.  Each asks once with the bytes; each is off,
with a tooltip saying why, where it does not apply.  The library calls run on the job runner
(gui/disk/acting.py, store/disk/gc_pass.py); the tab is analysed again afterwards."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from store.disk import gc_pass
from store.disk.gc import KINDS

from .. import fmt
from ..disk import acting
from .base import Command, CommandContext

if TYPE_CHECKING:
    from ..disk.controller import DiskAnalysis
    from ..disk.disk_tree import DiskNode

log = logging.getLogger(__name__)


class DiskAction(Command):
    """What the four share: the analysis they act from, one job at a time, the reason when off."""

    def __init__(self, ctx: CommandContext, analysis: DiskAnalysis):
        super().__init__(ctx)
        self.analysis = analysis
        self.busy = False
        self.last_result: gc_pass.PassResult | None = None  # the last pass's figures (RunGarbageCollection)

    def node(self) -> DiskNode | None:
        return self.analysis.tab.current_node()

    def why_not(self) -> str:
        """Why the action does not apply now ("" when it does)."""
        return ""

    def disabled_reason(self) -> str:
        return self.why_not()

    def enabled(self) -> bool:
        return not self.busy and not self.analysis.running and not self.why_not()

    def _live_reason(self) -> str:
        if not self.analysis.live:
            return self.tr("Only through a running daemon: open its address (unix:// or ssh://) to do this.")
        return ""

    def _start(self, name: str, work, done, what_failed: str) -> None:
        self.busy = True
        self.ctx.actions_changed()

        def finished(value):
            self.busy = False
            done(value)
            self.ctx.actions_changed()

        def failed(error):
            self.busy = False
            self.ctx.report.error(what_failed, error)
            self.ctx.actions_changed()
            self.analysis.start()  # what failed may have moved the picture: show the daemon's now

        self.ctx.runner.start(name, work, on_done=finished, on_error=failed)

    def _changed(self, text: str) -> None:
        log.info("%s", text)
        self.ctx.report.status(text, 8000)
        self.analysis.start()


class RemoveLease(DiskAction):
    action = "actionRemoveLease"

    def why_not(self) -> str:
        if reason := self._live_reason():
            return reason
        if acting.lease_of(self.node()) is None:
            return self.tr("Select a lease, or an item whose chain starts at a lease (an expired lease goes "
                           "with the next collection anyway).")
        return ""

    def trigger(self) -> None:
        target = acting.lease_of(self.node())
        store = self.store
        if target is None or store is None or not self.allowed():
            return
        ns, lid = target
        address = self.analysis.target.address
        ctx = self.ctx

        def ask(hold: acting.LeaseHold) -> None:
            text = self.tr("Remove lease {lease} in namespace {ns}? What only it keeps, {n} record(s) of {size}, "
                           "is freed by the next garbage collection.").format(
                lease=lid, ns=ns, n=hold.records, size=fmt.size(hold.bytes))
            if not ctx.dialogs.confirm(ctx.parent, self.tr("Remove lease"), text, ok_text=self.tr("Remove")):
                ctx.report.status(self.tr("Nothing was changed."), 5000)
                return
            self._start("remove lease", lambda job: acting.delete_lease(store, ns, lid),
                        lambda _r: self._changed(self.tr("Lease {lease} removed; {size} is freed by the next "
                                                         "garbage collection.").format(lease=lid,
                                                                                       size=fmt.size(hold.bytes))),
                        self.tr("Removing lease {lease} failed.").format(lease=lid))

        self._start("lease hold", lambda job: acting.lease_hold(address, ns, lid), ask,
                    self.tr("Reading what lease {lease} keeps failed.").format(lease=lid))


class RemoveGcRoot(DiskAction):
    action = "actionRemoveGcRoot"

    def why_not(self) -> str:
        if reason := self._live_reason():
            return reason
        if acting.gc_root_of(self.node()) is None:
            return self.tr("The selected item's chain does not start at a blob labelled containerd.io/gc.root.")
        return ""

    def trigger(self) -> None:
        node = self.node()
        target = acting.gc_root_of(node)
        store = self.store
        if node is None or target is None or store is None or not self.allowed():
            return
        ns, digest = target
        root = self.analysis.tab.tree.find(f"blob:{digest}") if self.analysis.tab.tree is not None else None
        size = fmt.size(root.bytes if root is not None else 0)
        ctx = self.ctx
        text = self.tr("Remove the label containerd.io/gc.root from blob {digest} ({size}) in namespace {ns}? "
                       "Unless something else keeps it, the next garbage collection frees it and what only it "
                       "references.").format(digest=digest, size=size, ns=ns)
        if not ctx.dialogs.confirm(ctx.parent, self.tr("Remove gc.root label"), text, ok_text=self.tr("Remove")):
            ctx.report.status(self.tr("Nothing was changed."), 5000)
            return
        self._start("remove gc.root", lambda job: acting.remove_gc_root(store, ns, digest),
                    lambda _r: self._changed(self.tr("Label containerd.io/gc.root removed from {digest}.").format(
                        digest=digest)),
                    self.tr("Removing the label of {digest} failed.").format(digest=digest))


class RunGarbageCollection(DiskAction):
    action = "actionRunGc"

    def why_not(self) -> str:
        return self._live_reason()

    def trigger(self) -> None:
        if self.store is None or not self.allowed():
            return
        address = self.analysis.target.address
        ctx = self.ctx
        names = {"blob": self.tr("blobs"), "snapshot": self.tr("snapshots"), "lease": self.tr("leases"),
                 "ingest": self.tr("ingests")}

        def lines(figures: dict[str, tuple[int, int]]) -> list[str]:
            return [self.tr("{kind}: {n} record(s), {size}").format(kind=names[k], n=figures[k][0],
                                                                   size=fmt.size(figures[k][1])) for k in KINDS]

        def ask(prediction: gc_pass.Prediction) -> None:
            text = "\n".join([self.tr("Ask containerd for a garbage collection now? The dry run predicts it frees "
                                      "{size}:").format(size=fmt.size(prediction.bytes)), *lines(prediction.per_kind)])
            detail = self.tr("Every namespace is collected. The picture is live: a pull or a delete meanwhile can "
                             "change what goes.")
            if not ctx.dialogs.confirm(ctx.parent, self.tr("Run garbage collection"), text, detail,
                                       ok_text=self.tr("Collect")):
                ctx.report.status(self.tr("Nothing was changed."), 5000)
                return
            self._start("gc pass", lambda job: gc_pass.run_pass(address, prediction), shown,
                        self.tr("The garbage collection failed."))

        def shown(result: gc_pass.PassResult) -> None:
            rows = [self.tr("{kind}: predicted {p_n} record(s), {p_size}; measured {m_n} record(s), {m_size}").format(
                kind=names[k], p_n=result.predicted[k][0], p_size=fmt.size(result.predicted[k][1]),
                m_n=result.measured[k][0], m_size=fmt.size(result.measured[k][1])) for k in KINDS]
            text = "\n".join([self.tr("Garbage collection done: measured {measured} freed, predicted {predicted}.")
                              .format(measured=fmt.size(result.measured_bytes),
                                      predicted=fmt.size(result.predicted_bytes)), *rows])
            moved = len(result.deleted_unpredicted) + len(result.predicted_not_deleted)
            if moved:
                text += "\n" + self.tr("{n} record(s) differ from the prediction: the live picture moved "
                                       "meanwhile.").format(n=moved)
            self.last_result = result
            self._changed(text.splitlines()[0])
            log.info("%s", text)
            ctx.dialogs.info(ctx.parent, self.tr("Garbage collection"), text)

        self._start("gc prediction", lambda job: gc_pass.predict(address), ask,
                    self.tr("Predicting the garbage collection failed."))


class DeleteOrphanDir(DiskAction):
    action = "actionDeleteOrphanDir"

    def why_not(self) -> str:
        a = self.analysis
        if a.live:
            return self.tr("A running daemon's snapshot directories are never deleted behind its back; open "
                           "its root once it is stopped.")
        if a.target.path is None or a.target.kind != "root":
            return self.tr("Only an offline containerd root has snapshot directories to delete.")
        if a.root_busy:
            return self.tr("Nothing is deleted from this root: {reason}; stop it first.").format(reason=a.root_busy)
        if acting.orphan_of(self.node()) is None:
            return self.tr("Select an orphaned snapshot directory (one its snapshotter has no record of).")
        return ""

    def trigger(self) -> None:
        node = self.node()
        target = acting.orphan_of(node)
        root = self.analysis.target.path
        if node is None or target is None or root is None or not self.allowed():
            return
        sn, sid = target
        ctx = self.ctx

        def ask(found) -> None:
            text = self.tr("Delete the orphaned snapshot directory {path} ({size})? No {sn} record names it; "
                           "this cannot be undone.").format(path=str(found.path), size=fmt.size(found.bytes), sn=sn)
            if not ctx.dialogs.confirm(ctx.parent, self.tr("Delete orphaned snapshot directory"), text,
                                       ok_text=self.tr("Delete")):
                ctx.report.status(self.tr("Nothing was changed."), 5000)
                return
            self._start("delete orphan", lambda job: acting.delete_orphan(root, sn, sid),
                        lambda freed: self._changed(self.tr("Deleted {path}: {size} freed.").format(
                            path=str(found.path), size=fmt.size(freed))),
                        self.tr("Deleting {path} failed.").format(path=str(found.path)))

        self._start("check orphan", lambda job: acting.check_orphan(root, sn, sid), ask,
                    self.tr("The directory cannot be deleted."))


__all__ = ["DeleteOrphanDir", "DiskAction", "RemoveGcRoot", "RemoveLease", "RunGarbageCollection"]
