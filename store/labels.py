"""Blob labels in ``<root>/labels.db`` (SQLite, WAL), which containerd ignores.

containerd's local store takes an optional LabelStore with Get / Set / Update
(containerd-store.md §1.4); this is that store, safe for several threads and processes:
every change runs in one ``BEGIN IMMEDIATE`` transaction so a concurrent
update from another process is merged, never lost.  Empty values are never
stored (an empty value means "delete").

Every write that changes a blob's labels also stamps that digest with the next number of a
change sequence (table ``label_changes``, one row per digest), in the same transaction.  A
reader that watches the database (the GUI, design.md §5.2) asks :meth:`LabelStore.changes_since`
which digests changed after the number it last saw, instead of re-reading every label.  Rows
older than ``KEEP_CHANGES`` numbers are forgotten now and then; a reader that far behind is told
so (``complete`` is False) and reads everything again.  Databases made before the table existed
get it when they are next opened for writing; their old labels simply have no number yet.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from . import errors
from .nolinks import refuse_links

log = logging.getLogger(__name__)

MAX_LABEL_BYTES = 4096
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS labels ("
    " digest TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
    " PRIMARY KEY (digest, key)) WITHOUT ROWID"
)
# the change sequence: the number of each digest's last change, and the highest number forgotten
_CHANGES_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS label_changes ("
    " digest TEXT NOT NULL PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS label_changes_seq ON label_changes (seq)",
    "CREATE TABLE IF NOT EXISTS label_meta (name TEXT NOT NULL PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID",
)
KEEP_CHANGES = 200_000  # change numbers a reader may fall behind before it must read everything again
_PRUNE_EVERY = 4096     # forget old numbers once per this many changes


@dataclass(frozen=True)
class LabelChanges:
    """What :meth:`LabelStore.changes_since` found: the digests whose labels changed after the
    number asked for, the number to ask with next time, and whether the list is complete
    (False: changes that old were forgotten, read every label again)."""

    seq: int
    digests: list[str]
    complete: bool = True


def validate(labels: dict[str, str]) -> None:
    """containerd's metadata rule (containerd-store.md §5.1): len(key)+len(value) in bytes at most 4096."""
    for key, value in labels.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise errors.InvalidArgument(f"label {key!r}: keys and values must be strings")
        try:
            # strict: SQLite stores text as UTF-8, and a label is text in containerd's API too
            kb = key.encode("utf-8")
            n = len(kb) + len(value.encode("utf-8"))
        except UnicodeEncodeError:
            raise errors.InvalidArgument(
                f"label {key!r}: keys and values must be valid UTF-8 text "
                "(this one holds bytes that are not, or a lone surrogate)") from None
        if n > MAX_LABEL_BYTES:
            raise errors.InvalidArgument(
                f"label key and value length ({n} bytes) greater than maximum size "
                f"({MAX_LABEL_BYTES} bytes), key: {kb[:64].decode('utf-8', 'replace')}"
            )
        if not key:  # containerd's bolt store cannot hold an empty key either
            raise errors.InvalidArgument("label key must not be empty")


class LabelStore:
    """Labels of the blobs of one store root, by digest string."""

    def __init__(self, path: Path, *, read_only: bool = False, busy_timeout_ms: int = 30_000):
        self.path = Path(path)
        self.read_only = read_only
        self._busy_ms = busy_timeout_ms
        self._local = threading.local()
        self._immutable = False

    def _conn(self, *, create: bool) -> sqlite3.Connection | None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        # SQLite follows links and opening the database writes to it (WAL mode, the schema).
        refuse_links(self.path, f"{self.path}-wal", f"{self.path}-shm",
                     so="the labels are not read or written. Replace it with the file it points to, or remove it")
        if not self.path.exists():
            if not create or self.read_only:
                return None
        if self.read_only:
            # immutable=1 only as a fallback: a WAL database on read-only media has no -shm to open.
            mode = "ro&immutable=1" if self._immutable else "ro"
            conn = sqlite3.connect(f"file:{self.path}?mode={mode}", uri=True, isolation_level=None,
                                   check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {self._busy_ms}")
        else:
            conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {self._busy_ms}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute(_SCHEMA)
            for stmt in _CHANGES_SCHEMA:
                conn.execute(stmt)
        self._local.conn = conn
        return conn

    def _read(self, sql: str, args=()) -> list[tuple]:
        try:
            try:
                conn = self._conn(create=False)
                if conn is None:
                    return []
                return conn.execute(sql, args).fetchall()
            except sqlite3.OperationalError:
                if not self.read_only or self._immutable:
                    raise
                log.info("opening %s as immutable: it cannot be opened read-only in WAL mode", self.path)
                self.close()
                self._immutable = True
                conn = self._conn(create=False)
                return [] if conn is None else conn.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            if "no such table" in str(exc):
                return []
            raise errors.Unknown(f"reading labels from {self.path} failed: {exc}") from exc

    def get(self, digest: str) -> dict[str, str]:
        return dict(self._read("SELECT key, value FROM labels WHERE digest = ?", (digest,)))

    def all(self) -> dict[str, dict[str, str]]:
        """Every label of every blob in one query (walk must not run one query per blob)."""
        result: dict[str, dict[str, str]] = {}
        for digest, key, value in self._read("SELECT digest, key, value FROM labels"):
            result.setdefault(digest, {})[key] = value
        return result

    def _change(self, digest: str, replace: bool, labels: dict[str, str]) -> dict[str, str]:
        return self._transaction(f"labels of {digest}", [(digest, labels)], replace)[0]

    def _transaction(self, what: str, changes: list[tuple[str, dict[str, str]]], replace: bool) -> list[dict[str, str]]:
        """Every change of ``changes`` in one ``BEGIN IMMEDIATE`` transaction; each digest's labels after."""
        if self.read_only:
            raise errors.FailedPrecondition(f"{what} cannot be changed: the label store is read-only")
        try:
            conn = self._conn(create=True)
            assert conn is not None  # create=True on a writable store always opens one
            conn.execute("BEGIN IMMEDIATE")
            try:
                after = [_apply(conn, digest, replace, labels or {}) for digest, labels in changes]
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise errors.Unknown(f"writing {what} to {self.path} failed: {exc}") from exc
        except UnicodeEncodeError:
            # a key to delete skips validate(); SQLite cannot hold it, so it cannot be stored either
            raise errors.InvalidArgument(f"{what}: keys and values must be valid UTF-8 text") from None
        return after

    def set(self, digest: str, labels: dict[str, str]) -> dict[str, str]:
        """Replace all labels of ``digest``."""
        return self._change(digest, True, labels or {})

    def update(self, digest: str, labels: dict[str, str]) -> dict[str, str]:
        """Merge: a key with an empty value is deleted; returns the resulting map."""
        return self._change(digest, False, labels or {})

    def update_many(self, changes: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        """Merge labels into many blobs in one transaction (one WAL commit, one change-log write),
        as a tool relabelling a batch does; each digest's resulting map."""
        items = list(changes.items())
        if not items:
            return {}
        after = self._transaction(f"labels of {len(items)} blobs", items, False)
        return {digest: labels for (digest, _), labels in zip(items, after)}

    def delete(self, digest: str) -> None:
        if self._conn(create=False) is None:
            return
        self._change(digest, True, {})

    def change_seq(self) -> int:
        """The number of the latest label change (0: none yet); read it before reading labels."""
        rows = self._read("SELECT value FROM label_meta WHERE name = 'last'")
        return int(rows[0][0]) if rows else 0

    def changes_since(self, seq: int) -> LabelChanges:
        """The digests whose labels changed after change number ``seq`` (one indexed query)."""
        rows = self._read("SELECT digest, seq FROM label_changes WHERE seq > ? ORDER BY seq", (seq,))
        meta = dict(self._read("SELECT name, value FROM label_meta"))
        forgotten, top = int(meta.get("forgotten", 0)), int(meta.get("last", 0))
        if seq > top:
            # numbers went back: the database was replaced (an older copy, a new file)
            return LabelChanges(top, [], complete=False)
        last = max([seq, *(r[1] for r in rows[-1:])])
        # a reader older than the forgotten numbers cannot trust the list
        return LabelChanges(last, [r[0] for r in rows], complete=forgotten <= seq)

    def close(self) -> None:
        """Close this thread's connection (others close when their thread's objects go)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def _apply(conn: sqlite3.Connection, digest: str, replace: bool, labels: dict[str, str]) -> dict[str, str]:
    """One digest's change inside the caller's transaction; its labels after (stamped if they differ)."""
    before = conn.execute("SELECT key, value FROM labels WHERE digest = ?", (digest,)).fetchall()
    if replace:
        conn.execute("DELETE FROM labels WHERE digest = ?", (digest,))
    for key, value in labels.items():
        if value:
            conn.execute("INSERT OR REPLACE INTO labels VALUES (?, ?, ?)", (digest, key, value))
        elif not replace:
            conn.execute("DELETE FROM labels WHERE digest = ? AND key = ?", (digest, key))
    rows = conn.execute("SELECT key, value FROM labels WHERE digest = ?", (digest,)).fetchall()
    if sorted(rows) != sorted(before):
        _stamp(conn, digest)
    return dict(rows)


def _stamp(conn: sqlite3.Connection, digest: str) -> None:
    """Give ``digest`` the next change number (inside the caller's write transaction).

    The last number given is kept apart from the rows, so numbers never go back, not even
    after every row was forgotten.
    """
    row = conn.execute("SELECT value FROM label_meta WHERE name = 'last'").fetchone()
    seq = int(row[0]) + 1 if row else 1
    conn.execute("INSERT OR REPLACE INTO label_meta VALUES ('last', ?)", (seq,))
    conn.execute("INSERT OR REPLACE INTO label_changes VALUES (?, ?)", (digest, seq))
    if seq % _PRUNE_EVERY == 0 and seq > KEEP_CHANGES:
        forget = seq - KEEP_CHANGES
        conn.execute("DELETE FROM label_changes WHERE seq <= ?", (forget,))
        conn.execute("INSERT OR REPLACE INTO label_meta VALUES ('forgotten', ?)", (forget,))
