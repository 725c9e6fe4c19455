"""Sources…: edit the saved list of stores and containerd daemons, and open one of them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..fleet.settings import set_ssh_config, ssh_config
from .saved import Source, is_address

if TYPE_CHECKING:
    from .hosts import SourcesHost


class SourcesDialog(QDialog):
    """Edit the saved sources: directories, sockets, unix:// and tcp:// addresses with TLS files."""

    def __init__(self, controller: SourcesHost, parent: QWidget):
        super().__init__(parent)
        self.controller = controller
        self.setObjectName("sourcesDialog")
        self.setWindowTitle(self.tr("Sources"))
        self.resize(640, 480)
        self.list = QListWidget(self)
        self.list.setObjectName("sourceListView")
        self.list.currentRowChanged.connect(self._show_selected)
        self.list.itemActivated.connect(lambda _i: self.open_selected())
        self.target_edit = self._edit("sourceTargetEdit",
                                      self.tr("/path/to/store, unix:///run/containerd/containerd.sock, tcp://host:port, "
                                              "ssh://user@host or a fleet file"))
        self.name_edit = self._edit("sourceNameEdit", self.tr("optional display name, e.g. node-3"))
        self.namespace_edit = self._edit("sourceNamespaceEdit", "default")
        self.ca_edit = self._edit("sourceTlsCaEdit", self.tr("CA certificate (PEM), tcp:// only"))
        self.cert_edit = self._edit("sourceTlsCertEdit", self.tr("client certificate (PEM)"))
        self.key_edit = self._edit("sourceTlsKeyEdit", self.tr("client key (PEM)"))
        # a path only: ssh reads keys and asks the agent itself; nothing secret passes through here
        self.ssh_config_edit = self._edit("sshConfigEdit", self.tr("~/.ssh/config (ssh's own) — used by ssh:// and fleets"))
        self.ssh_config_edit.setText(ssh_config(controller.window.ctx.settings) or "")
        self.ssh_config_edit.editingFinished.connect(self.save_ssh_config)
        self.error_label = QLabel(self)
        self.error_label.setObjectName("sourceError")
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setStyleSheet("QLabel { color: #b3261e; }")
        form = QFormLayout()
        form.addRow(self.tr("Directory or address:"), self.target_edit)
        form.addRow(self.tr("Name:"), self.name_edit)
        form.addRow(self.tr("Namespace:"), self.namespace_edit)
        form.addRow(self.tr("TLS CA:"), self.ca_edit)
        form.addRow(self.tr("TLS certificate:"), self.cert_edit)
        form.addRow(self.tr("TLS key:"), self.key_edit)
        form.addRow(self.tr("SSH config file:"), self.ssh_config_edit)
        self.save_button = self._button("saveSourceButton", self.tr("Add / Update"), self.save_current)
        self.browse_button = self._button("browseSourceButton", self.tr("Directory…"), self.browse)
        self.fleet_button = self._button("browseFleetButton", self.tr("Fleet File…"), self.browse_fleet)
        self.remove_button = self._button("removeSourceButton", self.tr("Remove"), self.remove_selected)
        self.open_button = self._button("openSourceButton", self.tr("Open"), self.open_selected)
        row = QHBoxLayout()
        for b in (self.save_button, self.browse_button, self.fleet_button, self.remove_button):
            row.addWidget(b)
        row.addStretch(1)
        row.addWidget(self.open_button)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list, 1)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addLayout(row)
        layout.addWidget(close)

    def _edit(self, name: str, placeholder: str) -> QLineEdit:
        e = QLineEdit(self)
        e.setObjectName(name)
        e.setPlaceholderText(placeholder)
        return e

    def _button(self, name: str, text: str, slot) -> QPushButton:
        b = QPushButton(text, self)
        b.setObjectName(name)
        b.setAutoDefault(False)
        b.clicked.connect(slot)
        return b

    def reload(self, select: str | None = None) -> None:
        self.saved = self.controller.sources.load()
        self.list.blockSignals(True)
        self.list.clear()
        for s in self.saved:
            item = QListWidgetItem(s.label + ("" if not s.name else f"  —  {s.target}"))
            item.setData(Qt.ItemDataRole.UserRole, s.target)
            item.setToolTip(s.target)
            self.list.addItem(item)
        self.list.blockSignals(False)
        if select is not None:
            for i, s in enumerate(self.saved):
                if s.target == select:
                    self.list.setCurrentRow(i)

    def selected(self) -> Source | None:
        row = self.list.currentRow()
        return self.saved[row] if 0 <= row < len(self.saved) else None

    def _show_selected(self, _row: int) -> None:
        s = self.selected()
        if s is None:
            return
        self.target_edit.setText(s.target)
        self.name_edit.setText(s.name)
        self.namespace_edit.setText(s.namespace)
        self.ca_edit.setText(s.tls_ca)
        self.cert_edit.setText(s.tls_cert)
        self.key_edit.setText(s.tls_key)
        self.error_label.clear()

    def current_source(self) -> Source | None:
        """The form as a Source, or None (the reason shown in the dialog)."""
        target = self.target_edit.text().strip()
        ns = self.namespace_edit.text().strip() or "default"
        tls = [e.text().strip() for e in (self.ca_edit, self.cert_edit, self.key_edit)]
        problem = None
        if not target:
            problem = self.tr("Give a directory or an address.")
        elif "://" in target and not is_address(target):
            problem = self.tr("{target}: use unix://, tcp:// or ssh:// addresses, a directory or a fleet file.").format(
                target=target)
        elif target.startswith("ssh://") and (bad := _bad_ssh_address(target)):
            problem = bad
        elif any(tls) and not target.startswith("tcp://"):
            problem = self.tr("TLS settings are for tcp:// addresses only.")
        elif bool(tls[1]) != bool(tls[2]):
            problem = self.tr("The TLS certificate and key go together.")
        else:
            try:
                from store.containerd import validate_namespace
                validate_namespace(ns)
            except Exception as e:  # noqa: BLE001 - shown, not raised
                problem = str(e)
            missing = [p for p in tls if p and not Path(p).is_file()]
            if problem is None and missing:
                problem = self.tr("There is no file {path}.").format(path=missing[0])
        if problem:
            self.error_label.setText(problem)
            return None
        self.error_label.clear()
        if not is_address(target) and not target.endswith(".sock"):
            target = str(Path(target).expanduser())
        return Source(target, name=self.name_edit.text().strip(), namespace=ns,
                      tls_ca=tls[0], tls_cert=tls[1], tls_key=tls[2])

    def save_current(self) -> bool:
        source = self.current_source()
        if source is None or not self.save_ssh_config():
            return False
        self.controller.sources.add(source)
        self.reload(select=source.target)
        self.controller.fill_source_box()
        self.controller.sourcesChanged.emit()
        return True

    def save_ssh_config(self) -> bool:
        """Keep the SSH config path (a path only) for ssh:// sources and fleets; empty: ssh's own."""
        path = self.ssh_config_edit.text().strip()
        if path and not Path(path).expanduser().is_file():
            self.error_label.setText(self.tr("There is no file {path}.").format(path=path))
            return False
        set_ssh_config(self.controller.window.ctx.settings, path or None)
        self.error_label.clear()
        return True

    def browse_fleet(self) -> None:
        w = self.controller.window
        files = w.ctx.dialogs.open_files(self, self.tr("Choose a fleet file (ssh:// lines, INI or YAML inventory)"))
        if files:
            self.target_edit.setText(files[0])
            self.name_edit.clear()
            self.namespace_edit.setText("default")

    def browse(self) -> None:
        w = self.controller.window
        path = w.ctx.dialogs.open_directory(self, self.tr("Choose a store or containerd root"))
        if path:
            self.target_edit.setText(path)
            self.name_edit.clear()
            self.namespace_edit.setText("default")

    def remove_selected(self) -> None:
        s = self.selected()
        if s is None:
            return
        self.controller.sources.remove(s.target)
        self.reload()
        self.controller.fill_source_box()
        self.controller.sourcesChanged.emit()

    def open_selected(self) -> None:
        s = self.selected()
        if s is not None:
            self.controller.open_source(s)


def _bad_ssh_address(target: str) -> str | None:
    """Why ``target`` is not a usable ``ssh://`` node address (store/fleet/address.py), else None."""
    from store import errors
    from store.fleet import address
    try:
        address.parse(target)
    except errors.ContentError as e:
        return str(e)
    return None
