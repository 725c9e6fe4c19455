"""The Fleet tab's image drift table: image names on some nodes and not on others, by name.

Built from the answering nodes' image records (``store.fleet.queries.image_drift``: the Images
service of each node, through its tunnel): one row per image name that is missing on a node that
told its images, or that points at different target digests on different nodes (both are drift).
The filter text matches the name.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt

from .filtered_rows import FilteredRowsModel

NAME_ROLE = Qt.ItemDataRole.UserRole + 1
NODES_ROLE = Qt.ItemDataRole.UserRole + 2


class ImageDriftModel(FilteredRowsModel):
    """See the module doc."""

    def __init__(self, parent=None) -> None:
        super().__init__([self.tr("Image"), self.tr("Nodes"), self.tr("Present on"), self.tr("Absent on"),
                          self.tr("Target digests")], parent)
        # all_rows: image_drift(): {"name", "present", "absent", "targets", "same_target"}
        self.failed: dict[str, str] = {}  # answering nodes whose images could not be read: node -> reason
        self.text = ""

    def set_rows(self, rows: list[dict], failed: dict[str, str]) -> None:
        self.all_rows = rows
        self.failed = dict(failed)
        self._apply()

    def set_filter(self, text: str) -> None:
        self.text = text.strip().lower()
        self._apply()

    def _passes(self, row: dict) -> bool:
        return not self.text or self.text in row["name"].lower()

    def targets_text(self, row: dict, *, short: bool = True) -> str:
        """The target digest when every node agrees, else each node's (12 hex digits when ``short``)."""
        def cut(digest: str) -> str:
            return digest.split(":", 1)[-1][:12] if short else digest
        if row["same_target"]:
            return self.tr("same: {digest}").format(digest=cut(next(iter(row["targets"].values()), "")))
        return ", ".join(f"{node}: {cut(digest)}" for node, digest in row["targets"].items())

    # -- Qt -----------------------------------------------------------------------------
    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return row["name"]
            if col == 1:
                return f"{len(row['present'])}/{len(row['present']) + len(row['absent'])}"
            if col == 2:
                return ", ".join(row["present"])
            if col == 3:
                return ", ".join(row["absent"])
            return self.targets_text(row)
        if role == Qt.ItemDataRole.ToolTipRole and col == 4:
            return "\n".join(f"{node}: {digest}" for node, digest in row["targets"].items())
        if role == Qt.ItemDataRole.ToolTipRole and col != 1:
            return self.data(index, Qt.ItemDataRole.DisplayRole)
        if role == Qt.ItemDataRole.TextAlignmentRole and col == 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == NAME_ROLE:
            return row["name"]
        if role == NODES_ROLE:
            return list(row["present"])
        return None


__all__ = ["ImageDriftModel", "NAME_ROLE", "NODES_ROLE"]
