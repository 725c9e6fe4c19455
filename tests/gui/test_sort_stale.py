"""A sort overtaken by a newer one (a second click on a header, while the worker is still busy)
never reaches the view: only the newest result is swapped in."""

from __future__ import annotations

from PySide6.QtCore import Qt

from gui.blobs.blob_model import COL_DIGEST, COL_SIZE
from gui.blobs.filtering import compile_filter
from tests.gui.test_blob_columns import _Gate, background_model, make_rows, settle, shown  # noqa: F401


def test_a_sort_overtaken_by_a_newer_one_is_dropped(qtbot, background_model):  # noqa: F811
    m = background_model
    rows = make_rows(400)
    m.append_rows(rows)
    settle(qtbot, m)
    gate = _Gate(compile_filter("sha"))  # every row matches; the worker waits in it for the test
    m.set_filter(gate)
    assert gate.started.wait(10)
    applied = []
    m.viewApplied.connect(lambda: applied.append(list(shown(m))))
    m.sort(COL_SIZE, Qt.SortOrder.AscendingOrder)  # overtakes the filter's own request
    m.sort(COL_DIGEST, Qt.SortOrder.DescendingOrder)  # and is overtaken in turn
    gate.release.set()
    settle(qtbot, m)
    qtbot.wait(50)  # anything still queued for the GUI thread lands now
    want = sorted((r.digest for r in rows), reverse=True)
    assert shown(m) == want
    assert applied == [want]  # one result reached the view: the newest



def test_an_overtaken_job_is_logged_as_stopped_not_failed(qtbot, background_model, caplog):  # noqa: F811
    m = background_model
    m.append_rows(make_rows(200))
    settle(qtbot, m)
    gate = _Gate(compile_filter("sha"))
    m.set_filter(gate)
    assert gate.started.wait(10)
    with caplog.at_level("INFO", logger="gui.jobs"):
        m.sort(COL_SIZE, Qt.SortOrder.AscendingOrder)  # the gated job is cancelled...
        gate.release.set()  # ...and stops at its next check
        settle(qtbot, m)
        qtbot.wait(50)
    jobs = [r for r in caplog.records if r.name == "gui.jobs" and "filter blobs" in r.getMessage()]
    assert jobs and all(r.levelname == "INFO" and "stopped" in r.getMessage() for r in jobs), \
        [(r.levelname, r.getMessage()) for r in jobs]
