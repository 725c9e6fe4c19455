"""Several sources in one window: the saved source list, "Sources…", "Compare with…", the daemon
connection badge with reconnects, and the offer to go through a running daemon's socket.

``SourcesController`` attaches to a ``MainWindow``; the window calls :meth:`SourcesController.open`
for every target it is asked to open and :meth:`SourcesController.scan_failed` when a scan fails.
It opens a plain directory with the window's own :class:`~gui.commands.open.OpenTarget` and tells
the person about failures through the same :class:`~gui.commands.base.Reporter` as the commands.
The dialogs it opens live in ``gui/sources/sources_dialog.py`` and ``gui/sources/compare_dialog.py``.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QComboBox, QLabel, QPushButton

from ..fleet.fleet_tab import FleetTab
from ..fleet.settings import is_fleet_file, ssh_options
from . import opening as sources
from .compare_dialog import CompareDialog
from .saved import Source, SourceList, is_address
from .sources_dialog import SourcesDialog

if TYPE_CHECKING:
    from ..commands import OpenTarget, Reporter

log = logging.getLogger(__name__)

RECONNECT_MS = 2000  # while a daemon is unreachable, ask it again this often
_LOST_STATES = {"transient_failure", "shutdown"}


class SourcesController(QObject):
    connectionLost = Signal(str)      # the message shown
    connectionRestored = Signal()
    compareDone = Signal()
    offerAnswered = Signal(bool)      # the person chose the daemon's socket (True) or the files
    sourcesChanged = Signal()
    _channelState = Signal(object, str)   # (store, state) from a gRPC thread, delivered queued

    def __init__(self, window, *, opener: OpenTarget, reporter: Reporter):
        super().__init__(window)
        self.window = window
        self.opener = opener      # opens a plain directory on a worker, then the window switches to it
        self.reporter = reporter  # error dialogs and the log, as for the window's commands
        self.sources = SourceList(window.ctx.settings)
        self.lost: str | None = None     # why the current daemon is unreachable, None when fine
        self._unwatch = None
        self._pinging = False
        self.compare_dialog: CompareDialog | None = None
        self.sources_dialog: SourcesDialog | None = None
        self.fleet_tab: FleetTab | None = None
        self._ssh_store = None  # the ssh:// store shown now: closed when another replaces it

        self.reconnect_timer = QTimer(self)
        self.reconnect_timer.setInterval(RECONNECT_MS)
        self.reconnect_timer.timeout.connect(self._try_reconnect)
        self._channelState.connect(self._on_channel_state, Qt.ConnectionType.QueuedConnection)

        self._build_actions()
        self._build_widgets()
        window.storeOpened.connect(self._on_store_opened)
        window.scanFinished.connect(self._on_scan_ok)
        self.fill_source_box()

    # ------------------------------------------------------------------ construction
    def _build_actions(self) -> None:
        w = self.window
        specs = {
            "actionSources": (self.tr("&Sources…"), "Ctrl+Shift+O",
                              self.tr("Keep a list of stores and containerd daemons, and switch between them")),
            "actionCompare": (self.tr("&Compare with…"), "Ctrl+Shift+D",
                              self.tr("Show the blobs this source has and another lacks, and the other way round")),
        }
        for name, (text, shortcut, tip) in specs.items():
            act = QAction(text, w)
            act.setObjectName(name)
            act.setShortcut(QKeySequence(shortcut))
            act.setStatusTip(tip)
            act.setToolTip(tip)
            act.setProperty("baseToolTip", tip)
            w.action_map[name] = act
            w.addAction(act)
        w.action_map["actionCompare"].setEnabled(False)  # until a source is open
        w.action_map["actionSources"].triggered.connect(self.show_sources_dialog)
        w.action_map["actionCompare"].triggered.connect(self.show_compare_dialog)
        mb = w.menuBar()
        view = next((a for a in mb.actions() if a.menu() is not None and a.text() == w.tr("&View")), None)
        menu = mb.addMenu(self.tr("S&ources")) if view is None else None
        if menu is None:
            from PySide6.QtWidgets import QMenu
            menu = QMenu(self.tr("S&ources"), mb)
            mb.insertMenu(view, menu)
        menu.setObjectName("sourcesMenu")
        menu.addAction(w.action_map["actionSources"])
        menu.addAction(w.action_map["actionCompare"])
        self.menu = menu

    def _build_widgets(self) -> None:
        w = self.window
        bar = w.source_bar
        first = bar.actions()[0] if bar.actions() else None
        self.source_box = QComboBox(w)
        self.source_box.setObjectName("sourceBox")
        self.source_box.setToolTip(self.tr("Saved sources: pick one to switch to it"))
        self.source_box.setMinimumContentsLength(18)
        self.source_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.source_box.activated.connect(self._on_source_chosen)
        caption = QLabel(self.tr("Source:"), w)
        caption.setContentsMargins(6, 0, 6, 0)
        manage = QPushButton(self.tr("Sources…"), w)
        manage.setObjectName("manageSourcesButton")
        manage.clicked.connect(self.show_sources_dialog)
        for widget in (caption, self.source_box, manage):
            if first is None:
                bar.addWidget(widget)
            else:
                bar.insertWidget(first, widget)
        self.connection_badge = QLabel(self.tr("connection lost"), w)
        self.connection_badge.setObjectName("connectionBadge")
        self.connection_badge.setStyleSheet(
            "QLabel { background: #b3261e; color: white; border-radius: 4px; padding: 1px 6px; }")
        self.connection_badge.hide()
        w.statusBar().addPermanentWidget(self.connection_badge)

    # ------------------------------------------------------------------ the list in the source bar
    def fill_source_box(self) -> None:
        current = self.window._target
        saved = self.sources.load()
        self.source_box.blockSignals(True)
        self.source_box.clear()
        for s in saved:
            self.source_box.addItem(s.label, s.target)
            self.source_box.setItemData(self.source_box.count() - 1, s.target, Qt.ItemDataRole.ToolTipRole)
        index = self.source_box.findData(current) if current else -1
        self.source_box.setCurrentIndex(index)
        # an open store that is not in the list (e.g. --demo) must not look like no store at all
        self.source_box.setPlaceholderText(self.tr("(not in the list)") if current and index < 0 else "")
        self.source_box.blockSignals(False)

    @Slot(int)
    def _on_source_chosen(self, index: int) -> None:
        target = self.source_box.itemData(index)
        source = self.sources.find(target) if target else None
        if source is not None and source.target != self.window._target:
            self.open_source(source)

    # ------------------------------------------------------------------ opening
    def open(self, target: str) -> None:
        """Open what the window was asked for: a saved source's settings apply; a running
        daemon's root first offers its socket."""
        target = str(target)
        saved = self.sources.find(target)
        if saved is not None and not saved.is_plain_directory:
            self.open_source(saved)
            return
        if is_address(target) or is_fleet_file(target):
            self.open_source(Source(target))
            return
        w = self.window

        def checked(address):
            if address and self.offer_socket(target, address):
                self.open_source(Source(address))
            else:
                self.opener.run(target)

        w.runner.start(f"check {target}", lambda job: sources.live_daemon_address(target),
                       on_done=checked, on_error=lambda e: self.opener.run(target))

    def offer_socket(self, target: str, address: str) -> bool:
        """Ask (once) whether to browse a running daemon's root through its socket instead of its files."""
        w = self.window
        yes = w.ctx.dialogs.confirm(
            w, self.tr("containerd is running"),
            self.tr("{root} belongs to a containerd daemon that is running now.").format(root=target),
            self.tr("Reading its files behind its back can show a half-written state, and changing them "
                    "corrupts the daemon's view. Connect through its socket {address} instead? "
                    "(Cancel shows the files read-only.)").format(address=address),
            ok_text=self.tr("Connect through the socket"))
        self.offerAnswered.emit(bool(yes))
        return bool(yes)

    def open_source(self, source: Source) -> None:
        w = self.window
        w.scan_label.setText(self.tr("Opening…"))
        if source.is_fleet:
            w.scan_label.setText("")
            self.show_fleet(source.target, source.namespace)
            return
        if source.is_plain_directory:
            self.opener.run(source.target)  # a plain directory: the window's own (injectable) opener
            return

        def failed(error):
            w.scan_label.setText("")
            if sources.is_connection_error(error):
                self._set_lost(str(error))
            self.reporter.error(self.tr("Could not open {target}.").format(target=source.label), error,
                                hint=self.tr("Check the address and that the daemon runs; Sources… edits the list."))
            w.storeFailed.emit(str(error))

        ssh = ssh_options(w.ctx.settings) if source.is_ssh else None  # QSettings: read here, used on the worker
        w.runner.start(f"open {source.target}", lambda job: sources.open_spec(source, ssh),
                       on_done=lambda s: w.set_store(s, target=source.target), on_error=failed)

    @Slot(str)
    def _on_store_opened(self, _root: str) -> None:
        w = self.window
        store = w.store
        self._close_old_tunnel(store)
        self._watch(store)
        if w._target and w.ctx.remember:
            known = self.sources.find(w._target)
            ns = getattr(store, "namespace", None) or "default"
            if known is None:
                self.sources.add(Source(w._target, namespace=ns))
            elif known.namespace != ns:
                self.sources.set_namespace(w._target, ns)  # the namespace last used on this daemon
            self.sourcesChanged.emit()
        self.fill_source_box()
        self.window.action_map["actionCompare"].setEnabled(store is not None)

    # ------------------------------------------------------------------ connection
    def _stop_watching(self) -> None:
        if self._unwatch is not None:
            try:
                self._unwatch()
            except Exception:  # noqa: BLE001 - an old channel may be closed already
                pass
            self._unwatch = None

    def _watch(self, store) -> None:
        self._stop_watching()
        self._clear_lost()
        fn = getattr(store, "watch_connection", None)
        if callable(fn):
            self._unwatch = fn(lambda state, s=store: self._channelState.emit(s, state))

    @Slot(object, str)
    def _on_channel_state(self, store, state: str) -> None:
        if store is not self.window.store:
            return
        log.debug("connection to %s: %s", getattr(store, "address", store), state)
        if state in _LOST_STATES and self.lost is None:
            self._set_lost(self.tr("containerd at {address} does not answer").format(
                address=getattr(store, "address", "?")))
        elif state == "ready" and self.lost is not None:
            self._restored()

    def scan_failed(self, message: str) -> bool:
        """The window's scan failed: True when it was a lost daemon (shown here, no dialog)."""
        if not sources.is_connection_error(message):
            return False
        self._set_lost(message)
        return True

    def _set_lost(self, message: str) -> None:
        first = self.lost is None
        self.lost = message
        w = self.window
        self.connection_badge.setToolTip(message)
        self.connection_badge.show()
        text = self.tr("Lost the connection: {why}. Reconnecting by itself; F5 tries at once.").format(
            why=message.rstrip("."))
        w.statusBar().showMessage(text)
        if first:
            log.warning("%s", text)
            self.connectionLost.emit(message)
        self.reconnect_timer.start()

    def _clear_lost(self) -> None:
        self.lost = None
        self.connection_badge.hide()
        self.reconnect_timer.stop()

    def _restored(self) -> None:
        if self.lost is None:
            return
        self._clear_lost()
        w = self.window
        w.statusBar().showMessage(self.tr("Connected again to {source}.").format(source=sources.describe(w.store)),
                                  5000)
        log.info("connection to %s is back", sources.describe(w.store))
        self.connectionRestored.emit()
        if not w._scanning:
            w.refresh()

    def _try_reconnect(self) -> None:
        store = self.window.store
        if store is None or self._pinging or self.lost is None:
            return
        self._pinging = True

        def done(_r):
            self._pinging = False
            if store is self.window.store:
                self._restored()

        def failed(_e):
            self._pinging = False

        self.window.runner.start("reconnect", lambda job: sources.ping(store), on_done=done, on_error=failed)

    @Slot()
    def _on_scan_ok(self) -> None:
        if self.lost is not None:
            self._restored()

    def shutdown(self) -> None:
        self.reconnect_timer.stop()
        self._stop_watching()
        if self.fleet_tab is not None:
            self.fleet_tab.stop()
        self._close_old_tunnel(None)

    def _close_old_tunnel(self, current) -> None:
        """Close the ``ssh://`` store shown before ``current`` (its ssh ends; any thread may do it)."""
        old = self._ssh_store
        self._ssh_store = current if getattr(current, "tunnel", None) is not None else None
        if old is None or old is current:
            return

        def close(_job=None) -> None:
            try:
                old.close()  # the gRPC channel, then ssh's process group (which may take a moment)
            except Exception:  # noqa: BLE001 - a tunnel already gone changes nothing
                log.debug("closing %s failed", getattr(old, "address", old), exc_info=True)

        if current is None:  # the window is closing: now, before the job pool is waited for
            close()
        else:
            self.window.runner.start(f"close {getattr(old, 'address', 'ssh')}", close)

    # ------------------------------------------------------------------ the Fleet tab
    def _open_node(self, address: str, namespace: str) -> None:
        """One node of the fleet in the Blobs tab."""
        self.window.view_tabs.setCurrentIndex(0)
        self.open_source(Source(address, namespace=namespace))

    def show_fleet(self, path: str, namespace: str | None = None) -> FleetTab:
        """Open the Fleet tab (made on first use) on the fleet file at ``path`` and query its nodes
        (in ``namespace``, else the tab's current one)."""
        w = self.window
        if self.fleet_tab is None:
            self.fleet_tab = FleetTab(w.runner, lambda: ssh_options(w.ctx.settings), w,
                                     open_address=self._open_node, dialogs=w.ctx.dialogs)
            self.fleet_tab.loadFailed.connect(
                lambda why: self.reporter.error(self.tr("Could not open the fleet file {path}.").format(
                    path=self.fleet_tab.fleet_path if self.fleet_tab else path), why))
            w.view_tabs.addTab(self.fleet_tab, self.tr("Fleet"))
        w.view_tabs.setCurrentWidget(self.fleet_tab)
        if w.ctx.remember and self.sources.find(path) is None:
            self.sources.add(Source(path))
            self.fill_source_box()
            self.sourcesChanged.emit()
        if namespace:
            self.fleet_tab.set_namespace(namespace)
        self.fleet_tab.open_command.trigger(path)
        return self.fleet_tab

    # ------------------------------------------------------------------ dialogs
    def show_sources_dialog(self) -> "SourcesDialog":
        if self.sources_dialog is None:
            self.sources_dialog = SourcesDialog(self, self.window)
        self.sources_dialog.reload()
        self.sources_dialog.show()
        return self.sources_dialog

    def show_compare_dialog(self) -> "CompareDialog | None":
        if self.window.store is None:
            return None
        if self.compare_dialog is None:
            self.compare_dialog = CompareDialog(self, self.window)
        self.compare_dialog.reload()
        self.compare_dialog.show()
        return self.compare_dialog

    def compare_choices(self) -> list[Source]:
        """Other saved sources, and the other namespaces of the current daemon or root."""
        w = self.window
        current_target = w._target
        current_ns = getattr(w.store, "namespace", None)
        choices = []
        if current_target:
            for i in range(w.namespace_box.count()):
                ns = w.namespace_box.itemText(i)
                if ns and ns != current_ns:
                    base = self.sources.find(current_target) or Source(current_target)
                    choices.append(replace(base, namespace=ns, name=""))
        for s in self.sources.load():
            if s.target != current_target and not s.is_fleet:  # a fleet is many stores: the Fleet tab compares them
                choices.append(s)
        return choices
