"""Labels: SQLite store, update fieldpaths (containerd-store.md §2.11), validation (containerd-store.md §5.1), concurrency."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from store import Info, LocalStore, errors

REPO = Path(__file__).resolve().parents[2]


def with_labels(info, labels):
    return Info(info.digest, info.size, info.created_at, info.updated_at, labels)


@pytest.fixture
def blob(store, sh):
    return store.info(sh.write_blob(store, "a", b"abc", labels={"a": "1", "b": "2"}))


def test_labels_db_is_wal_sqlite(store, blob):
    db = store.root / "labels.db"
    assert db.is_file()
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert sorted(conn.execute("SELECT key, value FROM labels")) == [("a", "1"), ("b", "2")]


def test_update_partial_matches_spec_example(store, blob):
    """Stored {a:1,b:2}; labels {a:x,c:3} with labels.a, labels.b -> {a:x} (b removed, c ignored)."""
    got = store.update(with_labels(blob, {"a": "x", "c": "3"}), "labels.a", "labels.b")
    assert got.labels == {"a": "x"} == store.info(blob.digest).labels


def test_update_no_fieldpaths_or_labels_replaces_all(store, blob):
    assert store.update(with_labels(blob, {"z": "9"})).labels == {"z": "9"}
    assert store.update(with_labels(blob, {"y": "8", "e": ""}), "labels").labels == {"y": "8"}
    assert store.update(with_labels(blob, {"q": "1"}), "labels.y", "labels").labels == {"q": "1"}


def test_update_keys_with_dots(store, blob):
    got = store.update(with_labels(blob, {"containerd.io/gc.ref.content.l.0": "sha256:x"}),
                       "labels.containerd.io/gc.ref.content.l.0")
    assert got.labels == {"a": "1", "b": "2", "containerd.io/gc.ref.content.l.0": "sha256:x"}


def test_empty_values_are_never_stored(store, blob):
    assert store.update(with_labels(blob, {"a": ""}), "labels.a").labels == {"b": "2"}
    conn = sqlite3.connect(store.root / "labels.db")
    assert conn.execute("SELECT count(*) FROM labels WHERE value = ''").fetchone()[0] == 0


def test_update_times(store, blob):
    """UpdatedAt = now (atime), CreatedAt (mtime) unchanged, to the nanosecond."""
    pre = time.time_ns()
    got = store.update(with_labels(blob, {"n": "1"}), "labels.n")
    post = time.time_ns()
    assert pre <= got.updated_at.ns <= post
    assert got.created_at.ns == blob.created_at.ns
    info = store.info(blob.digest)
    assert info.updated_at.ns == got.updated_at.ns and info.created_at.ns == blob.created_at.ns


@pytest.mark.parametrize("key_len,value_len,ok", [(2, 4094, True), (3, 4094, False), (1, 4095, True),
                                                    (4097, 0, False)])
def test_label_size_limit(store, blob, key_len, value_len, ok):
    key, value = "k" * key_len, "v" * value_len
    call = lambda: store.update(with_labels(blob, {key: value}), f"labels.{key}")  # noqa: E731
    if ok or value_len == 0:
        if value_len == 0:  # an empty value deletes; it is never checked against the limit
            call()
            return
        assert store.update(with_labels(blob, {key: value}), f"labels.{key}").labels[key] == value
    else:
        with pytest.raises(errors.InvalidArgument) as exc:
            call()
        assert str(exc.value) == (f"label key and value length ({key_len + value_len} bytes) greater than "
                                  f"maximum size (4096 bytes), key: {key[:64]}: invalid argument")
        assert store.info(blob.digest).labels == {"a": "1", "b": "2"}


def test_label_size_counts_bytes_not_characters(store, blob):
    with pytest.raises(errors.InvalidArgument, match=r"\(4098 bytes\)"):
        store.update(with_labels(blob, {"é": "v" * 4096}), "labels.é")


def test_info_labels_are_a_copy(store, blob):
    info = store.info(blob.digest)
    info.labels["mut"] = "x"
    assert "mut" not in store.info(blob.digest).labels


def test_labels_survive_reopen(store, blob):
    assert LocalStore(store.root).info(blob.digest).labels == {"a": "1", "b": "2"}


def test_concurrent_updates_from_two_processes_lose_nothing(store, blob):
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(REPO)!r})
        from store import LocalStore, Info
        s = LocalStore({str(store.root)!r})
        prefix = sys.argv[1]
        for i in range(60):
            info = s.info({str(blob.digest)!r})
            s.update(Info(info.digest, info.size, info.created_at, info.updated_at,
                          {{f"{{prefix}}{{i}}": "v"}}), f"labels.{{prefix}}{{i}}")
    """)
    procs = [subprocess.Popen([sys.executable, "-c", code, p]) for p in ("p", "q")]
    for i in range(30):  # and this process too
        store.update(with_labels(blob, {f"m{i}": "v"}), f"labels.m{i}")
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    labels = store.info(blob.digest).labels
    assert len(labels) == 2 + 60 + 60 + 30
    assert all(f"p{i}" in labels and f"q{i}" in labels for i in range(60))


def test_labels_from_threads(store, blob):
    import threading

    def worker(n):
        for i in range(20):
            store.update(with_labels(blob, {f"t{n}-{i}": "v"}), f"labels.t{n}-{i}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store.info(blob.digest).labels) == 2 + 80


def test_unreadable_labels_db_is_a_clear_error(store, blob):
    s = LocalStore(store.root)
    (store.root / "labels.db").write_bytes(b"not a database" * 100)
    for suffix in ("-wal", "-shm"):
        (store.root / f"labels.db{suffix}").unlink(missing_ok=True)
    with pytest.raises(errors.ContentError, match="labels"):
        s.info(blob.digest)


@pytest.mark.parametrize("name", ["labels.db", "labels.db-wal", "labels.db-shm"])
def test_a_planted_link_as_the_label_database_is_refused_and_its_target_untouched(tmp_path, name):
    """SQLite follows links and opening the database writes to it: a link must never be opened."""

    root = tmp_path / "content"
    s = LocalStore(root)
    with s.writer("r") as w:
        w.write(b"some content")
        d = w.commit()
    s.labels.close()
    for leftover in root.glob("labels.db*"):
        leftover.unlink()
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"precious, not a database\n")
    os.symlink(outside, root / name)
    s = LocalStore(root)
    info = Info(d, 0, None, None, {"k": "v"})
    with pytest.raises(errors.FailedPrecondition, match="symbolic link"):
        s.update(info, "labels.k")
    with pytest.raises(errors.FailedPrecondition, match=f"{name} is a symbolic link"):
        list(s.walk())
    assert outside.read_bytes() == b"precious, not a database\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["content", "outside.txt"]
