"""containerd's content/local tests (containerd-store.md §7.3), written from the spec."""

from __future__ import annotations

import dataclasses
import os
import random
import stat

import pytest

from store import Digest, LocalStore, Status, errors
from store.ingest import read_timestamp, write_timestamp
from store.locks import RefLocks
from store.timestamps import ZERO_NS
from store.writer import copy


def assert_read_only_blob(path):
    mode = os.stat(path).st_mode
    assert mode & 0o333 == 0, oct(mode)


@pytest.mark.parametrize("algorithm", ["sha256", "sha512"])
def test_content_writer(tmp_path, sh, algorithm):
    """TestContentWriter (run per algorithm as in main)."""
    store = LocalStore(tmp_path / "content")
    assert (tmp_path / "content" / "ingest").is_dir()
    w = store.writer("myref")
    w.close()
    w = store.writer("myref")
    with pytest.raises(errors.Unavailable):
        store.writer("myref")
    statuses = [dataclasses.replace(s, started_at=None, updated_at=None) for s in store.list_statuses("")]
    assert statuses == [Status("myref", 0, 0, None, None, None)]

    data = sh.random_bytes(4 << 20, 1)
    dgst = Digest.from_bytes(data, algorithm)
    import io
    assert copy(w, io.BytesIO(data), len(data), dgst) == dgst
    w.close()

    w = store.writer("aref")
    assert copy(w, io.BytesIO(data), len(data), dgst) is None  # AlreadyExists counts as success
    with pytest.raises(errors.AlreadyExists):
        w2 = store.writer("aref2")
        w2.write(data)
        w2.commit(len(data), dgst)

    path = tmp_path / "content" / "blobs" / algorithm / dgst.encoded
    assert path.is_file()
    assert_read_only_blob(path)
    assert path.read_bytes() == data


def test_walk_blobs(store, sh):
    """TestWalkBlobs: 79 random blobs (refs = digests) are exactly what walk reports."""
    rng = random.Random(79)
    expected = set()
    for i in range(79):
        data = sh.random_bytes(rng.randrange(4096), i)
        dgst = Digest.from_bytes(data)
        sh.write_blob(store, str(dgst), data)
        expected.add(dgst)
    seen = [info.digest for info in store.walk()]
    assert set(seen) == expected and len(seen) == len(expected)
    assert seen == sorted(seen)
    for dgst in seen:
        assert_read_only_blob(store.blob_path(dgst))


def test_truncate_recovers_from_incomplete_write(store):
    """TestWriterTruncateRecoversFromIncompleteWrite."""
    content = b"this is the content"
    dgst = Digest.from_bytes(content)
    w = store.writer("ref", total=19)
    w.write(b"bad data")
    w.close()
    w = store.writer("ref", total=19)
    w.truncate(0)
    w.write(content)
    assert w.commit(19, dgst) == dgst
    assert store.blob_path(dgst).read_bytes() == content


def test_write_read_empty_file_timestamp(tmp_path):
    """TestWriteReadEmptyFileTimestamp: the zero time round-trips."""
    p = tmp_path / "startedat"
    write_timestamp(p, ZERO_NS)
    assert p.read_bytes() == b"0001-01-01T00:00:00Z"
    assert read_timestamp(p) == ZERO_NS


def test_try_lock(tmp_path):
    """TestTryLock: the second lock fails with "ref testref locked for "."""
    locks = RefLocks(tmp_path / "locks")
    held = locks.try_lock("testref", "h")
    with pytest.raises(errors.Unavailable, match="ref testref locked for .* \\(since .*\\): unavailable"):
        locks.try_lock("testref", "h")
    held.release()
    locks.try_lock("testref", "h").release()


def test_content_root_dir(tmp_path):
    """TestContentRootDir: a missing root (and parents) is created, with ingest/."""
    root = tmp_path / "a" / "b" / "content"
    s = LocalStore(root)
    assert (root / "ingest").is_dir() and not s.read_only
    assert stat.S_IMODE(os.stat(root / "ingest").st_mode) == 0o755


def test_fuzz_like_writer(store):
    """FuzzContentStoreWriter's shape with a few fixed inputs: open/close/reopen, copy, commit."""
    for data in [b"", b"x", os.urandom(70000)]:
        ref = "myref"
        w = store.writer(ref)
        w.close()
        w = store.writer(ref)
        import io
        dgst = Digest.from_bytes(data)
        copy(w, io.BytesIO(data), len(data), dgst)
        assert store.info(dgst).size == len(data)


def test_local_store_implements_the_protocols(store):
    from store.api import BlobscopeStore, ContentStore
    from store.api import ReaderAt as ReaderAtProtocol
    from store.api import Writer as WriterProtocol

    assert isinstance(store, ContentStore) and isinstance(store, BlobscopeStore)
    w = store.writer("r")
    assert isinstance(w, WriterProtocol)
    w.write(b"x")
    d = w.commit(1)
    with store.reader_at(d) as r:
        assert isinstance(r, ReaderAtProtocol)


def test_commit_through_a_linked_blobs_dir_creates_nothing_outside(tmp_path):
    """A link planted as blobs/ is refused before the commit makes blobs/<alg> (mkdir would follow it)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    store = LocalStore(tmp_path / "s")
    os.symlink(outside, store.blobs_root)
    w = store.writer("r")
    w.write(b"x")
    with pytest.raises(errors.FailedPrecondition, match="symbolic link"):
        w.commit()
    assert os.listdir(outside) == []


def test_writer_refuses_a_linked_ingest_dir(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    store = LocalStore(tmp_path / "s")
    os.rmdir(store.ingest_root)
    os.symlink(outside, store.ingest_root)
    with pytest.raises(errors.FailedPrecondition, match="ingest/? is a symbolic link.*ingest 'r' is not written"):
        store.writer("r")
    assert os.listdir(outside) == []
