"""The Fleet tab's digest table: one row per digest, its size, and the nodes that hold it.

Built from the answering nodes' inventories (``store.fleet.queries.blob_rows``); the rows shown
are those passing the filter text and the scope: every digest, drift (on some answering nodes
and not on others), shared (on every answering node) or unique (on exactly one).
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt

from .. import fmt
from .filtered_rows import FilteredRowsModel

DIGEST_ROLE = Qt.ItemDataRole.UserRole + 1
NODES_ROLE = Qt.ItemDataRole.UserRole + 2

SCOPES = ("all", "shared", "unique")


class DigestTableModel(FilteredRowsModel):
    """See the module doc.  ``drift`` and ``scope`` combine (drift and unique: on one node only)."""

    def __init__(self, parent=None) -> None:
        super().__init__([self.tr("Digest"), self.tr("Size"), self.tr("Nodes"), self.tr("Present on"),
                          self.tr("Absent on")], parent)
        self.nodes: list[str] = []           # the answering nodes, in fleet order
        # all_rows: blob_rows(): {"digest", "size", "nodes"}
        self.text = ""
        self.drift = False
        self.scope = "all"

    def set_inventory(self, nodes: list[str], rows: list[dict]) -> None:
        self.nodes = list(nodes)
        self.all_rows = rows
        self._apply()

    def set_filter(self, *, text: str | None = None, drift: bool | None = None, scope: str | None = None) -> None:
        if text is not None:
            self.text = text.strip().lower()
        if drift is not None:
            self.drift = drift
        if scope is not None:
            if scope not in SCOPES:
                raise ValueError(f"scope must be one of {SCOPES}, not {scope!r}")
            self.scope = scope
        self._apply()

    def _passes(self, row: dict) -> bool:
        held = len(row["nodes"])
        total = len(self.nodes)
        if self.drift and held >= total:
            return False
        if self.scope == "shared" and held < total:
            return False
        if self.scope == "unique" and held != 1:
            return False
        return not self.text or self.text in row["digest"]

    def absent(self, row: dict) -> list[str]:
        have = set(row["nodes"])
        return [n for n in self.nodes if n not in have]

    # -- Qt -----------------------------------------------------------------------------
    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return row["digest"]
            if col == 1:
                return fmt.size(row["size"])
            if col == 2:
                return f"{len(row['nodes'])}/{len(self.nodes)}"
            if col == 3:
                return ", ".join(row["nodes"])
            return ", ".join(self.absent(row))
        if role == Qt.ItemDataRole.ToolTipRole and col in (0, 3, 4):
            return self.data(index, Qt.ItemDataRole.DisplayRole)
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (1, 2):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == DIGEST_ROLE:
            return row["digest"]
        if role == NODES_ROLE:
            return list(row["nodes"])
        return None


__all__ = ["DigestTableModel", "DIGEST_ROLE", "NODES_ROLE", "SCOPES"]
