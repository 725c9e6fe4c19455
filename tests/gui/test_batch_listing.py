"""A first scan as batches of columns in directory order: the view still ends sorted, complete,
equal to the disk; a blob an update added first is updated, not listed twice."""

from __future__ import annotations

import hashlib

import pytest
from PySide6.QtCore import Qt

from gui.blobs.blob_model import COL_DIGEST, COL_SIZE, BlobTableModel
from gui.blobs.filtering import compile_filter
from gui.rows import BlobRow
from gui.scanner import StoreScanner
from store import Digest, LocalStore
from tests.gui.conftest import add_blob, blob_digests


def fill(root, n: int) -> LocalStore:
    store = LocalStore(root)
    d = root / "blobs" / "sha256"
    d.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        data = b"x" * (i % 37) + b"%d" % i
        (d / hashlib.sha256(data).hexdigest()).write_bytes(data)
    for i in range(0, n, 50):
        data = b"x" * (i % 37) + b"%d" % i
        store.labels.set(Digest("sha256:" + hashlib.sha256(data).hexdigest()), {"app": f"web-{i}"})
    return store


def shown(m: BlobTableModel) -> list[str]:
    return [m.row_at(i).digest for i in range(m.rowCount())]


def settle(qtbot, m: BlobTableModel) -> None:
    """The background sort of the appended rows (after its delay) has landed."""
    qtbot.waitUntil(lambda: not m.busy, timeout=20000)
    qtbot.waitUntil(lambda: not m._resort.isActive(), timeout=5000)
    qtbot.waitUntil(lambda: not m.busy, timeout=20000)


@pytest.fixture
def model(qtbot):
    m = BlobTableModel()
    m.sync_rows = 0  # sorting and filtering on the worker, as at a million rows
    yield m
    m.shutdown()


@pytest.mark.parametrize("column", [COL_DIGEST, COL_SIZE])
def test_unordered_batches_end_in_a_sorted_complete_view(qtbot, tmp_path, model, column):
    store = fill(tmp_path / "s", 3000)
    model.sort(column, Qt.SortOrder.AscendingOrder)
    batches = list(store.walk_batches(first=50, size=400))
    names = [n for b in batches for n in b.names]
    assert names != sorted(names)  # directory order: the model has sorting to do
    for b in batches:
        model.append_rows(b)
    settle(qtbot, model)
    disk = list(store.walk())
    rows = [model.row_at(i) for i in range(model.rowCount())]
    assert sorted(r.digest for r in rows) == [str(i.digest) for i in disk]
    if column == COL_DIGEST:
        assert [r.digest for r in rows] == [str(i.digest) for i in disk]
    else:
        assert [r.size for r in rows] == sorted(i.size for i in disk)
    by_digest = {r.digest: r for r in rows}
    for info in disk:
        r = by_digest[str(info.digest)]
        assert (r.size, r.created_ns, r.updated_ns, r.labels) == (info.size, info.created_ns, info.updated_ns,
                                                                  info.labels)
        assert model.row_for(r.digest) >= 0
    assert model.total_count == 3000 and model.total_bytes == sum(i.size for i in disk)


def test_a_filter_typed_before_the_listing_applies_to_its_batches(qtbot, tmp_path, model):
    store = fill(tmp_path / "s", 1000)
    model.set_filter(compile_filter("web-"))
    qtbot.waitUntil(lambda: not model.busy, timeout=20000)
    for b in store.walk_batches(first=10, size=100):
        model.append_rows(b)
    settle(qtbot, model)
    assert sorted(shown(model)) == sorted(str(i.digest) for i in store.walk() if i.labels)
    assert model.total_count == 1000


def test_a_blob_already_there_is_updated_not_listed_twice(qtbot, tmp_path, model):
    store = fill(tmp_path / "s", 500)
    first = next(iter(store.walk()))
    stale = BlobRow(str(first.digest), 999_999, 1, 2, {"old": "label"})
    model.append_rows([stale])  # e.g. the watch named it before the listing reached it
    model.row_at(0).verified = True
    for b in store.walk_batches(first=10, size=100):
        model.append_rows(b)
    settle(qtbot, model)
    assert model.total_count == 500 and model.rowCount() == 500
    assert sorted(shown(model)) == sorted(str(i.digest) for i in store.walk())
    row = model.get(str(first.digest))
    assert row is not None
    assert (row.size, row.created_ns, row.updated_ns, row.labels) == (first.size, first.created_ns,
                                                                      first.updated_ns, first.labels)
    assert row.verified is None  # new content: the old verification no longer holds
    assert model.total_bytes == sum(i.size for i in store.walk())


def test_the_scanner_sends_a_local_store_as_columns(qtbot, tmp_path):
    store = fill(tmp_path / "s", 700)
    scanner = StoreScanner()
    try:
        scanner.worker.first_batch = 20
        scanner.worker.batch = 200
        got: list = []
        scanner.blobsBatch.connect(got.append)
        scanner.set_store(store)
        with qtbot.waitSignal(scanner.blobsDone, timeout=20000):
            scanner.rescan()
        assert [len(b) for b in got][0] == 20 and all(hasattr(b, "names") for b in got)
        assert all(b.raw for b in got)  # packed by the listing's child process
        infos = sorted((info for b in got for info in b), key=lambda i: str(i.digest))
        assert infos == list(store.walk())
    finally:
        scanner.stop()


def test_the_window_lists_a_store_equal_to_the_disk(qtbot, make_window, store):
    digests = {str(add_blob(store, b"blob %d" % i, {"n": str(i)} if i % 9 == 0 else None)) for i in range(120)}
    win = make_window(store.root)
    qtbot.waitUntil(lambda: blob_digests(win) == digests, timeout=10000)
    win.blob_view.sortByColumn(COL_DIGEST, Qt.SortOrder.DescendingOrder)
    qtbot.waitUntil(lambda: not win.blob_model.busy, timeout=10000)
    assert shown(win.blob_model) == sorted(digests, reverse=True)
    assert win.blob_model.get(sorted(digests)[0]) is not None


def test_another_algorithm_lists_through_the_same_batches(qtbot, tmp_path, model):
    store = fill(tmp_path / "s", 40)
    d = tmp_path / "s" / "blobs" / "sha512"
    d.mkdir()
    for i in range(25):
        (d / hashlib.sha512(b"%d" % i).hexdigest()).write_bytes(b"%d" % i)
    model.sort(COL_DIGEST, Qt.SortOrder.AscendingOrder)
    for b in store.walk_batches(first=3, size=10):
        model.append_rows(b)
    settle(qtbot, model)
    assert shown(model) == [str(i.digest) for i in store.walk()]
    assert model.row_for("sha512:" + hashlib.sha512(b"7").hexdigest()) >= 0
    assert model.total_count == 65
