"""The blobs table's rows as columns: a million blobs in a few tens of bytes each.

One Python object per blob (digest string, labels dict, text, ...) costs about 1 KiB; here a
row is a position ``rid`` in flat arrays:

* the digest as 32 raw bytes in one ``bytearray`` (sha256; another algorithm keeps its text
  in a side table and 32 bytes of its hash as the key);
* size, created and updated times in ``array('q')``;
* labels as an index into a table of distinct label sets (most blobs share theirs: none, or a
  few gc labels) with their text; media types as an index into a table of distinct strings;
* verification and liveness as one byte each.

Rows are appended and marked dead, never moved, so a ``rid`` stays valid until :meth:`BlobColumns`
is replaced (a new store).  A digest finds its row through :class:`DigestIndex`, an open-addressing
hash table of row numbers in an ``array('q')`` (8 bytes a slot, instead of a dict's ~100 bytes
per entry plus a string).  A first listing's batches are indexed by a worker thread
(:class:`_Indexer`): until it hands a batch over, its rows are "pending" and a lookup searches
their digests with one C-level ``find`` per pending batch.

:class:`ColumnsSnapshot` is an immutable copy that worker threads filter and sort
(gui/blobs/view.py) while the GUI thread goes on changing the live columns.
"""

from __future__ import annotations

import sys
import threading
import time
import weakref
from array import array
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from ..rows import BlobRow, digest_key, labels_text
from ..short_switch import short_switches

if TYPE_CHECKING:
    from collections.abc import Iterable

    from store.blob_batches import BlobBatch

STRIDE = 32
SHA256 = "sha256:"
_EMPTY, _TOMB = -1, -2
EARLY_GROWTH = 4  # rows a scan batch may rehash early (per row it adds): see DigestIndex._grow_early
_VERIFIED = {None: 0, True: 1, False: 2}
_VERIFIED_BACK = (None, True, False)


class DigestIndex:
    """Digest key -> row number: open addressing with linear probing over ``array('q')`` tables.

    256 shards, each growing on its own, so a growth rehashes 1/256 of the rows (a few ms at a
    million) instead of stalling the GUI thread for all of them at once.
    """

    SHARDS = 256

    def __init__(self, shards: list[array] | None = None, used: list[int] | None = None):
        if shards is None:
            shards = [array("q", [_EMPTY]) * 16 for _ in range(self.SHARDS)]
            used = [0] * self.SHARDS
        self.shards = shards
        self.used = used if used is not None else [0] * self.SHARDS  # live entries and tombstones
        self.shared = [False] * self.SHARDS  # a copy holds this shard too: copy it before a change

    def copy(self) -> "DigestIndex":
        """A frozen copy, copy-on-write: the shards are copied only when this index changes them."""
        self.shared = [True] * self.SHARDS
        return DigestIndex(list(self.shards), list(self.used))

    def _own(self, s: int) -> array:
        if self.shared[s]:
            self.shards[s] = array("q", self.shards[s])
            self.shared[s] = False
        return self.shards[s]

    def nbytes(self) -> int:
        return sum(8 * len(t) for t in self.shards)

    @staticmethod
    def _slot_of(table: array, h: int, key: bytes, keys: bytes | bytearray) -> int:
        """The slot of ``table`` (the shard of hash ``h``) that holds ``key``'s row, or -1."""
        mask = len(table) - 1
        slot = (h >> 8) & mask
        while True:
            rid = table[slot]
            if rid == _EMPTY:
                return -1
            if rid >= 0 and keys[rid * STRIDE:(rid + 1) * STRIDE] == key:
                return slot
            slot = (slot + 1) & mask

    def find(self, key: bytes, keys: bytes | bytearray) -> int:
        h = hash(key)
        table = self.shards[h & 255]
        slot = self._slot_of(table, h, key, keys)
        return table[slot] if slot >= 0 else -1

    def find_live(self, key: bytes, keys: bytes | bytearray, alive: bytes | bytearray, n: int) -> int:
        """The row of ``key`` if it is below ``n`` and alive, else -1 (a worker may be adding to
        this index meanwhile: a shard is replaced whole, a slot set in one step)."""
        rid = self.find(key, keys)
        return rid if 0 <= rid < n and alive[rid] else -1

    def insert(self, key: bytes, rid: int, keys: bytearray) -> None:
        """Add a key known to be absent (``keys`` already holds it at ``rid``)."""
        h = hash(key)
        s = h & 255
        table = self._own(s)
        if (self.used[s] + 1) * 3 > len(table) * 2:
            table = self._grow(s, keys)
        mask = len(table) - 1
        slot = (h >> 8) & mask
        while table[slot] >= 0:
            slot = (slot + 1) & mask
        if table[slot] == _EMPTY:
            self.used[s] += 1
        table[slot] = rid

    def insert_absent_many(self, keys: bytearray, start: int, stop: int) -> list[tuple[int, int]]:
        """Index rows ``start..stop-1`` (their keys already in ``keys``) unless their key is indexed
        already: those come back as (new row, row already holding the key).

        A scan's batch: the keys are hashed in one pass, each shard grown once for all its new
        keys, and a key that lands on an empty slot (nearly all) costs one probe and no compare.
        """
        block = bytes(keys[start * STRIDE:stop * STRIDE])
        hashes = list(map(hash, [block[i:i + STRIDE] for i in range(0, len(block), STRIDE)]))
        counts = [0] * self.SHARDS
        for h in hashes:
            counts[h & 255] += 1
        shards, used = self.shards, self.used
        for s, c in enumerate(counts):
            if c:
                self._own(s)
                if (used[s] + c) * 3 > len(shards[s]) * 2:
                    self._grow(s, keys, extra=c)
                used[s] += c  # less the duplicates and reused tombstones, below
        self._grow_early(keys, budget=EARLY_GROWTH * (stop - start))
        masks = [len(t) - 1 for t in shards]
        dups: list[tuple[int, int]] = []
        for rid, h in zip(range(start, stop), hashes):
            table = shards[h & 255]
            slot = (h >> 8) & masks[h & 255]
            if table[slot] == _EMPTY:
                table[slot] = rid
                continue
            mask = masks[h & 255]
            key = block[(rid - start) * STRIDE:(rid - start + 1) * STRIDE]
            free = -1
            while True:
                old = table[slot]
                if old == _EMPTY:
                    break
                if old == _TOMB:
                    if free < 0:
                        free = slot
                elif keys[old * STRIDE:(old + 1) * STRIDE] == key:
                    dups.append((rid, old))
                    used[h & 255] -= 1
                    break
                slot = (slot + 1) & mask
            if old == _EMPTY:
                if free >= 0:
                    table[free] = rid
                    used[h & 255] -= 1
                else:
                    table[slot] = rid
        return dups

    def remove(self, key: bytes, keys: bytearray) -> int:
        h = hash(key)
        table = self._own(h & 255)
        slot = self._slot_of(table, h, key, keys)
        if slot < 0:
            return -1
        rid = table[slot]
        table[slot] = _TOMB
        return rid

    def _grow_early(self, keys: bytearray, budget: int) -> None:
        """Grow the fullest shards past half full, rehashing at most ``budget`` rows.

        Keys spread evenly, so the shards all fill at the same pace and would all cross the growth
        threshold within a few batches: at a million rows that was 90 ms of rehashing in one batch
        on the GUI thread.  Growing a few of them a little early, batch after batch, spreads it.
        """
        shards, used = self.shards, self.used
        full = [s for s in range(self.SHARDS) if used[s] * 2 > len(shards[s]) and used[s] > 64]
        full.sort(key=lambda s: used[s] / len(shards[s]), reverse=True)
        for s in full:
            if budget < used[s]:
                break
            budget -= used[s]
            self._own(s)
            self._grow(s, keys, extra=used[s])  # as big as the growth it replaces: no extra rehashing

    def _grow(self, s: int, keys: bytearray, extra: int = 0) -> array:
        """Rehash shard ``s`` into a table with room for its live keys and ``extra`` more."""
        live = [rid for rid in self.shards[s] if rid >= 0]
        size = len(self.shards[s])
        while size < (len(live) + extra) * 4:
            size *= 2
        table = array("q", [_EMPTY]) * size
        mask = size - 1
        for rid in live:
            slot = (hash(bytes(keys[rid * STRIDE:(rid + 1) * STRIDE])) >> 8) & mask
            while table[slot] != _EMPTY:
                slot = (slot + 1) & mask
            table[slot] = rid
        self.shards[s] = table
        self.shared[s] = False
        self.used[s] = len(live)
        return table


INDEX_CHUNK = 2000  # rows the indexer adds between two hand-overs (and two yields of the GIL)
INDEX_REST = 1.0  # the indexer sleeps this much per second of a chunk's work (about 1.2 ms)


class _Indexer(threading.Thread):
    """Indexes a listing's batches into ``built`` off the GUI thread, and hands each chunk over
    by taking it off ``pending`` once ``built`` holds it.  Waits for more (a new batch wakes it)
    and exits when nothing came for ``IDLE_SECONDS`` or the columns are closed."""

    IDLE_SECONDS = 2.0

    def __init__(self, cols: "BlobColumns"):
        super().__init__(name="blobscope-indexer", daemon=True)
        self.cols = cols
        self.wake = threading.Event()

    def run(self) -> None:
        # Python beside the GUI thread for seconds at a million rows: a short switch interval,
        # or each of the GUI thread's takes of the GIL waits 5 ms (gui/short_switch.py)
        with short_switches():
            self._index()

    def _index(self) -> None:
        cols = self.cols
        built = cols.built
        assert built is not None
        while True:
            with cols._lock:
                if cols._closed:
                    cols._indexer = None
                    return
                work = cols.pending[0] if cols.pending else None
                if work is None:
                    self.wake.clear()
            if work is None:
                if not self.wake.wait(self.IDLE_SECONDS):
                    with cols._lock:
                        if not cols.pending or cols._closed:
                            cols._indexer = None
                            return
                continue
            start, stop = work
            stop = min(stop, start + INDEX_CHUNK)
            began = time.perf_counter()
            # its dups (a name listed twice) stay alive: a directory names each entry once
            built.insert_absent_many(cols.digests, start, stop)
            with cols._lock:
                first, rest = cols.pending[0], cols.pending[1:]
                cols.pending = (((stop, first[1]),) if stop < first[1] else ()) + rest
            # rest as long as the chunk took: the GUI thread finds the GIL free half the time,
            # and a core for the listing's other threads (catching up with a backlog, this
            # thread held the GIL and a core for 100 ms at a stretch)
            time.sleep((time.perf_counter() - began) * INDEX_REST)


def _parse_labels(text: str) -> dict[str, str]:
    """The labels ``labels_text`` wrote ``text`` from, when no key holds ``=`` and no value ``, ``."""
    out: dict[str, str] = {}
    for item in text.split(", "):
        k, _, v = item.partition("=")
        out[sys.intern(k)] = v  # a few keys, shared by every set (and what the graph keeps of them)
    return out


class _LabelSets:
    """Each label set as a dict, made on access from its text (the text is what the filters read).

    A set whose text does not give it back (a key with ``=``, a value with ``, ``) keeps its pairs,
    interned.  Keeping one dict per set beside its text cost about 1 KB a set (60 000 sets in a
    store with 20 000 images).
    """

    __slots__ = ("texts", "odd")

    def __init__(self, texts: list[str], odd: dict[int, tuple[str, ...]]):
        self.texts = texts   # shared with _Tables.label_texts (append-only)
        self.odd = odd       # lid -> (key, value, key, value, ...), append-only

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, lid: int) -> dict[str, str]:
        pairs = self.odd.get(lid) if self.odd else None
        if pairs is not None:
            return dict(zip(pairs[::2], pairs[1::2]))
        text = self.texts[lid]
        return _parse_labels(text) if text else {}

    def __iter__(self) -> Iterator[dict[str, str]]:
        return (self[lid] for lid in range(len(self.texts)))

    def value(self, lid: int, key: str) -> str | None:
        """``self[lid].get(key)`` without making the dict when the text cannot hold the key."""
        if lid not in self.odd and key + "=" not in self.texts[lid]:
            return None
        return self[lid].get(key)


class _Tables:
    """Distinct label sets and media types, shared by the columns and their snapshots.

    Only ever appended to (an index handed out stays valid), so a snapshot may keep a reference
    and read the first entries it knows of.  A label set is kept once, as its text (keys sorted,
    as ``labels_text`` writes it), which also keys ``label_ids``; ``label_sets`` gives it back as a
    dict made on access.
    """

    def __init__(self) -> None:
        self.label_texts: list[str] = [""]
        self.label_sets = _LabelSets(self.label_texts, {})
        self.label_ids: dict[str | tuple, int] = {"": 0}  # text, or an odd set's pairs
        self.media: list[str] = [""]
        self.media_ids: dict[str, int] = {"": 0}

    def label_id(self, labels: dict[str, str], text: str | None = None) -> int:
        if not labels:
            return 0
        if text is None:
            text = labels_text(labels)
        # the text gives the set back unless a key holds "=" or a key or value holds ", "
        if text.count(", ") != len(labels) - 1 or any("=" in k for k in labels):
            return self._odd_id(labels, text)
        lid = self.label_ids.get(text)
        if lid is None:
            lid = len(self.label_texts)
            self.label_ids[text] = lid
            self.label_texts.append(text)
        return lid

    def _odd_id(self, labels: dict[str, str], text: str) -> int:
        pairs = tuple(sys.intern(s) for kv in sorted(labels.items()) for s in kv)
        lid = self.label_ids.get(pairs)
        if lid is None:
            lid = len(self.label_texts)
            self.label_ids[pairs] = lid
            self.label_texts.append(text)
            self.label_sets.odd[lid] = pairs
        return lid

    def frozen(self) -> "_Tables":
        """A view of the tables as they are now (what a snapshot reads)."""
        t = _Tables.__new__(_Tables)
        t.label_texts = list(self.label_texts)
        t.label_sets = _LabelSets(t.label_texts, self.label_sets.odd)
        t.label_ids = self.label_ids  # not read through a snapshot
        t.media = list(self.media)
        t.media_ids = self.media_ids
        return t

    def media_id(self, media_type: str) -> int:
        mid = self.media_ids.get(media_type)
        if mid is None:
            mid = len(self.media)
            self.media_ids[media_type] = mid
            self.media.append(media_type)
        return mid


class _Reader:
    """What the live columns and a snapshot both answer about a row."""

    digests: bytes | bytearray
    sizes: array
    created: array
    updated: array
    lids: array
    mids: array
    verified: bytes | bytearray
    alive: bytes | bytearray
    others: dict[int, str]
    index: DigestIndex
    built: DigestIndex | None
    pending: tuple[tuple[int, int], ...]
    tables: _Tables
    n: int

    def digest_of(self, rid: int) -> str:
        other = self.others.get(rid) if self.others else None
        return other if other is not None else SHA256 + self.digests[rid * STRIDE:(rid + 1) * STRIDE].hex()

    def digests_of(self, rids) -> list[str]:
        """The digest text of each row number (one comprehension, no call per row)."""
        keys, others = self.digests, self.others
        out = [SHA256 + keys[r * STRIDE:(r + 1) * STRIDE].hex() for r in rids]
        if others:
            out = [others.get(r, d) for r, d in zip(rids, out)]
        return out

    def find(self, digest: str) -> int:
        """The live row of ``digest``, or -1."""
        key, _plain = digest_key(digest)
        return self.find_key(key)

    def find_key(self, key: bytes) -> int:
        """The live row of a digest key: in the index, else among the worker-built rows, else
        among the rows appended but not yet indexed (a C-level search of their digests)."""
        keys, alive, n = self.digests, self.alive, self.n
        rid = self.index.find(key, keys)
        if 0 <= rid < n and alive[rid]:
            return rid
        built = self.built
        if built is None:
            return -1
        # the pending ranges before the built index: a range leaves ``pending`` only once built
        # holds it, so reading them in this order never misses a row handed over in between
        pending = self.pending
        rid = built.find_live(key, keys, alive, n)
        if rid >= 0:
            return rid
        for start, stop in pending:
            at = start * STRIDE
            while True:
                at = keys.find(key, at, stop * STRIDE)
                if at < 0:
                    break
                if at % STRIDE == 0:
                    rid = at // STRIDE
                    if rid < n and alive[rid]:
                        return rid
                    at += STRIDE
                else:
                    at += 1
        return -1

    def media_of(self, rid: int) -> str:
        return self.tables.media[self.mids[rid]]

    def verified_of(self, rid: int) -> bool | None:
        return _VERIFIED_BACK[self.verified[rid]]

    def labels_of(self, rid: int) -> dict[str, str]:
        return self.tables.label_sets[self.lids[rid]]

    def labels_text_of(self, rid: int) -> str:
        return self.tables.label_texts[self.lids[rid]]

    def row(self, rid: int) -> BlobRow:
        """A row object bound to these columns (labels copied: the caller may keep or change them)."""
        lid = self.lids[rid]
        t = self.tables
        r = BlobRow.__new__(BlobRow)
        r.digest = self.digest_of(rid)
        r.size = self.sizes[rid]
        r.created_ns = self.created[rid]
        r.updated_ns = self.updated[rid]
        r.labels = dict(t.label_sets[lid])
        r.labels_text = t.label_texts[lid]
        r._media_type = ""
        r._verified = None
        r._haystack = None
        r.bind(self, rid)
        return r

    def live_rids(self) -> Iterator[int]:
        alive = self.alive
        return (rid for rid in range(self.n) if alive[rid])


class BlobColumns(_Reader):
    """The live rows (GUI thread only)."""

    digests: bytearray
    verified: bytearray
    alive: bytearray

    def __init__(self) -> None:
        self.digests = bytearray()
        self.sizes = array("q")
        self.created = array("q")
        self.updated = array("q")
        self.lids = array("i")
        self.mids = array("i")
        self.verified = bytearray()
        self.alive = bytearray()
        self.others = {}
        self.index = DigestIndex()
        # a first listing's batches: indexed into ``built`` by a worker thread, not on the GUI
        # thread; rows appended but not yet indexed are the ranges in ``pending``
        self.built: DigestIndex | None = None
        self.pending: tuple[tuple[int, int], ...] = ()
        self.loose: dict[bytes, int] = {}  # keys put in ``index`` while ``built`` exists
        self._indexer: _Indexer | None = None
        self._lock = threading.Lock()  # guards ``pending`` and ``_indexer`` (GUI thread and indexer)
        self._closed = False
        self.tables = _Tables()
        self.n = 0
        self.count = 0          # live rows
        self.total_bytes = 0
        self.version = 0        # bumped on every change: a snapshot of an older version is stale
        self.rewrites = 0       # update() calls: sizes, times and labels changed in place

    def find_row(self, row: BlobRow) -> int:
        """The live row number of ``row``'s digest, or -1 (its key is worked out once)."""
        if row.key is None:
            row.key = digest_key(row.digest)
        return self.find_key(row.key[0])

    def add(self, row: BlobRow) -> int:
        """Append a row for a digest not present; its row number."""
        if row.key is None:
            row.key = digest_key(row.digest)
        key, plain = row.key
        rid = self.n
        self.digests += key
        if not plain:
            self.others[rid] = row.digest
        self.sizes.append(row.size)
        self.created.append(row.created_ns)
        self.updated.append(row.updated_ns)
        self.lids.append(self.tables.label_id(row.labels, row.labels_text))
        self.mids.append(self.tables.media_id(row.media_type or ""))
        self.verified.append(_VERIFIED[row.verified])
        self.alive.append(1)
        self.index.insert(key, rid, self.digests)
        if self.built is not None:
            self.loose[key] = rid
        self.n += 1
        self.count += 1
        self.total_bytes += row.size
        self.version += 1
        return rid

    def add_many(self, rows: list[BlobRow]) -> range:
        """Append rows for digests not present and not repeated (a scan's batch): the columns grow
        by one ``extend`` each, only the index takes a Python step per row.  Their row numbers."""
        start = self.n
        keys = [r.key or digest_key(r.digest) for r in rows]
        self.digests += b"".join([k[0] for k in keys])
        for rid, (r, k) in enumerate(zip(rows, keys), start):
            if not k[1]:
                self.others[rid] = r.digest
        self.sizes.extend([r.size for r in rows])
        self.created.extend([r.created_ns for r in rows])
        self.updated.extend([r.updated_ns for r in rows])
        label_id, media_id = self.tables.label_id, self.tables.media_id
        self.lids.extend([label_id(r.labels, r.labels_text) if r.labels else 0 for r in rows])
        self.mids.extend([media_id(m) if (m := r.media_type) else 0 for r in rows])
        self.verified.extend(bytes([_VERIFIED[r.verified] for r in rows]))
        self.alive.extend(b"\x01" * len(rows))
        insert, digests = self.index.insert, self.digests
        for rid, k in enumerate(keys, start):
            insert(k[0], rid, digests)
        if self.built is not None:
            self.loose.update(zip([k[0] for k in keys], range(start, start + len(keys))))
        self.n += len(rows)
        self.count += len(rows)
        self.total_bytes += sum([r.size for r in rows])
        self.version += 1
        return range(start, self.n)

    def add_batch(self, batch: BlobBatch) -> tuple[range, list[tuple[int, int]]]:
        """Append a scan's batch of columns (store/blob_batches.py) without a row object per blob.

        Its row numbers, and (row, row already there) for each blob whose digest was present: that
        new row is left dead (the caller updates the old one, e.g. a blob the watch reported first).
        """
        start, m = self.n, len(batch)
        if batch.alg == "sha256":
            self.digests += batch.raw_digests()
        else:
            digests = batch.digests()
            self.digests += b"".join([digest_key(d)[0] for d in digests])
            self.others.update(zip(range(start, start + m), digests))
        self.sizes.extend(batch.sizes)
        self.created.extend(batch.created_ns)
        self.updated.extend(batch.updated_ns)
        lids = array("i", bytes(4 * m))
        if batch.labels:
            label_id = self.tables.label_id
            for i, labels in batch.labels.items():
                lids[i] = label_id(labels)
        self.lids.extend(lids)
        self.mids.extend(array("i", bytes(4 * m)))
        self.verified.extend(bytes(m))
        self.alive.extend(b"\x01" * m)
        self.n += m
        if self.built is None and start == 0:
            self.built = DigestIndex()  # a first listing: the indexer thread indexes its batches
        if self.built is not None:
            dups = self._loose_dups(start)
            fresh = None
            with self._lock:
                self.pending = self.pending + ((start, self.n),)
                if self._indexer is None:
                    self._indexer = fresh = _Indexer(self)
                else:
                    self._indexer.wake.set()
            if fresh is not None:
                fresh.start()
        else:
            dups = self.index.insert_absent_many(self.digests, start, self.n)
        for rid, _old in dups:
            self.alive[rid] = 0
        live = m - len(dups)
        self.count += live
        self.total_bytes += sum(batch.sizes) - sum([self.sizes[rid] for rid, _old in dups])
        self.version += 1
        return range(start, self.n), dups

    def _loose_dups(self, start: int) -> list[tuple[int, int]]:
        """(new row, row already there) for the rows from ``start`` whose key an ``add`` put in the
        index meanwhile (a blob the watch reported before the listing did): the listing's own
        batches name each blob once, so only those can repeat."""
        loose, keys, alive = self.loose, self.digests, self.alive
        if not loose:
            return []
        dups: list[tuple[int, int]] = []
        if len(loose) > 64:  # many: one dict of the batch's keys
            block = bytes(keys[start * STRIDE:self.n * STRIDE])
            mine = {block[i:i + STRIDE]: start + i // STRIDE for i in range(0, len(block), STRIDE)}
            for key, old in loose.items():
                rid = mine.get(key)
                if rid is not None and alive[old]:
                    dups.append((rid, old))
            return sorted(dups)
        end = self.n * STRIDE
        for key, old in loose.items():
            at = start * STRIDE
            while (at := keys.find(key, at, end)) >= 0:
                if at % STRIDE == 0:
                    if alive[old]:
                        dups.append((at // STRIDE, old))
                    break
                at += 1
        return sorted(dups)

    def settle(self, timeout: float = 60.0) -> bool:
        """Wait until the indexer thread has handed over every pending row; whether it has."""
        deadline = time.monotonic() + timeout
        while self.pending and time.monotonic() < deadline and self._indexer is not None:
            time.sleep(0.002)
        return not self.pending

    def close(self) -> None:
        """These columns are replaced: the indexer thread stops (lookups stay correct)."""
        with self._lock:
            self._closed = True
            if self._indexer is not None:
                self._indexer.wake.set()

    def update(self, rid: int, row: BlobRow, *, keep_media: bool, keep_verified: bool) -> None:
        """New content for a known blob (labels edited, a rescan saw it change)."""
        self.rewrites += 1
        self.total_bytes += row.size - self.sizes[rid]
        if keep_verified and not (row.size == self.sizes[rid] and row.updated_ns == self.updated[rid]):
            keep_verified = False
        self.sizes[rid] = row.size
        self.created[rid] = row.created_ns
        self.updated[rid] = row.updated_ns
        self.lids[rid] = self.tables.label_id(row.labels, row.labels_text)
        media = row.media_type
        if media or not keep_media:
            self.mids[rid] = self.tables.media_id(media or "")
        if not keep_verified:
            self.verified[rid] = _VERIFIED[row.verified]
        self.version += 1

    def remove(self, digest: str) -> int:
        """Mark the row of ``digest`` dead; its row number, or -1 when unknown."""
        key, _plain = digest_key(digest)
        rid = self.index.remove(key, self.digests)
        if rid >= 0:
            self.loose.pop(key, None)
        elif self.built is not None:  # a listed row: left in the built index, dead
            rid = self.find_key(key)
        if rid < 0:
            return -1
        self.alive[rid] = 0
        self.count -= 1
        self.total_bytes -= self.sizes[rid]
        self.version += 1
        return rid

    def set_media(self, rid: int, media_type: str) -> None:
        self.mids[rid] = self.tables.media_id(media_type or "")
        self.version += 1

    def set_verified(self, rid: int, ok: bool | None) -> None:
        self.verified[rid] = _VERIFIED[ok]
        self.version += 1

    def snapshot(self, prev: "ColumnsSnapshot | None" = None) -> "ColumnsSnapshot":
        """An immutable copy; ``prev``, an older snapshot of these columns, lends it what has not changed."""
        return ColumnsSnapshot(self, prev)

    def nbytes(self) -> int:
        """Bytes the columns and the index hold (not the shared label/media tables)."""
        arrays = (self.sizes, self.created, self.updated, self.lids, self.mids)
        built = self.built.nbytes() if self.built is not None else 0
        return len(self.digests) + len(self.verified) + len(self.alive) + self.index.nbytes() + built + sum(
            a.itemsize * len(a) for a in arrays)


class ColumnsSnapshot(_Reader, Mapping[str, BlobRow]):
    """An immutable copy of the columns (a few memcpy), safe to read from any thread.

    As a Mapping it is digest -> row (rows made on demand), what a rescan diffs against.
    As a sequence (``rows()``) it gives every live row, for the image graph's worker.
    """

    digests: bytes
    verified: bytes
    alive: bytes
    origin: "weakref.ref[BlobColumns]"
    rewrites: int

    def __init__(self, cols: BlobColumns, prev: "ColumnsSnapshot | None" = None):
        # rows are appended, never moved, and a row's digest never changes: with the same rows (a
        # removal only marks them dead) the older copies serve again, and with no update() since,
        # its sizes, times and labels too (a million rows are ~70 MB to copy on the GUI thread)
        same_rows = prev is not None and prev.origin() is cols and prev.n == cols.n
        same_values = same_rows and prev is not None and prev.rewrites == cols.rewrites
        self.origin = weakref.ref(cols)
        self.rewrites = cols.rewrites
        self.digests = prev.digests if same_rows and prev is not None else bytes(cols.digests)
        if same_values and prev is not None:
            self.sizes, self.created, self.updated, self.lids = prev.sizes, prev.created, prev.updated, prev.lids
        else:
            self.sizes = array("q", cols.sizes)
            self.created = array("q", cols.created)
            self.updated = array("q", cols.updated)
            self.lids = array("i", cols.lids)
        self.mids = array("i", cols.mids)
        self.verified = bytes(cols.verified)
        self.alive = bytes(cols.alive)
        self.others = dict(cols.others)
        self.index = cols.index.copy()
        # read before ``built``'s state matters: a range leaves ``pending`` only once built holds
        # it; built is shared, not copied: the indexer only adds entries of rows it was handed,
        # and a lookup here checks its row against this snapshot's ``n`` and ``alive``
        self.pending = cols.pending
        self.built = cols.built
        self.tables = cols.tables.frozen()  # frozen views of the shared, append-only tables
        self.n = cols.n
        self.count = cols.count
        self.version = cols.version
        self.total_bytes = cols.total_bytes
        self.cache: dict = {}  # sort orders and the like, worked out once by whichever worker asks first

    # ---- a snapshot's rows are read-only
    def set_media(self, rid: int, media_type: str) -> None:
        raise TypeError("a snapshot of the blobs is read-only")

    set_verified = set_media

    # ---- Mapping[str, BlobRow]
    def __getitem__(self, digest: str) -> BlobRow:
        rid = self.find(digest)
        if rid < 0:
            raise KeyError(digest)
        return self.row(rid)

    def __contains__(self, digest: object) -> bool:
        return isinstance(digest, str) and self.find(digest) >= 0

    def __iter__(self) -> Iterator[str]:
        return (self.digest_of(rid) for rid in self.live_rids())

    def __len__(self) -> int:
        return self.count

    def same_content(self, digest: str, row: BlobRow) -> bool | None:
        """None when ``digest`` is not here, else whether ``row`` has the same size, times and labels."""
        rid = self.find(digest)
        if rid < 0:
            return None
        return (self.sizes[rid] == row.size and self.updated[rid] == row.updated_ns
                and self.created[rid] == row.created_ns and self.labels_of(rid) == row.labels)

    def rows(self) -> "SnapshotRows":
        return SnapshotRows(self)


class SnapshotRows:
    """Every live row of a snapshot as a sequence of :class:`BlobRow` (made on access, for workers)."""

    def __init__(self, snap: ColumnsSnapshot):
        self._snap = snap
        self._live: array | None = None  # worked out on first use (on the worker that reads it)

    @property
    def _rids(self) -> array:
        if self._live is None:
            alive = self._snap.alive
            self._live = array("l", (rid for rid in range(self._snap.n) if alive[rid]))
        return self._live

    def __len__(self) -> int:
        return self._snap.count

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self._snap.row(rid) for rid in self._rids[i]]
        return self._snap.row(self._rids[i])

    def __iter__(self) -> Iterator[BlobRow]:
        row = self._snap.row
        return (row(rid) for rid in self._rids)


def rows_of(cols: _Reader, rids: Iterable[int]) -> list[BlobRow]:
    return [cols.row(rid) for rid in rids]
