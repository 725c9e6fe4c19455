"""The on-disk format, byte for byte (containerd-store.md §2.1-§2.9), and the writer's contract (containerd-store.md §2.7, §2.8)."""

from __future__ import annotations

import hashlib
import os
import re
import stat

import pytest

from store import Digest, LocalStore, errors
from store.digest import EMPTY
from store.timestamps import parse_rfc3339
from tests.support.fs import umask

GO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{0,8}[1-9])?Z\Z")


def mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_ingest_directory_layout(store):
    ref = "default/1/partial-ref"
    w = store.writer(ref, total=100)
    w.write(b"partial-data")
    d = store.root / "ingest" / hashlib.sha256(ref.encode()).hexdigest()
    assert d == store.ingest_dir(ref)
    assert hashlib.sha256(b"default/1/partial-ref").hexdigest().startswith("8416e85f")  # containerd-store.md §2.3
    assert sorted(os.listdir(d)) == ["data", "ref", "startedat", "total", "updatedat"]
    assert (d / "ref").read_bytes() == ref.encode()  # verbatim, no newline
    assert (d / "total").read_bytes() == b"100"
    for name in ("startedat", "updatedat"):
        assert GO_TIME.match((d / name).read_text()), (d / name).read_text()
    assert mode(d) == 0o755 & ~umask()
    for name in ("data", "ref", "total", "startedat", "updatedat"):
        assert mode(d / name) == 0o666 & ~umask(), name
    assert (d / "data").read_bytes() == b"partial-data"  # unbuffered: on disk before close
    w.close()
    assert sorted(os.listdir(d)) == ["data", "ref", "startedat", "total", "updatedat"]  # no .tmp left


def test_total_written_only_when_known(store):
    store.writer("no-total").close()
    assert not (store.ingest_dir("no-total") / "total").exists()
    assert store.status("no-total").total == 0


@pytest.mark.parametrize("content", [b"100\n", b"abc", b"", b" 100", b"1_000", b"99999999999999999999"])
def test_bad_total_reads_as_zero(store, content):
    store.writer("r", total=100).close()
    (store.ingest_dir("r") / "total").write_bytes(content)
    assert store.status("r").total == 0


def test_total_strict_int64(store):
    store.writer("r").close()
    (store.ingest_dir("r") / "total").write_bytes(b"+42")
    assert store.status("r").total == 42


def test_started_at_nanoseconds_round_trip(store):
    """A timestamp written by containerd (ns, Z or offset) reads back to the nanosecond."""
    store.writer("r").close()
    d = store.ingest_dir("r")
    (d / "startedat").write_bytes(b"2026-11-27T21:43:16.250576068Z")
    (d / "updatedat").write_bytes(b"2026-11-27T22:45:55.970897846+01:00")
    os.utime(d / "data", ns=(0, 0))
    st = store.status("r")
    assert st.started_at.ns == parse_rfc3339("2026-11-27T21:43:16.250576068Z")
    assert st.started_at.ns % 10**9 == 250576068
    assert st.updated_at.ns == parse_rfc3339("2026-11-27T21:45:55.970897846Z")
    # and a writer resuming it keeps the exact nanoseconds, writing them back on close
    w = store.writer("r")
    assert w.status().started_at.ns == st.started_at.ns
    w.close()
    assert (d / "startedat").read_bytes() == b"2026-11-27T21:43:16.250576068Z"


def test_status_updated_at_is_later_of_file_and_data_mtime(store):
    w = store.writer("r")
    w.write(b"abc")
    w.close()
    d = store.ingest_dir("r")
    file_ns = parse_rfc3339((d / "updatedat").read_text())
    later = file_ns + 5_000_000_123
    os.utime(d / "data", ns=(later, later))
    assert store.status("r").updated_at.ns == later
    os.utime(d / "data", ns=(file_ns - 10**9, file_ns - 10**9))
    assert store.status("r").updated_at.ns == file_ns


def test_status_ref_comes_from_the_ref_file(store):
    store.writer("r").close()
    (store.ingest_dir("r") / "ref").write_bytes(b"something-else")
    assert store.status("r").ref == "something-else"


def test_close_persists_updated_at_exactly(store):
    w = store.writer("r")
    w.write(b"x")
    updated = w.status().updated_at.ns
    w.close()
    assert parse_rfc3339((store.ingest_dir("r") / "updatedat").read_text()) == updated


def test_blob_file_mode_and_times(store):
    w = store.writer("r")
    w.write(b"hello")
    before = os.stat(store.ingest_dir("r") / "data")
    dgst = w.commit(5)
    path = store.root / "blobs" / "sha256" / dgst.encoded
    assert mode(path) == stat.S_IMODE(before.st_mode) & ~0o333 == 0o444 & ~umask()
    st = os.stat(path)
    assert st.st_atime_ns == st.st_mtime_ns
    info = store.info(dgst)
    assert info.created_at.ns == st.st_mtime_ns and info.updated_at.ns == st.st_atime_ns
    assert not store.ingest_dir("r").exists()
    assert mode(path.parent) == 0o755 & ~umask() and mode(path.parent.parent) == 0o755 & ~umask()


def test_info_keeps_nanoseconds_of_mtime_and_atime(store, sh):
    dgst = sh.write_blob(store, "r", b"abc")
    os.utime(store.blob_path(dgst), ns=(1_700_000_000_123_456_789, 1_600_000_000_987_654_321))
    info = store.info(dgst)
    assert info.created_at.ns == 1_600_000_000_987_654_321
    assert info.updated_at.ns == 1_700_000_000_123_456_789
    walked = next(iter(store.walk()))
    assert walked == info and walked.created_at.ns == info.created_at.ns


def test_resume_keeps_stored_total(store):
    w = store.writer("r", total=10)
    w.write(b"12345")
    w.close()
    assert store.writer("r").status().total == 10  # stored total wins over "unknown"


def test_resume_drops_new_total_when_none_stored(store):
    """Verified containerd behaviour: no total file -> a total passed on resume is dropped."""
    w = store.writer("r")
    w.write(b"12345")
    w.close()
    w = store.writer("r", total=10)
    assert (w.status().offset, w.status().total) == (5, 0)


def test_resume_with_different_total_recreates_and_truncates(store):
    """Deliberate difference: a recreated ingest starts with an empty data file (no stale tail)."""
    w = store.writer("r", total=80)
    w.write(b"x" * 80)
    w.close()
    started = store.status("r").started_at
    w = store.writer("r", total=10)
    assert (w.status().offset, w.status().total) == (0, 10)
    assert w.status().started_at.ns > started.ns
    assert os.path.getsize(store.ingest_dir("r") / "data") == 0
    w.write(b"0123456789")
    assert w.commit(0) == Digest.from_bytes(b"0123456789")
    assert store.info(Digest.from_bytes(b"0123456789")).size == 10


@pytest.mark.parametrize("damage", ["empty-updatedat", "no-startedat", "ref-mismatch"])
def test_unresumable_ingest_is_recreated_empty(store, damage):
    w = store.writer("r", total=50)
    w.write(b"y" * 50)
    w.close()
    d = store.ingest_dir("r")
    if damage == "empty-updatedat":
        (d / "updatedat").write_bytes(b"")
    elif damage == "no-startedat":
        (d / "startedat").unlink()
    else:
        (d / "ref").write_bytes(b"other")
    w = store.writer("r")
    assert w.status().offset == 0 and w.digest() == EMPTY
    assert (d / "ref").read_bytes() == b"r"
    assert not (d / "total").exists()  # the stale total of the unusable ingest is gone too
    assert os.path.getsize(d / "data") == 0
    w.close()
    assert store.status("r").offset == 0


def test_resume_rehashes_data(store):
    w = store.writer("r")
    w.write(b"hello ")
    w.close()
    with open(store.ingest_dir("r") / "data", "ab") as f:  # bytes added behind our back count too
        f.write(b"world")
    w = store.writer("r")
    assert w.status().offset == 11 and w.digest() == Digest.from_bytes(b"hello world")


def test_a_big_write_that_fails_half_way_hashes_only_what_reached_the_file(store, monkeypatch):
    """The helper thread hashed the whole chunk; the writer re-hashes the bytes that were written."""
    import errno

    import store.writer as writer_module

    data = os.urandom(3 << 20)
    w = store.writer("r")
    real_write = writer_module.os.write
    calls = []

    def write_then_fail(fd, buf):
        calls.append(len(buf))
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, buf[:(1 << 20) + 5])

    monkeypatch.setattr(writer_module.os, "write", write_then_fail)
    with pytest.raises(errors.Unknown, match="failed after 1048581 bytes"):
        w.write(data)
    monkeypatch.undo()
    assert w.status().offset == (1 << 20) + 5
    assert w.digest() == Digest.from_bytes(data[:(1 << 20) + 5])
    w.close()

def test_writer_contract(store):
    w = store.writer("r")
    assert w.write(b"abc") == 3
    with pytest.raises(errors.ContentError, match="Truncate: unsupported size"):
        w.truncate(2)
    dgst = w.commit(3)
    assert w.digest() == dgst == Digest.from_bytes(b"abc")
    with pytest.raises(errors.FailedPrecondition, match="cannot write to ingest 'r': the writer is closed"):
        w.write(b"more")
    with pytest.raises(errors.FailedPrecondition, match="^cannot commit on closed writer: failed precondition$"):
        w.commit(3)
    w.close()
    w.close()


def test_failed_commit_keeps_ingest_and_updatedat(store):
    w = store.writer("r")
    w.write(b"abc")
    w.close()
    d = store.ingest_dir("r")
    before = (d / "updatedat").read_bytes()
    w = store.writer("r")
    with pytest.raises(errors.FailedPrecondition, match="unexpected commit size 3, expected 4"):
        w.commit(4)
    assert (d / "data").read_bytes() == b"abc" and (d / "updatedat").read_bytes() == before
    assert store.writer("r").status().offset == 3  # lock released, resumable


def test_size_checked_against_file_digest_against_hasher(store):
    w = store.writer("r")
    w.write(b"abc")
    with open(store.ingest_dir("r") / "data", "ab") as f:
        f.write(b"d")  # someone appends behind the writer's back
    with pytest.raises(errors.FailedPrecondition, match="unexpected commit size 4, expected 3"):
        w.commit(3)


def test_commit_existing_target_removes_ingest(store, sh):
    dgst = sh.write_blob(store, "a", b"same")
    w = store.writer("b")
    w.write(b"same")
    with pytest.raises(errors.AlreadyExists, match=f"^content {dgst}: already exists$"):
        w.commit(4, dgst)
    assert not store.ingest_dir("b").exists()


def test_writer_for_present_digest_is_already_exists_and_unlocked(store, sh):
    dgst = sh.write_blob(store, "a", b"present")
    with pytest.raises(errors.AlreadyExists, match=f"^content {dgst}: already exists$"):
        store.writer("x", expected=dgst)
    store.writer("x").close()  # the lock was released
    assert not store.ingest_dir("x").exists() or store.status("x").offset == 0


def test_sha512_blob(store):
    data = b"sha512 content"
    dgst = Digest.from_bytes(data, "sha512")
    w = store.writer("r", total=len(data), expected=dgst)
    w.write(data)
    assert w.digest() == dgst
    assert w.commit(len(data), dgst) == dgst
    assert (store.root / "blobs" / "sha512" / dgst.encoded).read_bytes() == data
    assert store.info(dgst).size == len(data) and store.verify(dgst)


def test_expected_of_other_algorithm_is_rehashed_at_commit(store):
    """containerd 2.3+: a sha256 writer committed with a sha384 expected digest."""
    w = store.writer("r")
    w.write(b"abc")
    d384 = Digest.from_bytes(b"abc", "sha384")
    assert w.commit(3, d384) == d384
    assert store.info(d384).size == 3


def test_invalid_labels_at_commit_keep_the_ingest(store):
    w = store.writer("r")
    w.write(b"abc")
    with pytest.raises(errors.InvalidArgument, match=r"label key and value length \(4097 bytes\)"):
        w.commit(3, labels={"k": "v" * 4096})
    assert store.status("r").offset == 3
    assert not (store.root / "blobs" / "sha256" / Digest.from_bytes(b"abc").encoded).exists()


def test_large_write_hash_runs_beside_the_write(store):
    data = os.urandom((3 << 20) + 17)
    w = store.writer("big")
    w.write(data[:100])
    w.write(memoryview(data)[100:])
    assert w.digest() == Digest.from_bytes(data)
    assert w.commit(len(data), Digest.from_bytes(data))


def test_empty_blob(store):
    w = store.writer("empty")
    assert w.commit(0, EMPTY) == EMPTY
    assert store.info(EMPTY).size == 0


def test_new_store_layout(tmp_path):
    s = LocalStore(tmp_path / "root")
    assert sorted(os.listdir(s.root)) == ["ingest"]  # nothing else until it is needed
    assert list(s.walk()) == [] and s.list_statuses() == []


def test_commit_syncs_data_then_the_blob_directory(store, monkeypatch):
    """Commit order (containerd-store.md §2.8): fsync data before the rename, fsync blobs/<alg> after it (2.2+)."""
    import store.writer as writer_module

    events = []
    real_fsync, real_rename = os.fsync, writer_module._rename_noreplace

    def spy_fsync(fd):
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        return real_fsync(fd)

    def spy_rename(src, dst):
        events.append(("rename", str(src), str(dst)))
        return real_rename(src, dst)

    w = store.writer("r")
    w.write(b"durable")
    monkeypatch.setattr(writer_module.os, "fsync", spy_fsync)
    monkeypatch.setattr(writer_module, "_rename_noreplace", spy_rename)
    dgst = w.commit(7)
    monkeypatch.undo()
    data = str(store.ingest_dir("r") / "data")
    blob = str(store.blob_path(dgst))
    # os is process-wide: keep only what touched this store (a collected writer elsewhere may fsync too)
    ours = [e for e in events if str(store.root) in e[1]]
    assert ours == [("fsync", data), ("rename", data, blob), ("fsync", str(store.root / "blobs" / "sha256"))]
