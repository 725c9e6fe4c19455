"""The Fleet tab: every node of a fleet file at once (docs/fleet.md), filled as each node answers.

Top: the nodes (``node_table.py``); middle: every digest with its size and the nodes holding it
(``digest_model.py``), filtered by text, by the drift toggle and by scope (shared by every node /
unique to one) -- or, one click on *Image Drift*, the image names on some nodes and not on others
or on different digests (``image_model.py``); bottom: for the selected digest or image, the nodes
that hold it, lack it or did not answer, and those rows highlighted above.  The fleet file is read
on the job pool and the nodes are queried by a ``FleetQuery`` (a thread of its own); nothing here
waits on a node.  The query keeps each node's tunnel and event stream open, so Refresh lists only
the nodes that changed (or whose stream is down); Refresh Selected and Refresh All ask the others
too (docs/fleet.md §9).
"""

from __future__ import annotations

import logging
from typing import Callable, Sequence

from PySide6.QtCore import QItemSelection, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QSplitter,
    QStackedWidget,
    QTableView,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from .. import fmt
from ..actions import FLEET_SPECS, make_actions
from ..commands.fleet import (
    CancelFleet,
    OpenFleet,
    OpenFleetNode,
    RefreshAllFleet,
    RefreshFleet,
    RefreshSelectedFleet,
    ShowImageDrift,
)
from ..commands.fleet_act import AbortStalledOnNodes, DeleteOnNodes, ImportOnNodes, PlanText, RemoveLeaseOnNodes
from ..dialogs import DialogService
from .acting import EXECUTE, FleetActing
from .digest_model import DIGEST_ROLE, DigestTableModel
from .image_model import ImageDriftModel
from .node_table import NodeTable
from .query import FleetQuery

log = logging.getLogger(__name__)

REBUILD_MS = 150  # digest table rebuilds are coalesced while nodes finish


class FleetTab(QWidget):
    """See the module doc.  ``ssh_options()`` is called on the GUI thread at each run."""

    queryFinished = Signal()
    loadFailed = Signal(str)

    def __init__(self, runner, ssh_options: Callable[[], object], parent: QWidget | None = None, *,
                 open_address: Callable[[str, str], None] | None = None, dialogs: DialogService | None = None):
        super().__init__(parent)
        self.setObjectName("fleetTab")
        self.runner = runner  # the window's JobRunner: reads the fleet file
        self.ssh_options = ssh_options
        self.fleet_path: str | None = None
        self._merging = False      # a merge of the answers runs on the job pool
        self._merge_again = False  # answers arrived meanwhile: merge once more when it lands
        self._final = False        # the run ended: its last merge ends with queryFinished
        self.drift_count = 0
        self.nodes: list = []
        self.outcomes: dict[str, object] = {}
        self.query = FleetQuery(self)
        self.query.nodeEvent.connect(self._on_event)
        self.query.finished.connect(self._on_finished)
        self.query.planned.connect(self._on_planned_refresh)
        self.query.watched.connect(self._on_watch)
        self._asked: list[str] = []      # the next run: the nodes asked for, or all of them
        self._everything = False
        self._shown_namespace: str | None = None  # the namespace the rows show
        self.why: dict[str, str] = {}    # why each node was (or was not) listed by the last run
        self.open_command = OpenFleet(self)
        self.refresh_command = RefreshFleet(self)
        self.refresh_all_command = RefreshAllFleet(self)
        self.refresh_selected_command = RefreshSelectedFleet(self)
        self.cancel_command = CancelFleet(self)
        self.open_node_command = OpenFleetNode(self, open_address or (lambda _a, _n: None))
        self.images_command = ShowImageDrift(self)
        self.dialogs = dialogs or DialogService()
        self.acting_run = FleetActing(self)
        self.acting_run.nodeEvent.connect(self._on_act_event)
        self.acting_run.planned.connect(self._on_planned)
        self.acting_run.executed.connect(self._on_executed)
        self.delete_command = DeleteOnNodes(self)
        self.abort_command = AbortStalledOnNodes(self)
        self.import_command = ImportOnNodes(self)
        self.lease_command = RemoveLeaseOnNodes(self)
        self.last_plan = None     # the FleetPlan of the last action (shown in its confirmation)
        self.last_results: list = []

        self.toolbar = QToolBar(self)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        actions = make_actions(self, FLEET_SPECS)
        self.refresh_action = self._add(actions["actionFleetRefresh"], self.refresh_command.trigger)
        # Refresh Selected and Refresh All: the Refresh button's menu (the toolbar keeps its width)
        self.refresh_selected_action = actions["actionFleetRefreshSelected"]
        self.refresh_all_action = actions["actionFleetRefreshAll"]
        self.refresh_menu = QMenu(self)
        for act, command in ((self.refresh_selected_action, self.refresh_selected_command),
                             (self.refresh_all_action, self.refresh_all_command)):
            act.triggered.connect(lambda _checked=False, c=command: c.trigger())
            self.refresh_menu.addAction(act)
        self.refresh_action.setMenu(self.refresh_menu)
        button = self.toolbar.widgetForAction(self.refresh_action)
        if isinstance(button, QToolButton):
            button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.cancel_action = self._add(actions["actionFleetCancel"], self.cancel_command.trigger)
        self.drift_action = self._add(actions["actionFleetDrift"], self._on_drift)
        self.drift_action.setCheckable(True)
        self.images_action = actions["actionFleetImages"]
        self.images_action.setCheckable(True)
        self.images_action.triggered.connect(lambda checked=False: self.images_command.trigger(checked))
        self.toolbar.addAction(self.images_action)
        self.toolbar.addSeparator()
        self.delete_action = self._add(actions["actionFleetDelete"], self.delete_command.trigger)
        self.abort_action = self._add(actions["actionFleetAbort"], self.abort_command.trigger)
        self.import_action = self._add(actions["actionFleetImport"], self.import_command.trigger)
        self.lease_action = self._add(actions["actionFleetLeaseRm"], self.lease_command.trigger)
        self.namespace_box = QComboBox(self)
        self.namespace_box.setObjectName("fleetNamespaceBox")
        self.namespace_box.setEditable(True)
        self.namespace_box.addItems(["default", "k8s.io", "moby"])
        self.namespace_box.setMinimumContentsLength(10)
        self.namespace_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.namespace_box.setToolTip(self.tr("The containerd namespace asked on every node (Refresh applies a change)"))
        self.scope_box = QComboBox(self)
        self.scope_box.setObjectName("fleetScopeBox")
        for text, scope in ((self.tr("All digests"), "all"), (self.tr("Shared by every node"), "shared"),
                            (self.tr("Unique to one node"), "unique")):
            self.scope_box.addItem(text, scope)
        self.scope_box.currentIndexChanged.connect(self._on_scope)
        self.filter_edit = QLineEdit(self)
        self.filter_edit.setObjectName("fleetFilterEdit")
        self.filter_edit.setPlaceholderText(self.tr("Filter digests…"))
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._on_filter_text)
        # the namespace, scope and filter get a row of their own: beside the acting buttons they were
        # pushed behind the toolbar's overflow arrow at 1360 px (and more so in longer languages)
        self.filter_bar = QWidget(self)
        self.filter_bar.setObjectName("fleetFilterBar")
        bar = QHBoxLayout(self.filter_bar)
        bar.setContentsMargins(6, 2, 6, 2)
        caption = QLabel(self.tr("Namespace:"), self.filter_bar)
        bar.addWidget(caption)
        bar.addWidget(self.namespace_box)
        bar.addSpacing(12)
        bar.addWidget(self.scope_box)
        bar.addWidget(self.filter_edit, 1)

        self.summary = QLabel(self.tr("Open a fleet file with Sources…"), self)
        self.summary.setObjectName("fleetSummary")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setContentsMargins(6, 0, 6, 0)
        self.node_table = NodeTable(self)
        self.node_table.setToolTip(self.tr("Double-click a node to browse its store in the Blobs tab"))
        self.node_table.itemActivated.connect(lambda item, _col: self.open_node_command.trigger(item.text(0)))
        self.node_table.itemSelectionChanged.connect(self._update_actions)
        self.digests = DigestTableModel(self)
        self.digest_view = QTableView(self)
        self.digest_view.setObjectName("fleetDigestView")
        self.digest_view.setModel(self.digests)
        self.digest_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.digest_view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.digest_view.verticalHeader().hide()
        self.digest_view.horizontalHeader().setStretchLastSection(True)
        self.digest_view.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.digest_view.setColumnWidth(0, 300)
        self.digest_view.setColumnWidth(3, 260)
        self.digest_view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.digest_view.setWordWrap(False)
        self.digest_view.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.digest_view.selectionModel().selectionChanged.connect(self._on_digest_selected)
        self.digests.modelReset.connect(self._show_selected)
        self.images = ImageDriftModel(self)
        self.image_view = QTableView(self)
        self.image_view.setObjectName("fleetImageView")
        self.image_view.setModel(self.images)
        self.image_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.image_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.image_view.verticalHeader().hide()
        self.image_view.horizontalHeader().setStretchLastSection(True)
        self.image_view.setColumnWidth(0, 260)
        self.image_view.setColumnWidth(2, 200)
        self.image_view.setColumnWidth(3, 160)
        self.image_view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.image_view.setWordWrap(False)
        self.image_view.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.image_view.selectionModel().selectionChanged.connect(lambda *_a: self._show_selected())
        self.images.modelReset.connect(self._show_selected)
        self.middle = QStackedWidget(self)
        self.middle.addWidget(self.digest_view)
        self.middle.addWidget(self.image_view)
        self.details = QPlainTextEdit(self)
        self.details.setObjectName("fleetDetails")
        self.details.setReadOnly(True)
        self.details.setPlaceholderText(self.tr("Select a digest to see which nodes hold it."))
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.node_table)
        split.addWidget(self.middle)
        split.addWidget(self.details)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        split.setStretchFactor(2, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.filter_bar)
        layout.addWidget(self.summary)
        layout.addWidget(split, 1)

        self.rebuild_timer = QTimer(self)
        self.rebuild_timer.setSingleShot(True)
        self.rebuild_timer.setInterval(REBUILD_MS)
        self.rebuild_timer.timeout.connect(self._rebuild)
        self._update_actions()

    def _add(self, act: QAction, slot) -> QAction:
        act.triggered.connect(lambda _checked=False: slot())
        self.toolbar.addAction(act)
        return act

    def _on_drift(self) -> None:
        self.digests.set_filter(drift=self.drift_action.isChecked())

    @Slot(int)
    def _on_scope(self, _index: int) -> None:
        self.digests.set_filter(scope=self.scope_box.currentData())

    @Slot(str)
    def _on_filter_text(self, text: str) -> None:
        self.digests.set_filter(text=text)
        self.images.set_filter(text)

    @property
    def showing_images(self) -> bool:
        return self.middle.currentWidget() is self.image_view

    def show_images(self, on: bool) -> None:
        """The image drift table (``on``) or the digest table in the middle; the toggle follows."""
        self.images_action.setChecked(on)
        self.middle.setCurrentWidget(self.image_view if on else self.digest_view)
        self.filter_edit.setPlaceholderText(self.tr("Filter image names…") if on else self.tr("Filter digests…"))
        self.drift_action.setEnabled(not on)
        self.scope_box.setEnabled(not on)
        self._show_selected()

    # -- running -------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """A query, or the merge of its answers, is under way."""
        return self.query.running or self._merging

    @property
    def namespace(self) -> str:
        return self.namespace_box.currentText().strip() or "default"

    def set_namespace(self, namespace: str) -> None:
        self.namespace_box.setCurrentText(namespace or "default")

    def load(self, path: str) -> None:
        """Read the fleet file at ``path`` (job pool), then query its nodes in :attr:`namespace`."""
        from store.containerd import validate_namespace
        from store.fleet import read_fleet
        self.fleet_path = path
        try:
            validate_namespace(self.namespace)
        except Exception as e:  # noqa: BLE001 - shown, nothing started
            self.summary.setText(str(e))
            self._update_actions()
            return
        self.query.cancel()
        self.summary.setText(self.tr("Reading {path}…").format(path=path))

        def failed(error) -> None:
            self.summary.setText(self.tr("Cannot use the fleet file: {why}").format(why=str(error)))
            self.loadFailed.emit(str(error))
            self._update_actions()

        self.runner.start(f"read fleet {path}", lambda job: read_fleet(path), on_done=self.start, on_error=failed)

    def refresh(self, asked: Sequence[str] = (), *, everything: bool = False) -> None:
        """Read the fleet file again, then query the nodes that changed, those in ``asked``, or all."""
        if self.fleet_path is None:
            return
        self._asked, self._everything = list(asked), everything
        self.load(self.fleet_path)

    def selected_node_names(self) -> list[str]:
        return self.node_table.selected_nodes()

    def start(self, nodes: list) -> None:
        """Query ``nodes`` (``store.fleet.Node``) now.  The same nodes in the same namespace keep their
        rows, and only those that changed (or were asked for) are listed again; otherwise the rows are
        replaced and every node is listed."""
        asked, everything = self._asked, self._everything
        self._asked, self._everything = [], False
        names = [n.name for n in nodes]
        same = names == [n.name for n in self.nodes] and self.namespace == self._shown_namespace
        self.nodes = list(nodes)
        if not same:
            self.outcomes = {}
            self.node_table.set_nodes(names)
            self.digests.set_inventory([], [])
            self.images.set_rows([], {})
            self.drift_count = 0
            self.details.clear()
        self._shown_namespace = self.namespace
        self._final = False
        self.query.start(self.nodes, ssh=self.ssh_options(), namespace=self.namespace,
                         asked=[a for a in asked if a in names], everything=everything)
        self._show_summary()
        self._update_actions()

    def address_of(self, name: str) -> str | None:
        """The ``ssh://`` address of the node named ``name`` in the fleet file."""
        node = next((n for n in self.nodes if n.name == name), None)
        return str(node.address) if node is not None else None

    def cancel_query(self) -> None:
        self.query.cancel()
        if self.acting_run.running:
            self.acting_run.cancel()
        self.summary.setText(self.tr("Cancelling…"))

    def stop(self) -> None:
        """The window is closing: cancel the runs and wait (bounded) for their threads."""
        self.rebuild_timer.stop()
        self.query.stop()
        self.acting_run.stop()

    # -- acting on the selected nodes (docs/fleet.md §7-8) -----------------------------
    @property
    def acting(self) -> bool:
        """An action is being planned or executed (or waits for its confirmation)."""
        return self.acting_run.running or self._confirming

    _confirming = False

    def has_nodes(self) -> bool:
        return bool(self.nodes)

    def target_nodes(self) -> list:
        """The selected nodes, or every node of the fleet when none is selected."""
        chosen = set(self.node_table.selected_nodes())
        return [n for n in self.nodes if n.name in chosen] or list(self.nodes)

    def parent_widget(self) -> QWidget:
        return self

    def report_error(self, text: str) -> None:
        log.error("%s", text)
        self.dialogs.error(self, self.tr("Fleet"), text)

    def act(self, action) -> None:
        """Plan ``action`` on the target nodes (read-only), then confirm once, then execute."""
        nodes = self.target_nodes()
        self.last_plan, self.last_results = None, []
        log.info("fleet: planning %s on %d nodes", action.describe(), len(nodes))
        for n in nodes:
            self.node_table.show_action(n.name, "planning")
        self.acting_run.plan(nodes, action, ssh=self.ssh_options(), namespace=self.namespace)
        self.summary.setText(self.tr("Planning {action} on {n} nodes…").format(action=action.describe(),
                                                                              n=len(nodes)))
        self._update_actions()

    @Slot(str, object)
    def _on_act_event(self, phase: str, outcome) -> None:
        state = outcome.state.value
        if state in ("queued", "connecting", "listing"):
            self.node_table.show_action(outcome.node.name, "executing" if phase == EXECUTE else "planning",
                                        self.node_table.state_text(state))

    @Slot(object)
    def _on_planned(self, plan) -> None:
        if plan is None:
            self.report_error(self.tr("Planning the action failed (see the log); nothing was changed"))
            self._acted()
            return
        self.last_plan = plan
        for p in plan.nodes:
            if not p.ok:
                self.node_table.show_action(p.node.name, "failed", self.tr("not changed: {why}").format(why=p.reason))
            elif not p.steps:
                self.node_table.show_action(p.node.name, "skipped", self.tr("nothing to do"))
            else:
                self.node_table.show_action(p.node.name, "planned", fmt.exact_size(p.bytes))
        if self.acting_run.cancelled:
            self._not_executed(plan, self.tr("cancelled"))
            return
        text, detail = PlanText().confirmation(plan)
        if not plan.ready:
            log.info("fleet: %s: nothing to do\n%s", plan.action.describe(), detail)
            self.dialogs.info(self, self.tr("Nothing to do"), text + "\n\n" + detail)
            self._acted()
            return
        self._confirming = True
        try:
            yes = self.dialogs.confirm(self, self.tr("Act on the fleet"), text, detail,
                                       self.tr("Change {n} nodes").format(n=len(plan.ready)))
        finally:
            self._confirming = False
        if not yes:
            self._not_executed(plan, self.tr("not confirmed"))
            return
        log.info("fleet: %s on %d nodes", plan.action.describe(), len(plan.ready))
        for p in plan.ready:
            self.node_table.show_action(p.node.name, "executing")
        self.acting_run.execute(plan, ssh=self.ssh_options(), namespace=self.namespace)
        self._update_actions()

    def _not_executed(self, plan, why: str) -> None:
        log.info("fleet: %s %s: nothing was changed", plan.action.describe(), why)
        for p in plan.ready:
            self.node_table.show_action(p.node.name, "cancelled", self.tr("nothing was changed"))
        self._acted()

    @Slot(object)
    def _on_executed(self, results) -> None:
        if results is None:
            self.report_error(self.tr("The action failed (see the log)"))
            plan = self.last_plan  # what it may have changed before it failed: asked for again
            self._acted(refresh=True, asked=[p.node.name for p in plan.ready] if plan is not None else [])
            return
        self.last_results = list(results)
        acted = [r.node.name for r in results]
        for r in results:
            text = f"{r.reason}" if r.state != "done" else fmt.exact_size(r.bytes)
            self.node_table.show_action(r.node.name, r.state, text or "")
            level = logging.WARNING if r.state == "failed" else logging.INFO
            log.log(level, "fleet: %s: %s%s", r.node.name, r.state, f" ({r.reason})" if r.reason else "")
        self._acted(refresh=True, asked=acted)

    def _acted(self, *, refresh: bool = False, asked: Sequence[str] = ()) -> None:
        self._update_actions()
        self._show_summary()
        if refresh and self.fleet_path:  # what changed shows in the figures
            self.refresh(asked)  # an import publishes no event: the nodes acted on are asked for

    @Slot(int, object)
    def _on_planned_refresh(self, _gen: int, why: dict) -> None:
        """Which nodes this run lists (and why) and which keep their listing."""
        self.why = dict(why)
        for name, reason in why.items():
            self.node_table.show_refresh(name, reason)

    @Slot(object)
    def _on_watch(self, report) -> None:
        """A node's event stream said something between runs (a change, or that it went down)."""
        self.node_table.show_watch(report.node.name, report.watch.value, report.event.topic if report.event else None,
                                   report.reason)

    @Slot(int, object)
    def _on_event(self, _gen: int, outcome) -> None:
        self.outcomes[outcome.node.name] = outcome
        self.node_table.update_node(outcome, unchanged=self.why.get(outcome.node.name) == "unchanged")
        if outcome.state.value == "done":
            self.rebuild_timer.start()
        self._show_summary()

    @Slot(int, object)
    def _on_finished(self, _gen: int, outcomes) -> None:
        for o in outcomes:  # the last word of each node (cancelled ones that never ran, too)
            if self.outcomes.get(o.node.name) is not o:
                self.outcomes[o.node.name] = o
                self.node_table.update_node(o, unchanged=self.why.get(o.node.name) == "unchanged")
        self.rebuild_timer.stop()
        self._final = True
        self._rebuild()

    def _ordered(self) -> list:
        return [self.outcomes[n.name] for n in self.nodes if n.name in self.outcomes]

    def _rebuild(self) -> None:
        """Merge the answers so far into digest rows on the job pool (a fleet's inventories can hold
        millions of entries); one merge at a time, the latest answers win."""
        if self._merging:
            self._merge_again = True
            return
        self._merging = True
        self._merge_again = False
        gen = self.query.generation
        done = [o for o in self._ordered() if o.ok]

        def merge(_job):
            from store.fleet.queries import blob_rows, image_drift, image_failures, node_rows
            names = [o.node.name for o in done]
            rows = blob_rows(done)
            return (names, rows, node_rows(done), sum(1 for r in rows if len(r["nodes"]) < len(names)),
                    image_drift(done), image_failures(done))

        def landed(result) -> None:
            self._merging = False
            if gen == self.query.generation:
                names, rows, per_node, drift, images, images_failed = result
                self.digests.set_inventory(names, rows)
                self.images.set_rows(images, images_failed)
                self.node_table.set_unique(per_node)
                self.drift_count = drift
            self._merged()

        def failed(error) -> None:  # a bug in a summary: say so, keep the node rows
            self._merging = False
            log.error("merging the fleet's answers failed: %s", error)
            self._merged()

        self.runner.start("merge fleet answers", merge, on_done=landed, on_error=failed)

    def _merged(self) -> None:
        if self._merge_again:
            self._rebuild()
            return
        self._show_summary()
        if self._final and not self.query.running:
            self._final = False
            self._update_actions()
            self.queryFinished.emit()

    def _show_summary(self) -> None:
        states = [getattr(self.outcomes.get(n.name), "state", None) for n in self.nodes]
        values = [s.value if s is not None else "queued" for s in states]
        done, failed = values.count("done"), values.count("failed")
        rows, drift = self.digests.all_rows, self.drift_count
        text = self.tr("{done} of {n} nodes answered, {failed} failed; {digests} digests, {drift} not on every "
                       "answering node").format(done=done, n=len(self.nodes), failed=failed, digests=len(rows),
                                                drift=drift)
        if self.running:
            text = self.tr("Querying… {summary}").format(summary=text)
        self.summary.setText(text)

    def _update_actions(self) -> None:
        self.refresh_action.setEnabled(self.refresh_command.enabled())
        self.refresh_all_action.setEnabled(self.refresh_all_command.enabled())
        self.refresh_selected_action.setEnabled(self.refresh_selected_command.enabled())
        self.cancel_action.setEnabled(self.cancel_command.enabled())
        for act, command in ((self.delete_action, self.delete_command), (self.abort_action, self.abort_command),
                             (self.import_action, self.import_command), (self.lease_action, self.lease_command)):
            act.setEnabled(command.enabled())

    # -- which nodes hold the selected digest ------------------------------------------
    def select_digest(self, digest: str) -> bool:
        for i in range(self.digests.rowCount()):
            if self.digests.row_at(i)["digest"] == digest:
                self.digest_view.selectRow(i)
                return True
        return False

    def selected_digest(self) -> str | None:
        rows = self.digest_view.selectionModel().selectedRows()
        return rows[0].data(DIGEST_ROLE) if rows else None

    def selected_digests(self) -> list[str]:
        return [r.data(DIGEST_ROLE) for r in sorted(self.digest_view.selectionModel().selectedRows(),
                                                     key=lambda r: r.row())]

    @Slot(QItemSelection, QItemSelection)
    def _on_digest_selected(self, *_args) -> None:
        self._show_selected()
        self._update_actions()

    def select_image(self, name: str) -> bool:
        for i in range(self.images.rowCount()):
            if self.images.row_at(i)["name"] == name:
                self.image_view.selectRow(i)
                return True
        return False

    def _show_selected_image(self) -> None:
        rows = self.image_view.selectionModel().selectedRows()
        failed = [(o.node.name, o.reason or o.state.value) for o in self._ordered() if not o.ok]
        failed += list(self.images.failed.items())
        if not rows:
            self.node_table.highlight(set())
            self.details.setPlainText(self.tr("{n} image names are on some nodes and not on others, or on different "
                                              "digests.").format(n=self.images.rowCount()))
            return
        row = self.images.row_at(rows[0].row())
        lines = [row["name"], self.tr("Present on {n}:").format(n=len(row["present"])),
                 *[f"  {n}: {row['targets'][n]}" for n in row["present"]],
                 self.tr("Absent on {n}:").format(n=len(row["absent"])), *[f"  {n}" for n in row["absent"]]]
        if not row["same_target"]:
            lines.append(self.tr("The name points at {n} different digests.").format(
                n=len(set(row["targets"].values()))))
        if failed:
            lines += [self.tr("Not known (the node did not answer) {n}:").format(n=len(failed)),
                      *[f"  {n}: {why}" for n, why in failed]]
        self.details.setPlainText("\n".join(lines))
        self.node_table.highlight(set(row["present"]))

    def _show_selected(self) -> None:
        if self.showing_images:
            self._show_selected_image()
            return
        rows = self.digest_view.selectionModel().selectedRows()
        if not rows:
            self.node_table.highlight(set())
            self.details.clear()
            return
        row = self.digests.row_at(rows[0].row())
        absent = self.digests.absent(row)
        failed = [(o.node.name, o.reason or o.state.value) for o in self._ordered() if not o.ok]
        lines = [row["digest"],
                 self.tr("Present on {n}:").format(n=len(row["nodes"])), *[f"  {n}" for n in row["nodes"]],
                 self.tr("Absent on {n}:").format(n=len(absent)), *[f"  {n}" for n in absent]]
        if failed:
            lines += [self.tr("Not known (the node did not answer) {n}:").format(n=len(failed)),
                      *[f"  {n}: {why}" for n, why in failed]]
        self.details.setPlainText("\n".join(lines))
        self.node_table.highlight(set(row["nodes"]))


__all__ = ["FleetTab"]
