"""The table models: Qt's model contract, sorting, filtering and incremental updates."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import Qt

from gui.blobs.blob_model import COL_LABELS, COL_SIZE, BlobTableModel
from gui.blobs.filtering import FilterError, compile_filter
from gui.ingests.ingest_model import COL_PROGRESS, COL_STATE, COL_UPDATED, PROGRESS_ROLE, IngestTableModel
from gui.rows import BlobRow, IngestRow, diff_rows

NS = 1_000_000_000


def row(i: int, size: int | None = None, labels=None) -> BlobRow:
    digest = f"sha256:{i:064x}"
    return BlobRow(digest, size if size is not None else i * 10, i * NS, i * NS, labels or {})


def test_blob_model_passes_qtmodeltester(qtmodeltester):
    m = BlobTableModel()
    m.append_rows([row(i, labels={"k": str(i)}) for i in range(50)])
    qtmodeltester.check(m, force_py=True)
    m.sort(COL_SIZE, Qt.SortOrder.DescendingOrder)
    m.set_filter(compile_filter("k=1"))
    qtmodeltester.check(m, force_py=True)


def test_ingest_model_passes_qtmodeltester(qtmodeltester):
    now = time.time_ns()
    m = IngestTableModel(clock=lambda: now)
    m.set_rows([IngestRow(f"ref-{i}", i * 100, 1000 if i % 2 else 0, None, now - 5 * NS, now - i * 30 * NS)
                for i in range(6)])
    qtmodeltester.check(m, force_py=True)
    m.sort(COL_STATE)
    qtmodeltester.check(m, force_py=True)


def test_sort_by_size_both_ways_and_keeps_selection_rows():
    m = BlobTableModel()
    rows = [row(i, size=s) for i, s in enumerate([5, 1, 9, 3])]
    m.append_rows(rows)
    m.sort(COL_SIZE, Qt.SortOrder.AscendingOrder)
    assert [m.row_at(i).size for i in range(4)] == [1, 3, 5, 9]
    m.sort(COL_SIZE, Qt.SortOrder.DescendingOrder)
    assert [m.row_at(i).size for i in range(4)] == [9, 5, 3, 1]
    assert m.data(m.index(0, COL_SIZE)) == "9 Bytes"
    assert m.data(m.index(0, COL_SIZE), Qt.ItemDataRole.ToolTipRole) == "9 B"


def test_batches_arriving_while_sorted_stay_sorted():
    m = BlobTableModel()
    m.sort(COL_SIZE, Qt.SortOrder.AscendingOrder)
    m.append_rows([row(1, 50), row(2, 10)])
    m.append_rows([row(3, 30), row(4, 5)])
    assert [m.row_at(i).size for i in range(4)] == [5, 10, 30, 50]
    assert m.total_bytes == 95


def test_plain_text_and_containerd_filters():
    m = BlobTableModel()
    m.append_rows([row(1, labels={"containerd.io/gc.root": "x"}), row(2, labels={"app": "web"}),
                   row(0xabc)])
    m.set_filter(compile_filter("WEB"))  # plain text is case-insensitive on labels
    assert m.rowCount() == 1 and m.row_at(0).labels == {"app": "web"}
    m.set_filter(compile_filter('labels."containerd.io/gc.root"'))
    assert m.rowCount() == 1 and "containerd.io/gc.root" in m.row_at(0).labels
    m.set_filter(compile_filter("digest~=abc$"))
    assert m.rowCount() == 1 and m.row_at(0).digest.endswith("abc")
    m.set_filter(None)
    assert m.rowCount() == 3
    with pytest.raises(FilterError, match="cannot be used"):
        compile_filter('labels."unterminated')


def test_snapshot_applies_only_the_difference():
    m = BlobTableModel()
    m.append_rows([row(i) for i in range(10)])
    kept = m.get(f"sha256:{3:064x}")
    kept.media_type = "application/json"
    removed = []
    inserted = []
    m.rowsRemoved.connect(lambda *a: removed.append(a[1:]))
    m.rowsInserted.connect(lambda *a: inserted.append(a[1:]))
    snapshot = [row(i) for i in range(1, 10)] + [row(42)]
    snapshot[2] = row(3)  # same content, a fresh object from the scanner
    m.apply_changes(*diff_rows(m.rows_by_digest(), snapshot))  # what a rescan does
    assert m.total_count == 10
    assert f"sha256:{0:064x}" not in {m.row_at(i).digest for i in range(m.rowCount())}
    assert removed == [(0, 0)] and len(inserted) == 1
    assert m.get(f"sha256:{3:064x}").media_type == "application/json"


def test_labels_render_as_plain_strings():
    m = BlobTableModel()
    m.append_rows([row(1, labels={"note": "<b>x</b><img src=x>"})])
    assert m.data(m.index(0, COL_LABELS)) == "note=<b>x</b><img src=x>"


def test_ingest_progress_and_stalled_marker():
    now = 1_000_000 * NS
    m = IngestTableModel(clock=lambda: now)
    m.set_rows([IngestRow("fresh", 50, 200, None, now - 10 * NS, now - 1 * NS),
                IngestRow("old", 7, 0, None, now - 7200 * NS, now - 3600 * NS),
                IngestRow("0123abcd", 0, 0, None, 0, 0, broken="startedat: empty file")])
    assert m.data(m.index(0, COL_PROGRESS)) == "50 Bytes of 200 Bytes (25%)"
    assert m.data(m.index(0, COL_PROGRESS), PROGRESS_ROLE) == (50, 200)
    assert m.data(m.index(1, COL_PROGRESS)) == "7 Bytes so far"
    assert m.data(m.index(0, COL_STATE)) == "active"
    assert m.data(m.index(1, COL_STATE)) == "stalled"
    assert m.data(m.index(1, COL_UPDATED)) == "an hour ago"
    assert m.data(m.index(2, COL_STATE)) == "damaged"
    assert m.data(m.index(2, COL_STATE), Qt.ItemDataRole.ToolTipRole) == "startedat: empty file"
    # an ingest that finished disappears; a new one appears
    m.set_rows([IngestRow("old", 9, 0, None, now - 7200 * NS, now)])
    assert m.rowCount() == 1 and m.row_at(0).offset == 9


def test_content_ref_keys_follow_containerd_rules():
    from store.graph import content_ref_name  # what the window's referrers() index uses

    def is_content_ref_key(key):
        return content_ref_name(key) is not None

    assert is_content_ref_key("containerd.io/gc.ref.content")
    assert is_content_ref_key("containerd.io/gc.ref.content.l.0")
    assert is_content_ref_key("containerd.io/gc.ref.content/foo")
    assert not is_content_ref_key("containerd.io/gc.ref.contentX")
    assert not is_content_ref_key("containerd.io/gc.root")


def test_appending_a_known_blob_replaces_its_row():
    m = BlobTableModel()
    m.append_rows([row(1), row(2)])
    newer = row(1, labels={"k": "v"})
    m.append_rows([newer])
    assert m.rowCount() == 2 and m.total_count == 2
    assert m.row_at(m.row_for(newer.digest)) is newer
    m.remove_digests([newer.digest])
    assert m.rowCount() == 1 and m.total_count == 1


@pytest.mark.parametrize("column", range(6))
def test_every_blob_column_sorts_both_ways(column):
    from gui.blobs.blob_model import SORT_KEYS
    m = BlobTableModel()
    m.append_rows([row(i, size=(i * 7919) % 13, labels={"n": str((i * 31) % 17)}) for i in range(40)])
    for r in list(m.all_rows())[::3]:
        r.media_type = f"type/{r.size % 5}"
    for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
        m.sort(column, order)
        keys = [SORT_KEYS[column](m.row_at(i)) for i in range(m.rowCount())]
        assert keys == sorted(keys, reverse=order == Qt.SortOrder.DescendingOrder)


@pytest.mark.parametrize("column", range(5))
def test_every_ingest_column_sorts(column):
    from gui.ingests.ingest_model import SORT_KEYS
    m = IngestTableModel(clock=lambda: 10**12)
    m.set_rows([IngestRow(f"r{i}", (i * 37) % 11, 20 if i % 2 else 0, None, i * 5, (i * 13) % 7)
                for i in range(12)])
    m.sort(column, Qt.SortOrder.DescendingOrder)
    keys = [SORT_KEYS[column](m.row_at(i)) for i in range(m.rowCount())]
    assert keys == sorted(keys, reverse=True)


def test_preview_media_type_is_the_stores_own_recognition(tmp_path):
    """The details preview names a blob's type as store.oci does (the media-type column's source)."""
    import gzip
    import io
    import json
    import tarfile

    from gui.operations import read_preview
    from store import LocalStore, oci

    s = LocalStore(tmp_path / "s")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo("etc/motd")
        info.size = 3
        tf.addfile(info, io.BytesIO(b"hi\n"))
    blobs = {"layer": gzip.compress(buf.getvalue()),
             "index": json.dumps({"schemaVersion": 2, "manifests": []}).encode()}
    for name, data in blobs.items():
        with s.writer(name) as w:
            w.write(data)
            d = w.commit()
        assert read_preview(s, d).media_type == oci.sniff_bytes(data).media_type != ""


def test_removals_one_after_another_keep_the_selection_and_the_changes_are_noted():
    """A second outside delete comes before the positions are worked out again: its row goes
    alone (no reset), a selected row stays selected on the same blob, and the digests removed
    are what the image graph is told (take_changes)."""
    from PySide6.QtCore import QItemSelectionModel

    m = BlobTableModel()
    m.append_rows([row(i) for i in range(40)])
    sel = QItemSelectionModel(m)
    keep = row(30).digest
    sel.select(m.index(m.row_for(keep), 0), QItemSelectionModel.SelectionFlag.Select)
    m.take_changes()
    resets: list[int] = []
    m.modelReset.connect(lambda: resets.append(1))
    for i in (5, 12, 20):  # each removal leaves the positions to be worked out again
        m.remove_digests([row(i).digest])
    assert resets == []
    assert m.rowCount() == 37 and m.row_for(row(12).digest) == -1
    assert [m.row_at(ix.row()).digest for ix in sel.selectedIndexes()] == [keep]
    assert m.take_changes() == {row(i).digest for i in (5, 12, 20)}
    m.remove_digests([row(i).digest for i in range(21, 30)])  # more than a few: one pass and a reset
    assert resets == [1] and m.rowCount() == 28
    assert m.take_changes() == {row(i).digest for i in range(21, 30)}
    m.clear()
    assert m.take_changes() is None  # every row: the graph is built whole


def _media(m: BlobTableModel) -> dict[str, str]:
    return {str(m.row_at(r).digest): m.row_at(r).media_type for r in range(m.rowCount())}


def test_many_media_types_fill_in_a_chunk_per_turn_in_the_order_given(qtbot, monkeypatch):
    """The cached media types of a million blobs arrive at once: filled a chunk per event-loop
    turn, never all on one; a later answer is not overwritten by an earlier, bigger one."""
    import gui.blobs.blob_model as bm
    monkeypatch.setattr(bm, "MEDIA_CHUNK", 40)
    m = BlobTableModel()
    rows = [row(i) for i in range(300)]
    m.append_rows(rows)
    small = {rows[0].digest: "application/x-small"}
    m.set_media_types(small)  # a chunk or less, nothing queued: at once
    assert _media(m)[rows[0].digest] == "application/x-small"
    big = {r.digest: "application/x-first" for r in rows}
    m.set_media_types(big)
    later = {rows[5].digest: "application/x-later"}
    m.set_media_types(later)
    filled = sum(v == "application/x-first" for v in _media(m).values())
    assert filled <= 40 and m.filling_media  # one chunk on the spot at the most
    qtbot.waitUntil(lambda: not m.filling_media, timeout=5000)
    got = _media(m)
    assert got[rows[5].digest] == "application/x-later"
    assert all(got[r.digest] == "application/x-first" for r in rows if r is not rows[5])


def test_a_burst_of_media_type_batches_is_filled_on_later_turns(qtbot):
    """The media-type pass hands over its answers a batch of a thousand at a time, and a worker's
    chunk lands as dozens of batches delivered in one event-loop turn: each was filled on the
    spot (130 ms of the GUI thread at 1M).  Beyond a preview's few they wait for the fill's turn."""
    m = BlobTableModel()
    rows = [row(i) for i in range(150)]
    m.append_rows(rows)
    m.set_media_types({r.digest: "application/x-batch" for r in rows[:100]})
    m.set_media_types({r.digest: "application/x-next" for r in rows[100:]})
    assert m.filling_media
    assert not any(v.startswith("application/x-") for v in _media(m).values())  # nothing on the spot
    qtbot.waitUntil(lambda: not m.filling_media, timeout=5000)
    got = _media(m)
    assert all(got[r.digest] == "application/x-batch" for r in rows[:100])
    assert all(got[r.digest] == "application/x-next" for r in rows[100:])


def test_media_types_filled_over_many_turns_are_shown_once_a_while(qtbot, monkeypatch):
    """Each turn of the fill repainted the whole table (8-18 ms at 1M rows): what is filled is
    shown every MEDIA_SHOW_S while more waits, and once more when the last is in."""
    import gui.blobs.blob_model as bm
    monkeypatch.setattr(bm, "MEDIA_SLICE", 10)
    monkeypatch.setattr(bm, "MEDIA_BUDGET_S", 0.0)  # one slice a turn
    monkeypatch.setattr(bm, "MEDIA_SHOW_S", 3600.0)
    m = BlobTableModel()
    rows = [row(i) for i in range(200)]
    m.append_rows(rows)
    shown: list[int] = []
    m.dataChanged.connect(lambda top, _bottom, *_roles: shown.append(top.column()))
    m.set_media_types({r.digest: "application/x-slow" for r in rows})
    qtbot.waitUntil(lambda: not m.filling_media, timeout=5000)
    assert all(v == "application/x-slow" for v in _media(m).values())
    assert shown.count(bm.COL_MEDIA) <= 2  # the first turn's, at most, and the last
