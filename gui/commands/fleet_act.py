"""The Fleet tab's write commands (design.md §5.3, docs/fleet.md §7-8): delete the selected
digests, abort stalled ingests, import a file, remove a lease -- on the selected nodes (every node
of the fleet when none is selected).

Each builds a ``store.fleet.actions.Action`` from what the person chose and hands it to the tab's
:meth:`FleetActHost.act`, which plans it on every target node, asks ONE confirmation listing the
nodes and their bytes, then executes and shows each node's result.  Bad input (a file that cannot
be read, an empty lease id) is a one-line error and starts nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from .. import fmt
from .base import Translated
from .fleet import FleetCommand, FleetHost

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from ..dialogs import DialogService


class FleetActHost(FleetHost, Protocol):
    """What the write commands use of the Fleet tab, on top of :class:`FleetHost`."""

    dialogs: DialogService

    @property
    def acting(self) -> bool: ...
    def has_nodes(self) -> bool: ...
    def selected_digests(self) -> list[str]: ...
    def act(self, action) -> None: ...
    def report_error(self, text: str) -> None: ...
    def parent_widget(self) -> QWidget: ...


class FleetActCommand(FleetCommand):
    host: FleetActHost

    def __init__(self, host: FleetActHost):
        super().__init__(host)

    def enabled(self) -> bool:
        return self.host.has_nodes() and not self.host.running and not self.host.acting

    def _start(self, make) -> None:
        from store import errors
        try:
            action = make()
        except errors.ContentError as exc:
            self.host.report_error(exc.message or str(exc))
            return
        self.host.act(action)


class DeleteOnNodes(FleetActCommand):
    """Delete the selected digests on the selected nodes."""

    action = "actionFleetDelete"

    def enabled(self) -> bool:
        return super().enabled() and bool(self.host.selected_digests())

    def trigger(self) -> None:
        if self.enabled():
            from store.fleet.actions import DeleteBlobs
            digests = self.host.selected_digests()
            self._start(lambda: DeleteBlobs(digests))


class AbortStalledOnNodes(FleetActCommand):
    """Abort every ingest not written to for 15 minutes on the selected nodes."""

    action = "actionFleetAbort"

    def trigger(self) -> None:
        if self.enabled():
            from store.fleet.actions import AbortIngests
            from store.fleet.queries import DEFAULT_STALLED_AFTER
            self._start(lambda: AbortIngests(older_than=DEFAULT_STALLED_AFTER))


class ImportOnNodes(FleetActCommand):
    """Import one local file (chosen in a file dialog) on the selected nodes, with the labels given in
    the label editor that follows (none: only ``containerd.io/gc.root``; Cancel there: no import)."""

    action = "actionFleetImport"

    def trigger(self) -> None:
        if not self.enabled():
            return
        files = self.host.dialogs.open_files(self.host.parent_widget(), self.tr("Import a file on the selected nodes"))
        if not files:
            return
        if len(files) > 1:
            self.host.report_error(self.tr("Choose one file: a fleet import takes one file at a time"))
            return
        labels = self.host.dialogs.edit_labels(
            self.host.parent_widget(), self.tr("Labels of the imported blob"), {},
            self.tr("Labels to give the blob on every selected node (containerd.io/gc.root is added anyway); "
                    "none is fine."))
        if labels is None:
            return
        from store.fleet.actions import ImportFile
        self._start(lambda: ImportFile(files[0], labels=labels or None))


class RemoveLeaseOnNodes(FleetActCommand):
    """Remove a lease (its id typed) on the selected nodes."""

    action = "actionFleetLeaseRm"

    def trigger(self) -> None:
        if not self.enabled():
            return
        lease = self.host.dialogs.ask_text(
            self.host.parent_widget(), self.tr("Remove a lease"), self.tr("Lease id to remove on the selected nodes:"))
        if lease is None:
            return
        from store.fleet.actions import RemoveLeases
        self._start(lambda: RemoveLeases([lease.strip()]))


class PlanText(Translated):
    """The confirmation of a ``FleetPlan``: its question, and every node that will be changed with
    its bytes, then those with nothing to do, then those that will not be touched."""

    def confirmation(self, plan) -> tuple[str, str]:
        from store.fleet.actions import skips_text
        ready = plan.ready
        text = self.tr("{action} on {n} of {total} nodes ({size} in all)?").format(
            action=plan.action.describe(), n=len(ready), total=len(plan.nodes), size=fmt.exact_size(plan.bytes))
        lines = []
        for p in ready:
            lines.append(self.tr("{node}: {size} ({steps} steps)").format(
                node=p.node.name, size=fmt.exact_size(p.bytes), steps=len(p.steps)))
        for p in plan.nodes:
            if p.ok and not p.steps:
                lines.append(self.tr("{node}: nothing to do ({why})").format(
                    node=p.node.name, why=skips_text(p.skipped) or self.tr("nothing matches")))
        for p in plan.nodes:
            if not p.ok:
                lines.append(self.tr("{node}: will not be touched: {why}").format(node=p.node.name, why=p.reason))
        return text, "\n".join(lines)


__all__ = ["FleetActHost", "FleetActCommand", "DeleteOnNodes", "AbortStalledOnNodes", "ImportOnNodes",
           "RemoveLeaseOnNodes", "PlanText"]
