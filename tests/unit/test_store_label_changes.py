"""The label change sequence (store/labels.py): which digests' labels changed since a number.

A window watching labels.db asks ``changes_since(seen)`` instead of re-reading every label;
these tests check that every kind of write is numbered, that writes which change nothing are
not, that another process's writes are seen, that a database made before the sequence existed
gets it, and that a reader too far behind is told to read everything again.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from store import Info, LocalStore, errors
from store import labels as labels_mod
from store.labels import LabelStore

REPO = Path(__file__).resolve().parents[2]
A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64
C = "sha256:" + "c" * 64


def test_every_kind_of_write_is_numbered_in_order(tmp_path):
    ls = LabelStore(tmp_path / "labels.db")
    assert ls.change_seq() == 0
    assert ls.changes_since(0).digests == []
    ls.set(A, {"k": "1"})
    start = ls.change_seq()
    ls.update(B, {"k": "2"})
    ls.update(A, {"k": ""})      # a key deleted
    ls.set(C, {"x": "y"})
    ls.delete(C)                 # every label of C gone
    got = ls.changes_since(start)
    assert got.complete
    assert got.digests == [B, A, C]  # C once, at its latest number
    assert got.seq == ls.change_seq() > start
    assert ls.changes_since(got.seq).digests == []


def test_a_write_that_changes_nothing_is_not_numbered(tmp_path):
    ls = LabelStore(tmp_path / "labels.db")
    ls.set(A, {"k": "1"})
    seen = ls.change_seq()
    ls.set(A, {"k": "1"})
    ls.update(A, {"k": "1", "gone": ""})
    ls.delete(B)  # a blob without labels deleted: nothing changes (a pull storm deletes many)
    assert ls.changes_since(seen).digests == []
    assert ls.change_seq() == seen


def test_local_store_updates_and_deletes_are_numbered(tmp_path, sh):
    store = LocalStore(tmp_path / "content")
    d = sh.write_blob(store, "a", b"abc", labels={"a": "1"})
    seen = store.labels.change_seq()
    info = store.info(d)
    store.update(Info(d, info.size, info.created_at, info.updated_at, {"a": "2"}), "labels.a")
    assert store.labels.changes_since(seen).digests == [str(d)]
    seen = store.labels.change_seq()
    store.delete(d)
    assert store.labels.changes_since(seen).digests == [str(d)]


def test_another_process_writes_are_seen(tmp_path):
    db = tmp_path / "labels.db"
    reader = LabelStore(db)
    reader.set(A, {"k": "1"})
    seen = reader.change_seq()
    code = textwrap.dedent(f"""
        from store.labels import LabelStore
        ls = LabelStore({str(db)!r})
        ls.update({B!r}, {{"from": "other"}})
        ls.set({A!r}, {{}})
    """)
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=60)
    got = reader.changes_since(seen)
    assert got.digests == [B, A]
    assert reader.get(A) == {} and reader.get(B) == {"from": "other"}


def test_a_database_from_before_the_sequence_gets_it(tmp_path):
    db = tmp_path / "labels.db"
    conn = sqlite3.connect(db)  # the schema as older versions wrote it: labels only
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE labels (digest TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
                 " PRIMARY KEY (digest, key)) WITHOUT ROWID")
    conn.execute("INSERT INTO labels VALUES (?, 'old', 'yes')", (A,))
    conn.commit()
    conn.close()
    reader = LabelStore(db, read_only=True)
    assert reader.change_seq() == 0 and reader.changes_since(0).complete  # no table yet: nothing known
    ls = LabelStore(db)
    assert ls.get(A) == {"old": "yes"}
    assert ls.changes_since(0).digests == []  # old labels carry no number
    ls.update(B, {"new": "1"})
    assert ls.changes_since(0).digests == [B]
    assert ls.all() == {A: {"old": "yes"}, B: {"new": "1"}}
    assert LabelStore(db, read_only=True).changes_since(0).digests == [B]


def test_a_reader_too_far_behind_is_told_to_read_everything(tmp_path, monkeypatch):
    monkeypatch.setattr(labels_mod, "KEEP_CHANGES", 10)
    monkeypatch.setattr(labels_mod, "_PRUNE_EVERY", 4)
    ls = LabelStore(tmp_path / "labels.db")
    for i in range(40):
        ls.set(f"sha256:{i:064x}", {"n": str(i)})
    top = ls.change_seq()
    assert top == 40
    old = ls.changes_since(3)
    assert not old.complete  # numbers up to 30 were forgotten
    recent = ls.changes_since(35)
    assert recent.complete and recent.digests == [f"sha256:{i:064x}" for i in range(35, 40)]
    # numbers keep rising after every row was forgotten
    conn = sqlite3.connect(tmp_path / "labels.db")
    conn.execute("DELETE FROM label_changes")
    conn.commit()
    conn.close()
    ls.set(A, {"after": "1"})
    assert ls.change_seq() > top
    assert ls.changes_since(top).digests == [A]


def test_a_replaced_database_is_told_apart(tmp_path):
    db = tmp_path / "labels.db"
    ls = LabelStore(db)
    for i in range(5):
        ls.set(f"sha256:{i:064x}", {"n": str(i)})
    seen = ls.change_seq()
    ls.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    fresh = LabelStore(db)
    fresh.set(A, {"k": "1"})
    got = fresh.changes_since(seen)
    assert not got.complete and got.seq == fresh.change_seq() == 1


def test_update_many_is_one_transaction_numbering_only_what_changed(tmp_path):
    ls = LabelStore(tmp_path / "labels.db")
    ls.set(A, {"k": "1"})
    seen = ls.change_seq()
    got = ls.update_many({A: {"k": "1"}, B: {"n": "2"}, C: {"x": "y", "gone": ""}})
    assert got == {A: {"k": "1"}, B: {"n": "2"}, C: {"x": "y"}}
    changes = ls.changes_since(seen)
    assert changes.digests == [B, C]  # A changed nothing, so it is not numbered
    assert ls.get(C) == {"x": "y"}
    assert ls.update_many({}) == {}
    assert ls.change_seq() == changes.seq


def test_update_many_that_fails_changes_nothing(tmp_path):
    ls = LabelStore(tmp_path / "labels.db")
    ls.set(A, {"k": "1"})
    seen = ls.change_seq()
    with pytest.raises(errors.InvalidArgument, match="keys and values must be valid UTF-8"):
        ls.update_many({B: {"n": "2"}, C: {"bad\ud800": ""}})  # a key SQLite cannot hold, after a good one
    assert ls.get(B) == {}
    assert ls.change_seq() == seen
    with pytest.raises(errors.FailedPrecondition, match="read-only"):
        LabelStore(tmp_path / "labels.db", read_only=True).update_many({A: {"k": "2"}})
    assert ls.get(A) == {"k": "1"}
