"""import_file: progress, cancel + resume, existing blobs, labels, bad input; verify and usage."""

from __future__ import annotations

import os

import pytest

from store import Digest, errors, importer
from tests.support.fs import umask


@pytest.fixture
def big_file(tmp_path):
    p = tmp_path / "layer.tar"
    p.write_bytes(os.urandom(3 * importer.CHUNK + 12345))
    return p


def test_import_commits_with_labels_and_progress(store, big_file):
    seen = []
    info = store.import_file(big_file, labels={"org.example/source": "test"},
                             progress=lambda done, total: seen.append((done, total)))
    data = big_file.read_bytes()
    assert info.digest == Digest.from_bytes(data) and info.size == len(data)
    assert info.labels == {"org.example/source": "test"}
    assert seen[0] == (0, len(data)) and seen[-1] == (len(data), len(data))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert store.list_statuses() == [] and store.verify(info.digest)
    assert oct(os.stat(store.blob_path(info.digest)).st_mode & 0o777) == oct(0o444 & ~umask())


def test_cancel_keeps_ingest_and_reimport_resumes(store, big_file):
    calls = {"n": 0}

    def cancel_after_two_chunks():
        calls["n"] += 1
        return calls["n"] > 2

    with pytest.raises(errors.Cancelled, match="importing it again resumes") as exc:
        store.import_file(big_file, cancel=cancel_after_two_chunks)
    assert exc.value.kind == "canceled"
    [st] = store.list_statuses()
    assert st.offset == 2 * importer.CHUNK and st.total == big_file.stat().st_size
    assert big_file.name in st.ref

    seen = []
    info = store.import_file(big_file, progress=lambda d, t: seen.append(d))
    assert seen[0] == 2 * importer.CHUNK  # resumed, not restarted
    assert info.digest == Digest.from_bytes(big_file.read_bytes())
    assert store.list_statuses() == []


def test_changed_file_gets_a_new_ref(store, big_file):
    with pytest.raises(errors.Cancelled):
        store.import_file(big_file, cancel=lambda: True)
    big_file.write_bytes(b"different content")
    info = store.import_file(big_file)
    assert info.size == len(b"different content")
    assert len(store.list_statuses()) == 1  # the old ingest remains, abortable


def test_import_existing_returns_info_and_merges_labels(store, tmp_path):
    p = tmp_path / "f"
    p.write_bytes(b"same bytes")
    first = store.import_file(p, labels={"a": "1"})
    copy = tmp_path / "g"
    copy.write_bytes(b"same bytes")
    again = store.import_file(copy, labels={"b": "2"})
    assert again.digest == first.digest and again.labels == {"a": "1", "b": "2"}
    assert store.list_statuses() == []


def test_import_empty_file(store, tmp_path):
    p = tmp_path / "empty"
    p.write_bytes(b"")
    assert store.import_file(p).digest == Digest.from_bytes(b"")


def test_import_explicit_ref_and_bad_input(store, tmp_path):
    p = tmp_path / "f"
    p.write_bytes(b"x")
    with pytest.raises(errors.NotFound, match="cannot open"):
        store.import_file(tmp_path / "missing")
    with pytest.raises(errors.Unknown, match="cannot open .* for import: File name too long"):
        store.import_file(tmp_path / ("n" * 300))
    with pytest.raises(errors.InvalidArgument, match="not a regular file"):
        store.import_file(tmp_path)
    with pytest.raises(errors.InvalidArgument, match="label key and value length"):
        store.import_file(p, labels={"k": "v" * 5000})
    assert store.list_statuses() == []
    store.import_file(p, ref="my-ref")


def test_import_while_same_file_importing_is_unavailable(store, big_file):
    w = store.writer(importer.default_ref(str(big_file), big_file.stat()))
    try:
        with pytest.raises(errors.Unavailable):
            store.import_file(big_file)
    finally:
        w.close()


def test_verify_detects_corruption(store, sh):
    d = sh.write_blob(store, "a", b"original")
    assert store.verify(d)
    path = store.blob_path(d)
    os.chmod(path, 0o644)
    path.write_bytes(b"tampered")
    assert not store.verify(d)
    with pytest.raises(errors.NotFound):
        store.verify(Digest.from_bytes(b"nothing"))


def test_usage(populated_store):
    u = populated_store.usage()
    assert u == {"blob_count": 3, "blob_bytes": 12 + 20 + 5000, "ingest_count": 1, "ingest_bytes": 12}


def test_file_shrinking_mid_import_stores_nothing(store, tmp_path):
    p = tmp_path / "shrinks"
    p.write_bytes(os.urandom(3 * importer.CHUNK))
    calls = {"n": 0}

    def shrink_after_first_chunk():
        calls["n"] += 1
        if calls["n"] == 2:
            os.truncate(p, importer.CHUNK + 5)
        return False

    with pytest.raises(errors.FailedPrecondition, match="changed while it was being imported"):
        store.import_file(p, cancel=shrink_after_first_chunk)
    assert list(store.walk()) == [] and store.list_statuses() == []


@pytest.fixture
def tiny_fs(tmp_path):
    """A 2 MiB tmpfs, to run out of space for real (needs mount privileges; root in CI)."""
    import subprocess

    mnt = tmp_path / "tiny"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)],
                      capture_output=True).returncode:
        pytest.skip("no privilege to mount a tmpfs here")
    yield mnt
    if subprocess.run(["umount", str(mnt)]).returncode:
        subprocess.run(["umount", "-l", str(mnt)], check=True)


def test_disk_full_is_a_clear_error_and_ingest_stays_consistent(tiny_fs, tmp_path):
    from store import LocalStore

    store = LocalStore(tiny_fs / "content")
    src = tmp_path / "big"
    data = os.urandom(3 << 20)
    src.write_bytes(data)
    with pytest.raises(errors.ContentError, match="[Nn]o space left on device") as exc:
        store.import_file(src)
    assert "can be resumed" in str(exc.value) or "resumes" in str(exc.value)
    assert list(store.walk()) == []
    [st] = store.list_statuses()
    w = store.writer(st.ref)  # the digest of a resumed ingest matches exactly the bytes on disk
    on_disk = (store.ingest_dir(st.ref) / "data").read_bytes()
    assert w.status().offset == len(on_disk) and w.digest() == Digest.from_bytes(on_disk)
    assert data.startswith(on_disk)
    w.close()
    store.abort(st.ref)
    store.labels.close()


def test_partial_write_keeps_hash_and_offset_in_step(tiny_fs):
    from store import LocalStore

    store = LocalStore(tiny_fs / "content")
    w = store.writer("r")
    data = os.urandom(3 << 20)  # big enough for the parallel-hash path
    with pytest.raises(errors.ContentError, match="[Nn]o space left"):
        w.write(data)
    on_disk = (store.ingest_dir("r") / "data").read_bytes()
    assert w.status().offset == len(on_disk) and w.digest() == Digest.from_bytes(on_disk)
    w.close()
    store.labels.close()


def test_big_writes_start_writeback_of_every_byte_once(store, big_file, monkeypatch):
    """Each big chunk is handed to sync_file_range(WRITE) as it is written: contiguous, no gaps, no overlap.

    The file is three full chunks and a 12 345-byte tail; the tail is below PARALLEL_HASH_MIN and
    is left to the commit's fsync."""
    from store import writer
    if writer._sync_file_range is None:
        pytest.skip("this libc has no sync_file_range (not Linux)")
    calls = []
    real = writer._sync_file_range
    monkeypatch.setattr(writer, "_sync_file_range",
                        lambda fd, off, n, flags: calls.append((off, n, flags)) or real(fd, off, n, flags))
    info = store.import_file(big_file)
    size = big_file.stat().st_size
    assert calls, "no writeback was started"
    assert all(flags == writer._SYNC_FILE_RANGE_WRITE for _, _, flags in calls)  # never waits
    ends = 0
    for off, n, _ in calls:
        assert off == ends
        ends += n
    assert ends == 3 * importer.CHUNK and info.size == size and store.verify(info.digest)


def test_writeback_hint_that_fails_is_dropped_and_the_import_still_commits(store, big_file, monkeypatch):
    import ctypes
    import errno

    from store import writer
    calls = []

    def unsupported(fd, off, n, flags):
        calls.append(off)
        ctypes.set_errno(errno.EINVAL)
        return -1

    monkeypatch.setattr(writer, "_sync_file_range", unsupported)
    info = store.import_file(big_file)
    assert len(calls) == 1 and writer._sync_file_range is None  # asked once, then never again
    assert info.digest == Digest.from_bytes(big_file.read_bytes()) and store.verify(info.digest)
