"""Put the window in a state worth a picture (used by ``--screenshot`` and the screenshot test)."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel

from .blob_model import COL_SIZE
from .rows import GC_REF_CONTENT


def prepare_for_screenshot(window) -> None:
    """Sort by size, select the image manifest (or the first blob) so the details pane has content."""
    view = window.blob_view
    model = window.blob_model
    view.sortByColumn(COL_SIZE, view.horizontalHeader().sortIndicatorOrder().DescendingOrder)
    target = 0
    for i in range(model.rowCount()):
        if f"{GC_REF_CONTENT}.config" in model.row_at(i).labels:
            target = i
            break
    if model.rowCount():
        index = model.index(target, 0)
        view.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        view.scrollTo(index)
    if window.ingest_model.rowCount():
        window.ingest_view.selectRow(0)
        window.ingest_view.clearSelection()
