"""The blobs table: a QAbstractTableModel over column arrays (gui/blobs/columns.py).

The visible rows are an ``array('l')`` of row numbers.  Filtering and sorting run on a worker
thread over an immutable snapshot of the columns (gui/blobs/view.py); each request carries a
generation number, a newer request cancels the older one and a result of an older generation is
dropped, and the result is swapped in as one model reset (a filter) or one layout change that
keeps the selection (a sort).  A small table (``sync_rows`` rows or fewer) is filtered and sorted
on the spot: a few milliseconds, and the view never shows a half-way state.
"""

from __future__ import annotations

import logging
import time
import weakref
from array import array
from collections import deque
from itertools import compress, islice
from operator import attrgetter
from typing import Callable, Container, Iterable, Iterator

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QThreadPool,
    QTimer,
    Signal,
)

from store.blob_batches import BlobBatch

from .. import fmt
from ..jobs import Job, JobRunner
from ..kinds import kind_icon, kind_of
from ..rows import BlobRow
from . import view
from .columns import BlobColumns, ColumnsSnapshot, SnapshotRows
from .filtering import Query, as_query
from .table_model import RowTableModel
from .view import COL_CREATED, COL_DIGEST, COL_LABELS, COL_MEDIA, COL_SIZE, COL_UPDATED

log = logging.getLogger(__name__)

__all__ = ["BlobTableModel", "COL_CREATED", "COL_DIGEST", "COL_LABELS", "COL_MEDIA", "COL_SIZE",
           "COL_UPDATED", "REMOVE_CHUNK", "SORT_KEYS"]

SORT_KEYS: dict[int, Callable[[BlobRow], object]] = {
    COL_DIGEST: attrgetter("digest"),
    COL_SIZE: attrgetter("size"),
    COL_CREATED: attrgetter("created_ns"),
    COL_UPDATED: attrgetter("updated_ns"),
    COL_MEDIA: attrgetter("media_type"),
    COL_LABELS: attrgetter("labels_text"),
}
# Above this many changed rows the model resets instead of moving rows one by one.
_INCREMENTAL_LIMIT = 256
# rows removed one by one while their positions are not worked out: each is found by one C-level
# scan of the visible rows (~10 ms at 1M), where the alternative is a Python pass over every row
# and a reset that drops the selection (~100 ms at 1M)
_INDEX_LIMIT = 8
SYNC_ROWS = 20_000      # up to this many rows a filter or sort runs on the spot
REMOVE_CHUNK = 2_500    # digests a big removal takes out per event-loop turn (10k took 30-60 ms at 1M)
RESORT_DELAY_MS = 300   # rows added while sorted are re-sorted (in the background) this much later
MEDIA_CHUNK = 20_000    # media types one event-loop turn fills in at the most (a warm cache answers 1M at once: ~2 s)
# ...and only for this long: a digest is found in the columns' index in Python (3-6 us each), so
# 20k took 60-130 ms of the GUI thread a turn at 1M; the media-type pass's answers (1000 a
# batch, 60 batches delivered in one turn when a worker's chunk lands) were each filled on the
# spot, 130 ms of the GUI thread's own CPU in a row (tests/perf/RESULTS.md)
MEDIA_BUDGET_S = 0.008
MEDIA_SLICE = 256       # filled between two looks at the clock
MEDIA_SHOW_S = 0.25     # while more wait, what was filled is shown (repainted, re-sorted) this often
MEDIA_AT_ONCE = 64      # this many or fewer (a preview's answer) are filled on the spot when nothing waits


class _Cancelled(Exception):
    """A newer keystroke or sort took over: the job stopped, nothing failed (the job runner logs
    a ``kind == "canceled"`` error as stopped, at info, not as a failure)."""

    kind = "canceled"

    def __str__(self) -> str:
        return "a newer filter or sort took over"


class BlobTableModel(RowTableModel):
    """All blobs (columns) and the visible, filtered and sorted subset (``_order``)."""

    SORT_KEYS = SORT_KEYS
    totalsChanged = Signal()
    viewBusy = Signal(bool)   # a background filter or sort started (True) or landed/was dropped (False)
    viewApplied = Signal()    # a background result is in the table

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._cols = BlobColumns()
        self._order = array("l")
        self._where: array | None = array("l")  # row number -> visible position (None: work it out)
        self._query: Query | None = None
        self._headers = [self.tr("Digest"), self.tr("Size"), self.tr("Media type"),
                         self.tr("Labels"), self.tr("Created"), self.tr("Updated")]
        self._views: weakref.WeakValueDictionary[int, BlobRow] = weakref.WeakValueDictionary()
        self._snap: ColumnsSnapshot | None = None
        self._gen = 0
        self._job: Job | None = None
        self._job_started = 0.0
        self.sync_rows = SYNC_ROWS
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._runner = JobRunner(self, pool=self._pool)
        self._resort = QTimer(self)
        self._resort.setSingleShot(True)
        self._resort.setInterval(RESORT_DELAY_MS)
        self._resort.timeout.connect(lambda: self._request(layout=True))
        self._removing: list[str] = []   # digests of a big removal still to take out
        self._removed: list[int] = []    # their row numbers taken out so far
        self._drain = QTimer(self)
        self._drain.setSingleShot(True)
        self._drain.setInterval(0)
        self._drain.timeout.connect(self._drain_removals)
        self._media: deque[Iterator[tuple[str, str]]] = deque()  # media types still to fill in, in order
        self._media_timer = QTimer(self)
        self._media_timer.setSingleShot(True)
        self._media_timer.setInterval(0)
        self._media_timer.timeout.connect(self._fill_media)
        self._media_shown = 0.0  # perf_counter() when filled media types were last shown
        # digests added, removed or changed since the image graph last took them (None: every row,
        # after a listing or a clear): the graph is updated for these alone (gui/images)
        self._changes: set[str] | None = None

    # ---- Qt model interface
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._order)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        cols = self._cols
        rid = self._order[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == COL_DIGEST:
                return fmt.short_digest(cols.digest_of(rid))
            if col == COL_SIZE:
                return fmt.size(cols.sizes[rid])
            if col == COL_CREATED:
                return fmt.local_time(cols.created[rid])
            if col == COL_UPDATED:
                return fmt.local_time(cols.updated[rid])
            if col == COL_MEDIA:
                return cols.media_of(rid) or "—"
            if col == COL_LABELS:
                return cols.labels_text_of(rid)
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == COL_DIGEST:
                if cols.verified_of(rid) is False:
                    return self.tr("{digest}\nVerification failed: the content does not match "
                                   "its digest.").format(digest=cols.digest_of(rid))
                return cols.digest_of(rid)
            if col == COL_SIZE:
                return fmt.exact_size(cols.sizes[rid])
            labels = cols.labels_of(rid)
            if col == COL_LABELS and labels:
                return "\n".join(f"{k}={v}" for k, v in sorted(labels.items()))
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole and col == COL_SIZE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and cols.verified_of(rid) is False:
            from PySide6.QtGui import QColor
            return QColor(200, 30, 30)
        if role == Qt.ItemDataRole.DecorationRole and col == COL_MEDIA:
            return kind_icon(kind_of(cols.media_of(rid), cols.sizes[rid]))
        if role == Qt.ItemDataRole.DecorationRole and col == COL_DIGEST:
            verified = cols.verified_of(rid)
            if verified is not None:
                from ..resources import icon
                return icon("verify-ok" if verified else "verify-bad")
        return None

    # ---- rows as objects (made on demand, bound to the columns)
    def _view(self, rid: int) -> BlobRow:
        r = self._views.get(rid)
        if r is None or r._bound is not self._cols:
            r = self._cols.row(rid)
            self._views[rid] = r
        return r

    def row_at(self, row: int) -> BlobRow:
        """The blob shown at visible row ``row``."""
        return self._view(self._order[row])

    def rid_at(self, row: int) -> int:
        return self._order[row]

    def rids_in(self, top: int, bottom: int) -> array:
        """Row numbers of visible rows ``top..bottom`` (inclusive), one slice."""
        return self._order[top:bottom + 1]

    def _positions(self) -> array:
        if self._where is None:
            self._where = view.positions(self._order, self._cols.n)
        return self._where

    def row_for(self, digest: str) -> int:
        """Visible row number of a digest, or -1."""
        rid = self._cols.find(digest)
        if rid < 0:
            return -1
        if self._where is None:
            try:
                return self._order.index(rid)
            except ValueError:
                return -1
        return self._where[rid] if rid < len(self._where) else -1

    def visible_rows_of(self, digests: Container[str] | Iterable[str]) -> list[int]:
        """Visible row numbers of ``digests``, ascending (for selecting thousands at once)."""
        find = self._cols.find
        where = self._positions()
        rows = []
        for d in digests:  # type: ignore[union-attr]
            rid = find(d)
            if rid >= 0 and rid < len(where) and where[rid] >= 0:
                rows.append(where[rid])
        rows.sort()
        return rows

    def visible_rows_at(self, rids: Iterable[int]) -> list[int]:
        """Visible row numbers of these row numbers (gui/blobs/columns.py), ascending; one C-level pass."""
        where = self._positions()
        rows = [p for p in map(where.__getitem__, rids) if p >= 0]
        rows.sort()
        return rows

    def get(self, digest: str) -> BlobRow | None:
        rid = self._cols.find(digest)
        return None if rid < 0 else self._view(rid)

    def all_rows(self) -> Iterator[BlobRow]:
        """Every blob (made one at a time; a worker should iterate :meth:`snapshot` instead)."""
        cols = self._cols
        return (self._view(rid) for rid in cols.live_rids())

    def snapshot(self) -> SnapshotRows:
        """Every blob as an immutable sequence of rows, safe to read on any thread."""
        return self._snapshot().rows()

    def columns_snapshot(self) -> ColumnsSnapshot:
        return self._snapshot()

    def _snapshot(self) -> ColumnsSnapshot:
        snap = self._snap
        if snap is None or snap.version != self._cols.version or snap.n != self._cols.n:
            snap = self._snap = self._cols.snapshot(prev=snap)
        return snap

    def total_rows_of(self, rids: Iterable[int]) -> int:
        return sum(map(self._cols.sizes.__getitem__, rids))

    @property
    def total_count(self) -> int:
        return self._cols.count

    @property
    def total_bytes(self) -> int:
        return self._cols.total_bytes

    @property
    def columns(self) -> BlobColumns:
        return self._cols

    @property
    def busy(self) -> bool:
        """A background filter or sort is under way."""
        return self._job is not None

    # ---- filtering and sorting
    def set_filter(self, predicate: Callable[[BlobRow], bool] | Query | None) -> None:
        self._flush_removals()
        self._query = as_query(predicate)
        self._request(layout=False)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self._flush_removals()
        self._sort_col = column if column in self.SORT_KEYS else -1
        self._sort_order = order
        self._request(layout=True)

    def _sort_in_place(self) -> None:  # RowTableModel's hook: sorting goes through _request here
        self._request(layout=True)

    def _request(self, *, layout: bool) -> None:
        """Work out the visible rows again: at once for a small table, else on the worker."""
        self._resort.stop()
        self._gen += 1
        gen = self._gen
        if self._job is not None:
            self._job.cancel()
            self._job = None
        snap = self._snapshot()
        query, column = self._query, self._sort_col
        descending = self._sort_order == Qt.SortOrder.DescendingOrder
        if snap.n <= self.sync_rows:
            order, where = view.compute(snap, query, column, descending)
            self._apply(order, where, snap, layout=layout)
            return

        def work(job: Job):
            def check():
                if job.cancelled or gen != self._gen:
                    raise _Cancelled()
            # a pool job: it runs with a short GIL switch interval (gui/jobs.py, gui/short_switch.py)
            return view.compute(snap, query, column, descending, check)

        def done(result):
            if gen != self._gen:
                return  # a newer keystroke or sort: this result is stale
            self._job = None
            self.viewBusy.emit(False)
            self._apply(*result, snap, layout=layout)
            self.viewApplied.emit()

        def failed(error):
            if gen == self._gen:
                self._job = None
                self.viewBusy.emit(False)
                if not isinstance(error, _Cancelled):
                    log.error("filtering the blobs failed: %s", error)

        self._job_started = time.monotonic()
        self._job = self._runner.start("filter blobs", work, on_done=done, on_error=failed)
        self.viewBusy.emit(True)

    def _apply(self, order: array, where: array, snap: ColumnsSnapshot, *, layout: bool) -> None:
        cols = self._cols
        if snap.n != cols.n or snap.version != cols.version:
            # rows changed while the worker ran: drop the dead, add the new, and look again
            alive = cols.alive
            kept = array("l")
            for a in range(0, len(order), view.CHUNK):
                part = order[a:a + view.CHUNK]
                kept.extend(compress(part, map(alive.__getitem__, part)))
            order = kept
            query = self._query
            order.extend(rid for rid in range(snap.n, cols.n)
                         if alive[rid] and (query is None or query(cols.row(rid))))
            where = view.positions(order, cols.n)
            self._resort.start()
        if layout and self.persistentIndexList():
            self.layoutAboutToBeChanged.emit()
            old_order = self._order
            persistent = [p for p in self.persistentIndexList() if p.isValid() and p.row() < len(old_order)]
            new_pos = [where[old_order[p.row()]] if old_order[p.row()] < len(where) else -1 for p in persistent]
            self._order, self._where = order, where
            self.changePersistentIndexList(
                persistent, [self.index(pos, p.column()) if pos >= 0 else QModelIndex()
                             for p, pos in zip(persistent, new_pos)])
            self.layoutChanged.emit()
        else:
            self.beginResetModel()
            self._order, self._where = order, where
            self.endResetModel()

    # ---- what changed
    def _note(self, digests: Iterable[str]) -> None:
        if self._changes is not None:
            self._changes.update(digests)

    def take_changes(self) -> set[str] | None:
        """The digests added, removed or changed since the last call; None when every row may
        have (a listing, a clear): the caller starts from all of them."""
        changes, self._changes = self._changes, set()
        return changes

    # ---- feeding
    def clear(self) -> None:
        self._changes = None
        self._gen += 1
        self._drain.stop()
        self._removing, self._removed = [], []
        if self._job is not None:
            self._job.cancel()
            self._job = None
            self.viewBusy.emit(False)
        self._resort.stop()
        self.beginResetModel()
        self._cols.close()  # its indexer thread, if still at work, stops
        self._cols = BlobColumns()
        self._snap = None
        self._order = array("l")
        self._where = array("l")
        self.endResetModel()
        self.totalsChanged.emit()

    def _bind(self, row: BlobRow, rid: int) -> None:
        row.bind(self._cols, rid)
        self._views[rid] = row

    def append_rows(self, rows: list[BlobRow] | BlobBatch) -> None:
        """A batch of a first scan (or new blobs): rows appear at once, at the end (sorted in
        a moment later, in the background, if a sort is active)."""
        if isinstance(rows, BlobBatch):
            self.append_batch(rows)
            return
        self._flush_removals()
        self._note(r.digest for r in rows)
        cols = self._cols
        find = cols.find_row
        known: list[BlobRow] = []
        fresh: list[BlobRow] = []
        for r in rows:
            (fresh if find(r) < 0 else known).append(r)
        if known:  # e.g. importing content that is already there: update the row in place
            self.replace_rows(known, emit_totals=False)
        if len({r.digest for r in fresh}) < len(fresh):  # a digest twice in one batch: the last wins
            fresh = list({r.digest: r for r in fresh}.values())
        query = self._query
        rids = cols.add_many(fresh)
        if query is None:
            visible = list(rids)
        else:
            visible = [rid for rid, r in zip(rids, fresh) if query(r)]
        if visible:
            self._show(visible)
        self.totalsChanged.emit()

    def append_batch(self, batch: BlobBatch) -> None:
        """A batch of columns from a first scan (store/blob_batches.py): appended as columns with
        no row object per blob, shown with one insert (sorted later, in the background)."""
        self._flush_removals()
        self._changes = None  # a listing: the graph is built from every row
        cols = self._cols
        rids, dups = cols.add_batch(batch)
        if dups:  # already here (an update by name was faster): the listing's values win
            rows = []
            for rid, _old in dups:
                row = cols.row(rid)
                row.bind(None, -1)
                rows.append(row)
            self.replace_rows(rows, emit_totals=False)
        query = self._query
        alive = cols.alive
        if query is None and not dups:
            visible: range | list[int] = rids
        else:
            visible = [rid for rid in rids if alive[rid] and (query is None or query(cols.row(rid)))]
        if visible:
            self._show(visible)
        self.totalsChanged.emit()

    def _show(self, rids: list[int] | range) -> None:
        """Append these row numbers to the visible rows; re-sort later if a sort is active."""
        first = len(self._order)
        self.beginInsertRows(QModelIndex(), first, first + len(rids) - 1)
        self._order.extend(rids)
        where = self._where
        if where is not None:
            n = self._cols.n
            if len(where) < n:
                where.extend(array("l", [-1]) * (n - len(where)))
            if isinstance(rids, range) and rids.step == 1:  # a scan's batch: one slice assignment
                where[rids.start:rids.stop] = array("l", range(first, first + len(rids)))
            else:
                for p, rid in enumerate(rids, first):
                    where[rid] = p
        self.endInsertRows()
        if self._sort_col >= 0:
            if self._cols.n <= self.sync_rows:
                self._request(layout=True)
            elif not self._resort.isActive():
                self._resort.start()

    def rows_by_digest(self) -> ColumnsSnapshot:
        """Every row by digest: an immutable snapshot (the base a scanner-thread rescan diffs against)."""
        return self._snapshot()

    def apply_changes(self, removed: list[str], added: list[BlobRow], changed: list[BlobRow]) -> None:
        """Apply a rescan's differences (``rows.diff_rows``, on the scanner thread)."""
        self._flush_removals()
        self._note(removed)
        self._note(r.digest for r in added)
        self._note(r.digest for r in changed)
        if not (removed or added or changed):
            return
        if len(removed) + len(added) + len(changed) > _INCREMENTAL_LIMIT:
            cols = self._cols
            if len(removed) > REMOVE_CHUNK:  # a chunk per event-loop turn, after the rest
                self.remove_digests(removed, emit_totals=False)
                removed = []
            for d in removed:
                cols.remove(d)
            for r in changed:
                rid = cols.find(r.digest)
                if rid >= 0:
                    cols.update(rid, r, keep_media=True, keep_verified=True)
            for r in added:
                rid = cols.find(r.digest)
                if rid >= 0:
                    cols.update(rid, r, keep_media=True, keep_verified=False)
                else:
                    cols.add(r)
            self._hide_dead()
            self._request(layout=False)
            self.totalsChanged.emit()
        else:  # append_rows emits totalsChanged once for all three
            self.remove_digests(removed, emit_totals=False)
            self._replace(changed, keep_media=True, keep_verified=True)
            self.append_rows(added)

    def _hide_dead(self) -> None:
        """Drop dead rows from the visible ones now (one reset), before a fresh result lands."""
        alive = self._cols.alive
        order = self._order
        keep = array("l")
        for a in range(0, len(order), view.CHUNK):
            part = order[a:a + view.CHUNK]
            keep.extend(compress(part, map(alive.__getitem__, part)))
        if len(keep) == len(order):
            return
        self.beginResetModel()
        self._order = keep
        self._where = None
        self.endResetModel()

    def remove_digests(self, digests: Iterable[str], *, emit_totals: bool = True) -> None:
        """Blobs gone.  Above ``REMOVE_CHUNK`` digests (a Delete of 100k selected rows) they go a
        chunk per event-loop turn and the table drops them in one reset at the end, so the GUI
        thread never spends long on it; any other change first finishes a removal under way."""
        digests = list(digests)
        self._note(digests)
        if len(digests) > REMOVE_CHUNK or self._removing:
            self._removing.extend(digests)
            if not self._drain.isActive():
                self._drain.start()
            return
        self._remove_now(digests, emit_totals=emit_totals)

    def _drain_removals(self) -> None:
        chunk, self._removing = self._removing[:REMOVE_CHUNK], self._removing[REMOVE_CHUNK:]
        cols = self._cols
        self._removed.extend(rid for rid in map(cols.remove, chunk) if rid >= 0)
        if self._removing:
            self._drain.start()
            return
        gone, self._removed = self._removed, []
        if gone:
            if self._cols.n > self.sync_rows:
                # the worker works out the rows left (its snapshot has them dead): no pass over a
                # million rows here; until it lands the removed rows still show what they were
                self._where = None
                self._request(layout=False)
            else:
                self._hide_dead_at(gone)
        self.totalsChanged.emit()

    def _flush_removals(self) -> None:
        """Finish a removal under way before anything else changes the rows."""
        if self._removing or self._removed:
            self._drain.stop()
            cols = self._cols
            self._removed.extend(rid for rid in map(cols.remove, self._removing) if rid >= 0)
            self._removing = []
            gone, self._removed = self._removed, []
            if gone:
                self._hide_dead_at(gone)
            self.totalsChanged.emit()

    @property
    def removing(self) -> bool:
        """Rows of a big removal are still being taken out."""
        return bool(self._removing)

    def _remove_now(self, digests: list[str], *, emit_totals: bool) -> None:
        cols = self._cols
        gone = [rid for rid in map(cols.remove, digests) if rid >= 0]
        if not gone:
            return
        where = self._where
        if len(gone) > _INCREMENTAL_LIMIT or (where is None and len(gone) > _INDEX_LIMIT):
            self._hide_dead_at(gone)
        else:
            if where is None:  # positions not worked out (a removal came just before): one C scan each
                positions = sorted(p for p in map(self._index_of, gone) if p >= 0)
            else:
                positions = sorted(where[r] for r in gone if r < len(where) and where[r] >= 0)
            for i in reversed(positions):
                self.beginRemoveRows(QModelIndex(), i, i)
                del self._order[i]
                self.endRemoveRows()
            if positions:
                self._where = None  # positions after the first removed one moved up
        if emit_totals:
            self.totalsChanged.emit()

    def _index_of(self, rid: int) -> int:
        try:
            return self._order.index(rid)
        except ValueError:
            return -1

    def _hide_dead_at(self, gone: list[int]) -> None:
        """Remove dead rows from the visible order with one reset: slices between their positions."""
        where = self._where
        order = self._order
        if where is None:
            alive = self._cols.alive
            keep = array("l")
            for a in range(0, len(order), view.CHUNK):
                part = order[a:a + view.CHUNK]
                keep.extend(compress(part, map(alive.__getitem__, part)))
        else:
            positions = sorted(where[r] for r in gone if r < len(where) and where[r] >= 0)
            if not positions:
                return
            keep = array("l")
            prev = 0
            for p in positions:
                keep.extend(order[prev:p])
                prev = p + 1
            keep.extend(order[prev:])
        # one reset: each single-row removal costs O(rows + selection ranges), so deleting
        # 5 000 selected blobs one by one froze the window for over a second
        self.beginResetModel()
        self._order = keep
        self._where = None
        self.endResetModel()

    def replace_rows(self, rows: Iterable[BlobRow], *, emit_totals: bool = True) -> None:
        """New versions of known blobs (labels edited, verification done)."""
        self._flush_removals()
        self._replace(list(rows), keep_media=True, keep_verified=False)
        if emit_totals:
            self.totalsChanged.emit()

    def _replace(self, rows: list[BlobRow], *, keep_media: bool, keep_verified: bool) -> None:
        self._note(r.digest for r in rows)
        cols = self._cols
        query = self._query
        last = self.columnCount() - 1
        hide: list[int] = []
        show: list[int] = []
        for r in rows:
            rid = cols.find(r.digest)
            if rid < 0:
                continue
            cols.update(rid, r, keep_media=keep_media, keep_verified=keep_verified)
            self._bind(r, rid)
            pos = self.row_for(r.digest)
            matches = query is None or query(r)
            if pos >= 0:
                if matches:
                    self.dataChanged.emit(self.index(pos, 0), self.index(pos, last))
                else:  # an edit can make a row stop matching the filter
                    hide.append(rid)
            elif matches:
                show.append(rid)
        if hide:
            for rid in hide:
                i = self.row_for(cols.digest_of(rid))
                if i >= 0:
                    self.beginRemoveRows(QModelIndex(), i, i)
                    del self._order[i]
                    self._where = None
                    self.endRemoveRows()
        if show:
            self._show(show)
        elif rows and self._sort_col >= 0:
            if cols.n <= self.sync_rows:
                self._request(layout=True)
            else:
                self._resort.start()

    def set_media_types(self, types: dict[str, str]) -> None:
        """Media types learned later (previews, the OCI graph) fill the column in place: at once up
        to ``MEDIA_AT_ONCE`` when nothing waits, else per event-loop turn (in the order they came)
        as many as ``MEDIA_BUDGET_S`` allows (``MEDIA_CHUNK`` at the most), so neither the cached
        answers of a million blobs nor a burst of the media-type pass's batches hold the GUI thread."""
        if not types:
            return
        self._media.append(iter(list(types.items())) if len(types) > MEDIA_AT_ONCE else iter(types.items()))
        if len(self._media) == 1 and len(types) <= MEDIA_AT_ONCE:
            self._fill_media()
        elif not self._media_timer.isActive():
            self._media_timer.start()

    @property
    def filling_media(self) -> bool:
        """Media types handed over are still being filled in (tests, the benchmark)."""
        return bool(self._media)

    def _fill_media(self) -> None:
        cols = self._cols
        budget = MEDIA_CHUNK
        deadline = time.perf_counter() + MEDIA_BUDGET_S
        while self._media and budget > 0:
            part = min(budget, MEDIA_SLICE)
            took = 0
            for d, mt in islice(self._media[0], part):
                took += 1
                rid = cols.find(d)
                if rid >= 0 and mt:
                    cols.set_media(rid, mt)
            if took < part:
                self._media.popleft()
            budget -= took
            if time.perf_counter() >= deadline:
                break
        if self._media:
            self._media_timer.start()
            now = time.perf_counter()
            if now - self._media_shown < MEDIA_SHOW_S:
                return  # shown with a later turn's (a repaint of the table each turn cost 8-18 ms more)
            self._media_shown = now
        if self._sort_col == COL_MEDIA:
            self._request(layout=True)
        if self._order:
            self.dataChanged.emit(self.index(0, COL_MEDIA), self.index(len(self._order) - 1, COL_MEDIA))

    def mark_verified(self, results: dict[str, bool]) -> None:
        cols = self._cols
        for d, ok in results.items():
            rid = cols.find(d)
            if rid >= 0:
                cols.set_verified(rid, ok)
        if self._order:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._order) - 1, self.columnCount() - 1))

    def shutdown(self, msecs: int = 10_000) -> None:
        """Stop the filter worker (the window closes or the application quits)."""
        self._gen += 1
        self._resort.stop()
        self._media_timer.stop()
        self._media.clear()
        self._cols.close()
        self._runner.wait(msecs)
