"""The main window: source bar, blobs and ingests tables, details, status bar, log dock."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from PySide6.QtCore import QByteArray, QCoreApplication, QItemSelectionModel, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QProgressBar,
    QSizePolicy,
    QSplitter,
    QTableView,
    QTabWidget,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from store import LocalStore
from store.ingest import ref_hash

from . import commands as cmd
from . import fmt, operations
from .actions import make_actions
from .blobs.blob_model import (
    COL_CREATED,
    COL_DIGEST,
    COL_LABELS,
    COL_MEDIA,
    COL_SIZE,
    COL_UPDATED,
    REMOVE_CHUNK,
    BlobTableModel,
)
from .blobs.delegates import ProgressDelegate
from .blobs.filtering import FilterError, compile_filter
from .blobs.referrers import ReferrerIndex
from .changes import DiskChanges
from .context import AppContext
from .details.details_pane import DetailsPane
from .disk.controller import DiskAnalysis
from .disk.disk_tab import DiskTab
from .images.image_graph import ImageGraph
from .images.images_view import ImagesPanel
from .ingests.ingest_model import COL_PROGRESS, COL_REF, COL_STARTED, COL_STATE, IngestTableModel
from .ingests.ingest_model import COL_UPDATED as ICOL_UPDATED
from .jobs import Job, JobRunner
from .logdock import LogDock
from .resources import app_icon, icon
from .scanner import StoreScanner
from .sources import opening as sources
from .watcher import StoreWatcher

if TYPE_CHECKING:
    from store.api import BlobscopeStore

log = logging.getLogger(__name__)

FILTER_DELAY_MS = 150   # typing in the filter box re-filters at most this often
FILTER_BUSY_MS = 400    # a background filter or sort running longer than this is shown under the box
PREVIEW_DELAY_MS = 80   # moving the selection quickly reads only the blob it stops on
CLASSIFY_DELAY_MS = 1000  # new blobs named by the watch: a burst of them is recognised at once
# after a full listing: the workers read in other processes, so a short breath for the first clicks;
# a whole second here was a quarter of the cold graph's 4 s budget at 100k blobs (bench_graph_gui.py)
LISTED_CLASSIFY_DELAY_MS = 200


class _Table(QTableView):
    """A table set up for 100k rows: fixed row height, no word wrap, no measuring."""

    def __init__(self, name: str, parent: QWidget):
        super().__init__(parent)
        self.setObjectName(name)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setWordWrap(False)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        vh = self.verticalHeader()
        vh.setVisible(False)
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vh.setDefaultSectionSize(self.fontMetrics().height() + 8)
        hh = self.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        hh.setStretchLastSection(True)
        hh.setSortIndicatorShown(True)
        hh.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)

    def setModel(self, model) -> None:  # noqa: N802 - Qt's name
        super().setModel(model)
        # The header paints each section asking the view's selection whether the whole column
        # is selected: three Python calls per selected row and column, seconds for 100k selected
        # rows at every repaint.  Sorting does not select columns, so the header gets a selection
        # of its own that stays empty.
        self.horizontalHeader().setSelectionModel(QItemSelectionModel(model, self))


class MainWindow(QMainWindow):
    scanFinished = Signal()      # a full scan (blobs and ingests) landed in the models
    graphBuilt = Signal()        # a fresh image graph (references, images, reclaimable) is in use
    mediaTypesDone = Signal()    # the background media-type pass after a scan ended
    ingestsUpdated = Signal()
    storeOpened = Signal(str)
    storeFailed = Signal(str)
    closed = Signal()

    def __init__(self, ctx: AppContext | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx or AppContext()
        self.store: BlobscopeStore | None = None
        self.setObjectName("mainWindow")
        self.setWindowTitle("Blobscope")
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.resize(1280, 800)

        self.blob_model = BlobTableModel(self)
        self.ingest_model = IngestTableModel(self)
        self.scanner = StoreScanner(self)
        self.watcher = StoreWatcher(self)
        self.runner = JobRunner(self)
        self.action_map = make_actions(self)
        self._dirty = False
        self._scan_started = 0.0
        self.referrers = ReferrerIndex(self.blob_model)
        self._classify_job: Job | None = None
        # digests named as new since the media-type pass last ran (None: look at every row, after
        # a listing): a pass over a million rows for one commit held the GIL for a tenth of a second
        self._unclassified: set[str] | None = None
        self._classifying: set[str] | None = None  # what the running pass looks at
        self._scanning = False
        self._target: str | None = None
        self._closing = False
        self._held = DiskChanges()  # named changes that came in during a full scan, read after it
        self._by_name = False       # a local store: changes are read by name, not by a full rescan
        self._own_deletes = 0       # this window's delete jobs running: their removals are theirs to show

        self._build_source_bar()
        self._build_central()
        self._build_status_bar()
        self.log_dock = LogDock(self)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.log_dock)
        self.log_dock.hide()
        self._build_graph_ui()
        self._build_disk_ui()
        self._build_menus()
        self.selection = cmd.Selection(self.blob_model, self.blob_view, self.ingest_model, self.ingest_view,
                                       clear_filter=self.clear_filter, show_only=self.show_only)
        self.reporter = cmd.Reporter(self, self.ctx, self.statusBar(), self.scan_label,
                                     closing=lambda: self._closing)
        self.commands = self._build_commands()
        self._connect()
        from .sources.controller import SourcesController
        # saved sources, compare, daemon connection state
        self.sources_ui = SourcesController(self, opener=self.commands.opener, reporter=self.reporter)
        self._restore_geometry()
        app = QCoreApplication.instance()
        if app is not None:
            # QApplication.quit() (a session manager, Cmd+Q, an embedding program) closes no
            # window: the scanner thread and the jobs must stop here too, or Qt aborts on exit
            app.aboutToQuit.connect(self.shutdown)
        self.setTabOrder(self.filter_edit, self.blob_view)
        self.setTabOrder(self.blob_view, self.ingest_view)
        self.setTabOrder(self.ingest_view, self.details.preview)
        self.update_actions()

    # ------------------------------------------------------------------ construction
    def _build_source_bar(self) -> None:
        self.toolbar = QToolBar(self.tr("Actions"), self)
        self.toolbar.setObjectName("actionBar")
        self.toolbar.setMovable(False)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.toolbar)
        bar = QToolBar(self.tr("Store"), self)
        bar.setObjectName("sourceBar")
        bar.setMovable(False)
        self.source_bar = bar
        self.store_label = QLabel(self)
        self.store_label.setObjectName("storePath")
        self.store_label.setTextFormat(Qt.TextFormat.PlainText)
        self.store_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.readonly_badge = QLabel(self.tr("READ-ONLY"), self)
        self.readonly_badge.setObjectName("readOnlyBadge")
        self.readonly_badge.setStyleSheet(
            "QLabel { background: #b3261e; color: white; border-radius: 4px; padding: 2px 8px;"
            " font-weight: bold; }")
        self.readonly_badge.hide()
        caption = QLabel(self.tr("Store:"), self)
        caption.setContentsMargins(6, 0, 6, 0)
        bar.addWidget(caption)
        bar.addWidget(self.store_label)
        self.namespace_box = QComboBox(self)
        self.namespace_box.setObjectName("namespaceBox")
        self.namespace_box.setToolTip(self.tr("containerd namespace"))
        self.namespace_box.setMinimumContentsLength(12)
        self.namespace_caption = QLabel(self.tr("Namespace:"), self)
        self.namespace_caption.setContentsMargins(12, 0, 6, 0)
        self.namespace_actions = [bar.addWidget(self.namespace_caption), bar.addWidget(self.namespace_box)]
        for act in self.namespace_actions:
            act.setVisible(False)
        spacer = QWidget(self)
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bar.addWidget(spacer)
        self.readonly_action = bar.addWidget(self.readonly_badge)
        self.readonly_action.setVisible(False)

    def _build_central(self) -> None:
        self.filter_edit = QLineEdit(self)
        self.filter_edit.setObjectName("filterEdit")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setPlaceholderText(self.tr(
            'Filter: text in digest or labels, or containerd syntax such as '
            'labels."containerd.io/gc.root" or digest~=^sha256:ab'))
        self.filter_error = QLabel(self)
        self.filter_error.setObjectName("filterError")
        self.filter_error.setTextFormat(Qt.TextFormat.PlainText)
        self.filter_error.setStyleSheet("color: #b3261e;")
        self.filter_error.setWordWrap(True)
        self.filter_error.hide()
        self.filter_status = QLabel(self)  # a filter or sort of many rows still under way
        self.filter_status.setObjectName("filterStatus")
        self.filter_status.setTextFormat(Qt.TextFormat.PlainText)
        self.filter_status.setStyleSheet("color: palette(mid);")
        self.filter_status.hide()

        self.blob_view = _Table("blobView", self)
        self.blob_view.setModel(self.blob_model)
        self.blob_view.setSortingEnabled(True)
        self.blob_view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        for col, width in ((COL_DIGEST, 120), (COL_SIZE, 80), (COL_MEDIA, 230),
                           (COL_LABELS, 280), (COL_CREATED, 145), (COL_UPDATED, 145)):
            self.blob_view.setColumnWidth(col, width)

        self.ingest_view = _Table("ingestView", self)
        self.ingest_view.setModel(self.ingest_model)
        self.ingest_view.setSortingEnabled(True)
        self.ingest_view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.ingest_view.setItemDelegateForColumn(COL_PROGRESS, ProgressDelegate(self.ingest_view))
        for col, width in ((COL_REF, 270), (COL_PROGRESS, 200), (COL_STATE, 75),
                           (ICOL_UPDATED, 120), (COL_STARTED, 145)):
            self.ingest_view.setColumnWidth(col, width)

        self.details = DetailsPane(self)

        blobs_panel = QWidget(self)
        bl = QVBoxLayout(blobs_panel)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.addWidget(self.filter_edit)
        bl.addWidget(self.filter_error)
        bl.addWidget(self.filter_status)
        bl.addWidget(self.blob_view)

        ingests_panel = QWidget(self)
        il = QVBoxLayout(ingests_panel)
        il.setContentsMargins(0, 0, 0, 0)
        self.ingest_title = QLabel(self.tr("Ingests (writes in progress or interrupted)"), self)
        il.addWidget(self.ingest_title)
        il.addWidget(self.ingest_view)

        left = QSplitter(Qt.Orientation.Vertical, self)
        left.setObjectName("leftSplitter")
        self.view_tabs = QTabWidget(self)  # Blobs, and the Images tab (_build_graph_ui)
        self.view_tabs.setObjectName("viewTabs")
        self.view_tabs.setDocumentMode(True)
        self.view_tabs.addTab(blobs_panel, self.tr("Blobs"))
        left.addWidget(self.view_tabs)
        left.addWidget(ingests_panel)
        self.ingests_panel = ingests_panel
        left.setStretchFactor(0, 4)
        left.setStretchFactor(1, 1)
        left.setSizes([560, 170])
        self.main_splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.main_splitter.setObjectName("mainSplitter")
        self.main_splitter.addWidget(left)
        self.main_splitter.addWidget(self.details)
        self.main_splitter.setStretchFactor(0, 3)
        self.main_splitter.setStretchFactor(1, 2)
        self.main_splitter.setSizes([820, 460])
        self.setCentralWidget(self.main_splitter)

        self.preview_timer = QTimer(self)
        self.preview_timer.setSingleShot(True)
        self.preview_timer.setInterval(PREVIEW_DELAY_MS)
        self.classify_timer = QTimer(self)
        self.classify_timer.setSingleShot(True)
        self.classify_timer.setInterval(CLASSIFY_DELAY_MS)
        self.filter_timer = QTimer(self)
        self.filter_timer.setSingleShot(True)
        self.filter_timer.setInterval(FILTER_DELAY_MS)
        self.filter_busy_timer = QTimer(self)  # says so when a filter takes long (the old rows stay)
        self.filter_busy_timer.setSingleShot(True)
        self.filter_busy_timer.setInterval(FILTER_BUSY_MS)

    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        self.counts_label = QLabel(self)
        self.counts_label.setObjectName("countsLabel")
        self.scan_label = QLabel(self)
        self.scan_label.setObjectName("scanLabel")
        self.verify_bar = QProgressBar(self)
        self.verify_bar.setObjectName("verifyProgress")
        self.verify_bar.setMaximumWidth(200)
        self.verify_bar.hide()
        self.verify_cancel = QToolButton(self)
        self.verify_cancel.setText(self.tr("Stop"))
        self.verify_cancel.hide()
        self.status_badge = QLabel(self.tr("read-only"), self)
        self.status_badge.setObjectName("statusReadOnly")
        self.status_badge.setStyleSheet("QLabel { color: #b3261e; font-weight: bold; }")
        self.status_badge.hide()
        sb.addWidget(self.counts_label, 1)
        sb.addPermanentWidget(self.scan_label)
        sb.addPermanentWidget(self.verify_bar)
        sb.addPermanentWidget(self.verify_cancel)
        sb.addPermanentWidget(self.status_badge)

    def _build_menus(self) -> None:
        a = self.action_map
        mb = self.menuBar()
        file_menu = mb.addMenu(self.tr("&File"))
        file_menu.addAction(a["actionOpenStore"])
        self.recent_menu = file_menu.addMenu(self.tr("Open &Recent"))
        self.recent_menu.setObjectName("recentMenu")
        file_menu.addSeparator()
        file_menu.addAction(a["actionImport"])
        file_menu.addAction(a["actionExport"])
        file_menu.addSeparator()
        file_menu.addAction(a["actionQuit"])
        edit_menu = mb.addMenu(self.tr("&Edit"))
        edit_menu.addAction(a["actionCopyDigest"])
        edit_menu.addAction(a["actionCopyWhyChain"])
        edit_menu.addAction(a["actionEditLabels"])
        edit_menu.addSeparator()
        edit_menu.addAction(a["actionDelete"])
        edit_menu.addAction(a["actionAbort"])
        edit_menu.addSeparator()
        edit_menu.addAction(a["actionSelectUnreferenced"])
        edit_menu.addAction(a["actionFindFilter"])
        view_menu = mb.addMenu(self.tr("&View"))
        view_menu.addAction(a["actionRefresh"])
        view_menu.addAction(a["actionAnalyseDisk"])
        view_menu.addAction(self.log_dock.toggleViewAction())
        tools_menu = mb.addMenu(self.tr("&Tools"))
        tools_menu.addAction(a["actionVerify"])
        tools_menu.addAction(a["actionBrowseLayer"])
        tools_menu.addAction(a["actionImageLayers"])
        tools_menu.addSeparator()
        for disk_action in ("actionRemoveLease", "actionRemoveGcRoot", "actionDeleteOrphanDir", "actionRunGc"):
            tools_menu.addAction(a[disk_action])
        help_menu = mb.addMenu(self.tr("&Help"))
        help_menu.addAction(a["actionAbout"])

        tb = self.toolbar
        for name in ("actionOpenStore", "actionRefresh", None, "actionImport", "actionExport",
                     "actionEditLabels", "actionVerify", None, "actionDelete", "actionAbort"):
            if name is None:
                tb.addSeparator()
            else:
                tb.addAction(a[name])
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.addToolBarBreak()
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.source_bar)
        # shortcuts work while a table has focus, even with the menu bar hidden
        for act in a.values():
            self.addAction(act)

    def _build_graph_ui(self) -> None:
        self.images_view = ImagesPanel(self)
        self.view_tabs.addTab(self.images_view, icon("images"), self.tr("Images"))
        self.graph_label = QLabel(self)
        self.graph_label.setObjectName("graphLabel")
        self.statusBar().addPermanentWidget(self.graph_label)
        self.image_graph = ImageGraph(current_store=lambda: self.store, runner=self.runner,
                                      blobs=self.blob_model, images_view=self.images_view,
                                      label=self.graph_label, tabs=self.view_tabs, details=self.details,
                                      scanning=lambda: self._scanning, closing=lambda: self._closing,
                                      parent=self)
        self.mediaTypesDone.connect(self.image_graph.start)
        self.storeOpened.connect(lambda _root: self.image_graph.reset())

    def _build_disk_ui(self) -> None:
        self.disk_tab = DiskTab(self.runner, self)
        self.view_tabs.addTab(self.disk_tab, icon("disk"), self.tr("Disk"))
        self.disk = DiskAnalysis(self.disk_tab, runner=self.runner, current_store=lambda: self.store,
                                 closing=lambda: self._closing, parent=self)
        self.storeOpened.connect(lambda _root: self._disk_store_changed())
        self.view_tabs.currentChanged.connect(lambda _i: self._disk_tab_shown())
        for widget in (self.disk_tab.view, self.disk_tab.treemap, self.disk_tab.details.chain):
            widget.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            widget.customContextMenuRequested.connect(lambda pos, w=widget: self._disk_menu(w, pos))

    def _disk_menu(self, widget: QWidget, pos) -> None:
        if widget is self.disk_tab.treemap:
            self.disk_tab.select_node(self.disk_tab.treemap.node_at(pos.x(), pos.y()))
        menu = self.disk_menu()
        target = widget.viewport() if isinstance(widget, QAbstractItemView) else widget
        menu.popup(target.mapToGlobal(pos))

    def disk_menu(self) -> QMenu:
        """The Disk tab's menu for the selected item; a disabled action's tooltip says why."""
        menu = QMenu(self)
        menu.setObjectName("diskMenu")
        menu.setToolTipsVisible(True)
        menu.addAction(self.action_map["actionCopyWhyChain"])
        menu.addSeparator()
        for name in ("actionRemoveLease", "actionRemoveGcRoot", "actionDeleteOrphanDir", "actionRunGc"):
            menu.addAction(self.action_map[name])
        menu.addSeparator()
        menu.addAction(self.action_map["actionAnalyseDisk"])
        menu.aboutToHide.connect(menu.deleteLater)
        return menu

    def _disk_store_changed(self) -> None:
        self.disk.reset()
        self._disk_tab_shown()

    def _disk_tab_shown(self) -> None:
        on_disk = self.view_tabs.currentWidget() is self.disk_tab
        # the Disk tab has its own tree and details: the blob panes give it their room
        self.details.setVisible(not on_disk)
        self.ingests_panel.setVisible(not on_disk)
        if on_disk and self.store is not None:
            self.disk.ensure_started()

    def _build_commands(self) -> cmd.Commands:
        """Every command, each handed the one context and what it alone needs (design.md §5.3)."""
        ctx = cmd.CommandContext(
            parent=self, app=self.ctx, current_store=lambda: self.store, runner=self.runner,
            blobs=self.blob_model, ingests=self.ingest_model, selection=self.selection, report=self.reporter,
            referrers=self.referrers, actions_changed=self.update_actions, blobs_changed=self.refresh_details)
        labels = cmd.EditLabels(ctx)
        browse = cmd.BrowseLayer(ctx, self.image_graph)
        select = cmd.SelectBlob(ctx)
        image_layers = cmd.ExploreImageLayers(ctx, self.image_graph)
        return cmd.Commands(
            opener=cmd.OpenTarget(ctx, use=lambda store, target: self.set_store(store, target=target),
                                  failed=self.storeFailed.emit),
            open_store=cmd.OpenStore(ctx, open_path=self.open_store),
            recent=cmd.RecentStores(ctx, open_path=self.open_store),
            refresh=cmd.Refresh(ctx, rescan=self.refresh),
            importer=cmd.ImportFiles(ctx, poll_ingests=self.scanner.poll_ingests),
            export=cmd.ExportBlob(ctx),
            delete=cmd.DeleteBlobs(ctx),
            abort=cmd.AbortIngests(ctx),
            labels=labels,
            verify=cmd.Verify(ctx, self.verify_bar, self.verify_cancel),
            copy=cmd.CopyDigests(ctx),
            about=cmd.About(ctx),
            select_blob=select,
            select_unreferenced=cmd.SelectUnreferenced(ctx, self.image_graph),
            browse_layer=browse,
            open_blob=cmd.OpenBlob(ctx, self.image_graph, browse=browse, labels=labels, select=select,
                                   images=image_layers),
            image_layers=image_layers,
            analyse_disk=cmd.AnalyseDisk(ctx, self.disk, show_tab=lambda: self.view_tabs.setCurrentWidget(self.disk_tab)),
            copy_why=cmd.CopyWhyChain(ctx, self.disk),
            remove_lease=cmd.RemoveLease(ctx, self.disk),
            remove_gc_root=cmd.RemoveGcRoot(ctx, self.disk),
            run_gc=cmd.RunGarbageCollection(ctx, self.disk),
            delete_orphan=cmd.DeleteOrphanDir(ctx, self.disk))

    def _connect(self) -> None:
        a = self.action_map
        c = self.commands
        c.connect(a)
        a["actionFindFilter"].triggered.connect(self._focus_filter)
        a["actionQuit"].triggered.connect(self.close)
        self.recent_menu.aboutToShow.connect(lambda: c.recent.fill(self.recent_menu))
        self.images_view.blobRequested.connect(c.select_blob.run)
        self.images_view.blobOpened.connect(c.open_blob.from_images)
        self.details.refs.blobRequested.connect(c.select_blob.run)
        self.blob_view.activated.connect(lambda _i: c.open_blob.trigger())  # double-click or Enter
        self.image_graph.changed.connect(self.update_actions)
        self.disk.changed.connect(self.update_actions)
        self.disk_tab.nodeSelected.connect(self.update_actions)
        self.image_graph.built.connect(self.graphBuilt)
        self.namespace_box.currentTextChanged.connect(self._switch_namespace)

        self.scanner.blobsBatch.connect(self.blob_model.append_rows)  # a first scan streams its rows in
        self.scanner.blobsDone.connect(self._on_blobs_done)
        self.scanner.ingestsListed.connect(self._on_ingests)
        self.scanner.failed.connect(self._on_scan_failed)
        self.scanner.storeMissing.connect(self._on_store_missing)
        self.scanner.blobsDiff.connect(self._on_blobs_diff)  # a rescan: only what changed
        self.scanner.blobsUpdated.connect(self._on_blobs_updated)  # entries the watcher named, read again
        self.scanner.ingestsUpdated.connect(self._on_ingests_updated)
        self.scanner.rescanNeeded.connect(self._on_rescan_needed)
        self.watcher.changed.connect(self._on_disk_changed)
        self.runner.jobStarted.connect(self._on_job_started)
        self.runner.jobFinished.connect(self._on_job_finished)
        self.watcher.pollIngests.connect(self.scanner.poll_ingests)

        self.blob_model.totalsChanged.connect(self._on_totals)
        self.blob_model.modelReset.connect(self._on_totals)
        # a reset (filter, big rescan) clears the selection without selectionChanged
        self.blob_model.modelReset.connect(self.update_actions)
        self.blob_view.selectionModel().selectionChanged.connect(self._on_blob_selection)
        self.blob_view.selectionModel().currentChanged.connect(self._on_blob_selection)
        self.ingest_view.selectionModel().selectionChanged.connect(self.update_actions)
        self.blob_view.customContextMenuRequested.connect(self._blob_menu)
        self.ingest_view.customContextMenuRequested.connect(self._ingest_menu)
        self.preview_timer.timeout.connect(self._load_preview)
        self.preview_timer.timeout.connect(self._load_namespaces)
        self.classify_timer.timeout.connect(self._classify)
        self.filter_edit.textChanged.connect(lambda _t: self.filter_timer.start())
        self.filter_edit.returnPressed.connect(self.apply_filter)
        self.filter_timer.timeout.connect(self.apply_filter)
        self.blob_model.viewBusy.connect(self._on_view_busy)
        self.filter_busy_timer.timeout.connect(self._show_filter_busy)

    # ------------------------------------------------------------------ store lifecycle
    def open_store(self, path: str) -> None:
        """Open a store, containerd root or daemon address (a saved source's namespace/TLS apply)."""
        self.sources_ui.open(str(path))

    def set_store(self, store: BlobscopeStore, *, target: str | None = None) -> None:
        self.store = store
        root = str(getattr(store, "root", "") or "")
        if target is not None:
            self._target = target
            self.ctx.remember_store(target)
            self._fill_namespaces(store)
        title = sources.describe(store)
        self.store_label.setText(title)
        self.store_label.setToolTip(title)
        self.setWindowTitle(self.tr("{root} — Blobscope").format(root=root))
        ro = bool(getattr(store, "read_only", False))
        reason = getattr(store, "read_only_reason", None) or ""
        self.readonly_badge.setVisible(ro)
        self.readonly_action.setVisible(ro)
        self.readonly_badge.setToolTip(reason)
        self.status_badge.setVisible(ro)
        self.status_badge.setToolTip(reason)
        self.scanner.set_store(store)
        self.watcher.watch_store(None)
        # a local directory's changes are read by name; a daemon root read offline (its blobs
        # belong to namespaces in meta.db) is listed again on any change, as before
        self._by_name = isinstance(store, LocalStore)
        self.referrers.invalidate()
        self.details.show_namespaces_row(sources.namespace_owner(store) is not None)
        self.details.show_nothing()
        self.ingest_model.set_rows([])
        self._start_scan(streaming=True)
        self.update_actions()
        log.info("opened store %s%s", root, f" (read-only: {reason})" if ro else "")
        self.storeOpened.emit(root)

    def _fill_namespaces(self, store) -> None:
        """List the containerd namespaces (worker) and offer them in the source bar."""
        for act in self.namespace_actions:
            act.setVisible(False)

        def done(names: list[str]):
            if self.store is not store:
                return
            current = getattr(store, "namespace", None)
            self.namespace_box.blockSignals(True)
            self.namespace_box.clear()
            self.namespace_box.addItems(names)
            if current in names:
                self.namespace_box.setCurrentText(current)
            self.namespace_box.blockSignals(False)
            for act in self.namespace_actions:
                act.setVisible(bool(names))

        self.runner.start("namespaces", lambda job: sources.namespaces_of(store), on_done=done,
                          on_error=lambda e: log.info("no namespaces listed: %s", e))

    def _switch_namespace(self, namespace: str) -> None:
        store = self.store
        if store is None or not namespace or getattr(store, "namespace", None) == namespace:
            return
        self.runner.start(f"namespace {namespace}", lambda job: sources.switch_namespace(store, namespace),
                          on_done=lambda new: self.set_store(new),
                          on_error=lambda e: self.reporter.error(
                              self.tr("Could not open namespace {ns}.").format(ns=namespace), e))

    def refresh(self) -> None:
        if self.store is not None:
            self._start_scan(streaming=False)
            if self.view_tabs.currentWidget() is self.disk_tab and self.disk.can_analyse():
                self.disk.start()  # F5 on the Disk tab measures the root again too

    def _start_scan(self, *, streaming: bool) -> None:
        self._dirty = False
        self._scan_started = time.monotonic()
        if streaming:
            self.blob_model.clear()
        self.image_graph.rebuild_next()  # a full listing (F5, a lost watch): the graph is built whole too
        self.scan_label.setText(self.tr("Scanning…"))
        self._scanning = True
        self._held = DiskChanges()  # what it named is in the listing about to start
        # the watch goes in before the scan request is queued: a change after this point is
        # either listed or reported, never lost between the listing and the watch
        ready = self._update_watch()  # set once blobs/<alg> is watched: the listing waits for it
        # a rescan is compared with the model on the scanner thread: 100k rows never stall this one
        self.scanner.rescan(base=None if streaming else self.blob_model.rows_by_digest(),  # type: ignore[arg-type]  # a Mapping
                            ready=ready)

    @Slot(object)
    def _on_blobs_diff(self, diff) -> None:
        self.blob_model.apply_changes(*diff)

    @Slot(int)
    def _on_blobs_done(self, count: int) -> None:
        self.referrers.invalidate()
        log.debug("listed %d blobs in %.2f s", count, time.monotonic() - self._scan_started)

    @Slot(object)
    def _on_ingests(self, rows: list) -> None:
        full_scan = self._scanning
        self._scanning = False
        self.ingest_model.set_rows(rows)
        self.watcher.set_polling(any(r.broken is None for r in rows))
        self._on_totals()
        self.update_actions()
        self.ingestsUpdated.emit()
        if full_scan:
            self.scan_label.setText("")
            self._after_full_scan()

    def _after_full_scan(self) -> None:
        # recognise media types a moment later: the first clicks after loading stay snappy
        self._unclassified = None
        self.classify_timer.start(LISTED_CLASSIFY_DELAY_MS)
        self.scanFinished.emit()
        if self.details.current is None:
            self._on_blob_selection()
        if self._dirty:
            self._start_scan(streaming=False)
        else:
            self._release_held()  # changes named while the listing ran: read them now

    def _classify(self) -> None:
        """Fill the media-type column in the background (store.oci), for blobs that lack one."""
        only, self._unclassified = self._unclassified, set()
        if self._classify_job is not None:
            self._classify_job.cancel()  # what it was to look at is looked at by this pass
            if only is not None:
                only = None if self._classifying is None else only | self._classifying
        self._classifying = only
        store = self.store
        snap = self.blob_model.columns_snapshot()
        if store is None or not snap.count:
            self.mediaTypesDone.emit()
            return

        def work(j):
            # the rows without a media type, listed on the worker: a million rows never stall this thread
            if only is None:
                todo = [(snap.digest_of(rid), snap.sizes[rid]) for rid in snap.live_rids() if not snap.mids[rid]]
            else:  # blobs named since the last pass: only those are looked at
                rids = [rid for rid in map(snap.find, sorted(only)) if rid >= 0 and not snap.mids[rid]]
                todo = [(snap.digest_of(rid), snap.sizes[rid]) for rid in rids]
            return operations.classify_media_types(store, todo, j)

        def finished(types=None):
            if self._classify_job is job:
                self._classify_job = None
                self.image_graph.set_known_types(types)  # the graph built next reuses them
                self.mediaTypesDone.emit()

        def failed(error):
            finished()
            from store import errors
            if not isinstance(error, errors.Cancelled):
                log.warning("recognising media types failed: %s", error)

        job = self.runner.start("media types", work,
                                on_partial=self._on_media_types, on_done=finished,
                                on_error=failed)
        self._classify_job = job

    def _on_media_types(self, types: dict[str, str]) -> None:
        self.blob_model.set_media_types(types)
        current = self.details.current
        if current in types and types[current]:
            self.details.media_type.setText(types[current])

    def _update_watch(self) -> threading.Event | None:
        """Watch the store's directories afresh: at once, but blobs/<alg> on the watcher's thread
        (gui/watcher.py); what comes back is set once those are in, and the listing waits for it.

        Done in a pool job it landed after the listing, and a commit in between was never seen.
        """
        store = self.store
        root = getattr(store, "root", None)  # only a store with a directory can be watched
        if store is None or self._closing or not root:
            return None
        self.watcher.watch_store(Path(str(root)))
        return self.watcher.ready

    @Slot(str)
    def _on_store_missing(self, root: str) -> None:
        text = self.tr("The store directory {root} no longer exists. Recreate it and press F5, "
                       "or open another store.").format(root=root)
        log.warning("%s", text)
        self.statusBar().showMessage(text)

    @Slot(str)
    def _on_scan_failed(self, message: str) -> None:
        self.scan_label.setText("")
        self._scanning = False
        if self.sources_ui.scan_failed(message):
            return  # a lost daemon: the connection badge and status bar say so, and it reconnects
        self.reporter.error(self.tr("Reading the store failed."), message,
                            hint=self.tr("Press F5 to try again."))

    @Slot(object)
    def _on_disk_changed(self, changes: DiskChanges) -> None:
        """The watcher named what changed: read only that, on the scanner thread (design.md §5.2)."""
        root = getattr(self.store, "root", None)
        if self.store is None or not root or self._closing:
            return
        if not self._by_name:
            if changes.only_ingests():
                self.scanner.poll_ingests()  # a write started, finished or was aborted
            else:
                self._rescan_soon()
            return
        if changes.rescan:
            self._rescan_soon()  # the watcher logged why
        elif self.scanner.busy or self._own_deletes:
            # read once the running scan has landed, or once our own delete has removed its rows
            # in one go (seen on disk first, they went a few at a time under the selection)
            self._held.merge(changes)
        else:
            self.scanner.update(changes)

    def _on_job_started(self, name: str) -> None:
        if name == "delete":  # gui/commands/delete.py
            self._own_deletes += 1

    def _on_job_finished(self, name: str) -> None:
        if name == "delete":
            self._own_deletes -= 1
            # after the job's own on_done, which runs right after this signal
            QTimer.singleShot(0, self._release_held)

    def _release_held(self) -> None:
        if self._held and not self._own_deletes and not self.scanner.busy and not self._closing:
            held, self._held = self._held, DiskChanges()
            self.scanner.update(held)

    def _rescan_soon(self) -> None:
        if self.scanner.busy:
            self._dirty = True  # rescan once the running scan has landed
        else:
            self._start_scan(streaming=False)

    @Slot(str)
    def _on_rescan_needed(self, why: str) -> None:
        log.info("%s; rescanning", why)
        self._rescan_soon()

    @Slot(object)
    def _on_blobs_updated(self, update) -> None:
        """Named blobs as they are now: gone, new, or changed (labels, times, size)."""
        removed, rows = update
        m = self.blob_model
        if len(removed) > REMOVE_CHUNK:
            # e.g. our own Delete of 100k blobs read back from disk: a look-up per digest here
            # froze the window for 0.3 s; the model takes them out a chunk per event-loop turn
            # and skips those it no longer has
            m.remove_digests(removed)
            self.referrers.invalidate()
            removed = []
        gone = [d for d in removed if m.get(d) is not None]
        added, changed = [], []
        for r in rows:
            old = m.get(r.digest)
            if old is None:
                added.append(r)
            elif not old.same_content(r):
                changed.append(r)
        if not (gone or added or changed):
            return
        m.apply_changes(gone, added, changed)
        self.referrers.invalidate()
        if changed:
            self.refresh_details(r.digest for r in changed)
        if added:
            if self._unclassified is not None:
                self._unclassified.update(r.digest for r in added)
            self.classify_timer.start(CLASSIFY_DELAY_MS)  # media types of the new blobs (and the graph after them)

    @Slot(object)
    def _on_ingests_updated(self, update) -> None:
        """Named entries of ingest/ as they are now; the other rows stay as they are."""
        names, rows = set(update[0]), update[1]
        keep = [r for r in self.ingest_model.rows()
                if (r.ref if r.broken is not None else ref_hash(r.ref)) not in names]
        every = keep + rows
        self.ingest_model.set_rows(every)
        self.watcher.set_polling(any(r.broken is None for r in every))
        self._on_totals()
        self.update_actions()
        self.ingestsUpdated.emit()

    # ------------------------------------------------------------------ selection, details
    @Slot()
    def _on_blob_selection(self, *_args) -> None:
        self.update_actions()
        n = self.selection.blob_count()
        current = self.blob_view.currentIndex()
        if n == 1:
            row = self.selection.blob_rows()[0]
        elif n == 0 and current.isValid():
            row = self.blob_model.row_at(current.row())
        else:
            row = None
        if row is None:
            self.preview_timer.stop()
            self.details.show_nothing(self.tr("{n} blobs selected").format(n=n) if n > 1 else "")
            return
        if row.digest == self.details.current:
            return
        # the graph's references replace the label parents at once when it has this blob: they are
        # not searched for then (a search of the label-set column per parent, 50-120 ms at 1M)
        self.details.show_row(row, [] if self.image_graph.answers(row.digest) else self.referrers.of(row.digest))
        self.image_graph.show_refs(row.digest)
        self.preview_timer.start()

    def refresh_details(self, digests: Iterable[str]) -> None:
        """These blobs changed (labels, verification): the details pane shows the current one again."""
        if self.details.current in set(digests):
            self.details.current = None
            self._on_blob_selection()

    def _load_preview(self) -> None:
        digest = self.details.current
        store = self.store
        if digest is None or store is None:
            return

        def done(preview):
            note = ""
            if preview.truncated:
                note = self.tr("(preview shows the beginning only)")
            self.details.show_preview(digest, preview.text or self.tr("(empty blob)"), note)
            row = self.blob_model.get(digest)
            if preview.media_type and row is not None and not row.media_type:
                self.blob_model.set_media_types({digest: preview.media_type})
                if self.details.current == digest:
                    self.details.media_type.setText(preview.media_type)

        def failed(error):
            self.details.show_preview(digest, self.tr("Could not read this blob: {error}").format(error=error))

        self.runner.start(f"preview {digest}", lambda job: operations.read_preview(store, digest),
                          on_done=done, on_error=failed)

    def _load_namespaces(self) -> None:
        """Which containerd namespaces hold the selected blob, asked on a worker (a daemon answers per namespace)."""
        digest = self.details.current
        store = self.store
        owner = sources.namespace_owner(store) if store is not None else None
        if digest is None or owner is None:
            return

        def done(names):
            if self.store is store:  # show_namespaces drops an answer for an older selection
                self.details.show_namespaces(digest, list(names))

        def failed(error):
            if self.store is store:
                self.details.show_namespaces(digest, None, str(error) or type(error).__name__)

        self.runner.start(f"namespaces of {digest}", lambda job: owner.namespaces_with(digest),
                          on_done=done, on_error=failed)

    # ------------------------------------------------------------------ actions: enabling
    def update_actions(self, *_args) -> None:
        """Each action as enabled as its command says for this store and selection."""
        self.commands.update(self.action_map, self.store)

    # ------------------------------------------------------------------ filter
    def apply_filter(self) -> None:
        self.filter_timer.stop()
        text = self.filter_edit.text()
        try:
            predicate = compile_filter(text)
        except FilterError as e:
            self.filter_error.setText(str(e))
            self.filter_error.show()
            return
        self.filter_error.hide()
        self.filter_error.setText("")
        self.blob_model.set_filter(predicate)  # on a worker for a big store; the old rows stay until then
        self._on_totals()

    def _on_view_busy(self, busy: bool) -> None:
        if busy:
            if not self.filter_busy_timer.isActive() and not self.filter_status.isVisible():
                self.filter_busy_timer.start()
        else:
            self.filter_busy_timer.stop()
            self.filter_status.hide()

    def _show_filter_busy(self) -> None:
        if self.blob_model.busy:
            self.filter_status.setText(self.tr("Filtering and sorting {n} blobs… the table shows the "
                                               "previous result until then.").format(
                n=f"{self.blob_model.total_count:,}"))
            self.filter_status.show()

    def clear_filter(self) -> None:
        self.filter_edit.clear()
        self.apply_filter()

    def show_only(self, query) -> None:
        """Only the blobs ``query`` matches (Select Unreferenced's many scattered blobs), the filter
        box emptied: typing a filter, or Enter in the empty box, shows every blob again."""
        self.filter_timer.stop()
        self.filter_edit.blockSignals(True)
        self.filter_edit.clear()
        self.filter_edit.blockSignals(False)
        self.filter_error.hide()
        self.blob_model.set_filter(query)
        self._on_totals()

    def _focus_filter(self) -> None:
        self.filter_edit.setFocus()
        self.filter_edit.selectAll()

    # ------------------------------------------------------------------ status, context menus
    def _on_totals(self, *_args) -> None:
        m = self.blob_model
        shown = m.rowCount()
        text = self.tr("{n} blobs, {size}").format(n=f"{m.total_count:,}", size=fmt.size(m.total_bytes))
        if shown != m.total_count:
            text += self.tr(" — {shown} shown").format(shown=f"{shown:,}")
        text += self.tr(" · {n} ingests").format(n=self.ingest_model.rowCount())
        self.counts_label.setText(text)

    def _blob_menu(self, pos) -> None:
        menu = QMenu(self)
        for name in ("actionCopyDigest", "actionEditLabels", "actionExport", "actionVerify",
                     "actionBrowseLayer", "actionImageLayers", None, "actionDelete"):
            if name is None:
                menu.addSeparator()
            else:
                menu.addAction(self.action_map[name])
        menu.popup(self.blob_view.viewport().mapToGlobal(pos))

    def _ingest_menu(self, pos) -> None:
        menu = QMenu(self)
        menu.addAction(self.action_map["actionAbort"])
        menu.addAction(self.action_map["actionRefresh"])
        menu.popup(self.ingest_view.viewport().mapToGlobal(pos))

    # ------------------------------------------------------------------ drag and drop
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls() and all(u.isLocalFile() for u in event.mimeData().urls()) \
                and self.action_map["actionImport"].isEnabled():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            QTimer.singleShot(0, lambda: self.commands.importer.run(paths))

    # ------------------------------------------------------------------ settings, shutdown
    def _restore_geometry(self) -> None:
        if not self.ctx.remember:
            return
        geo = self.ctx.settings.value("mainWindow/geometry")
        if isinstance(geo, QByteArray) and not geo.isEmpty():
            self.restoreGeometry(geo)
        state = self.ctx.settings.value("mainWindow/splitter")
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.main_splitter.restoreState(state)

    def shutdown(self) -> None:
        if self._closing:
            return
        self._closing = True
        if self.ctx.remember:
            self.ctx.settings.setValue("mainWindow/geometry", self.saveGeometry())
            self.ctx.settings.setValue("mainWindow/splitter", self.main_splitter.saveState())
            self.ctx.settings.sync()
        self.classify_timer.stop()
        self.disk_tab.stop()
        self.sources_ui.shutdown()
        self.watcher.stop()
        self.scanner.stop()
        self.blob_model.shutdown()
        self.runner.wait(30_000)
        self.log_dock.detach()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)
        self.closed.emit()
