"""containerd's shared content test suite, cases 1-12 (containerd-store.md §7.2), written from the spec."""

from __future__ import annotations

import io
import time

import pytest

from store import Digest, errors
from store.digest import EMPTY
from store.timestamps import format_rfc3339
from store.writer import copy

ROOT_LABELS = {"containerd.io/gc.root": format_rfc3339(time.time_ns())}


def check_ref_not_available(store, ref):
    with pytest.raises(errors.Unavailable, match=f"ref {ref} locked for "):
        store.writer(ref)


def test_writer(store, sh):
    """Case 1: four writers open at once (no desc, size, digest, size+digest); commit with labels."""
    blobs = [sh.random_bytes(256, seed) for seed in range(4)]
    digests = [Digest.from_bytes(b) for b in blobs]
    writers = [
        store.writer("c1"),
        store.writer("c2", total=256),
        store.writer("c3", expected=digests[2]),
        store.writer("c4", total=256, expected=digests[3]),
    ]
    for w, data, dgst in zip(writers, blobs, digests):
        for i in range(0, len(data), 32):  # the suite's 32-byte copy buffer
            w.write(data[i:i + 32])
        pre = sh.now()
        w.commit(0, None, labels=ROOT_LABELS)
        post = sh.now()
        assert w.digest() == dgst  # still valid after commit
        sh.check_info(store, dgst, 256, pre, post, pre, post, labels=ROOT_LABELS)


def test_update_status(store, sh):
    """Case 2: status and digest follow every write; StartedAt stays."""
    data = sh.random_bytes(256, 10)
    dgst = Digest.from_bytes(data)
    pre = sh.now()
    w = store.writer("c1", total=256, expected=dgst)
    post = sh.now()
    sh.check_status(w, "c1", 0, 256, EMPTY, pre, post, pre, post)
    started = w.status().started_at
    done = 0
    for n in (64, 128, 64):
        pre_u = sh.now()
        w.write(data[done:done + n])
        post_u = sh.now()
        done += n
        sh.check_status(w, "c1", done, 256, Digest.from_bytes(data[:done]), pre, post, pre_u, post_u)
        assert w.status().started_at == started
    pre = sh.now()
    w.commit(256, dgst, labels=ROOT_LABELS)
    post = sh.now()
    sh.check_info(store, dgst, 256, pre, post, pre, post, labels=ROOT_LABELS)


@pytest.mark.parametrize("i,use_expected", [(0, True), (1, False)])
def test_commit_exists(store, sh, i, use_expected):
    """Case 3: committing bytes that are already a blob is AlreadyExists, with or without expected."""
    data = sh.random_bytes(256, 20)
    d1 = sh.write_blob(store, "c1", data)
    w = store.writer(f"c1-commitexists-{i}")
    w.write(data)
    with pytest.raises(errors.AlreadyExists, match=f"content {d1}"):
        w.commit(256, d1 if use_expected else None)
    assert not store.ingest_dir(f"c1-commitexists-{i}").exists()


def test_resume(store, sh):
    """Case 4: close after half, reopen: identical status (persisted times), finish, commit."""
    data = sh.random_bytes(256, 30)
    dgst = Digest.from_bytes(data)
    pre = sh.now()
    w = store.writer("cb", total=256, expected=dgst)
    post = sh.now()
    pre_u = sh.now()
    w.write(data[:128])
    post_u = sh.now()
    sh.check_status(w, "cb", 128, 256, Digest.from_bytes(data[:128]), pre, post, pre_u, post_u)
    first = w.status()
    w.close()

    w = store.writer("cb", total=256, expected=dgst)
    sh.check_status(w, "cb", 128, 256, Digest.from_bytes(data[:128]), pre, post, pre_u, post_u)
    assert w.status() == first
    assert w.status().started_at.ns == first.started_at.ns and w.status().updated_at.ns == first.updated_at.ns
    w.write(data[128:])
    assert w.status().offset == 256 and w.digest() == dgst
    pre = sh.now()
    w.commit(0, None)
    post = sh.now()
    assert w.close() is None
    sh.check_info(store, dgst, 256, pre, post, pre, post)


class _PlainReader:
    """Only ``read``: the copy helper must discard the resumed prefix by reading it."""

    def __init__(self, data):
        self._f = io.BytesIO(data)

    def read(self, n=-1):
        return self._f.read(n)


class _ReaderAt:
    def __init__(self, data):
        self._data = data

    def read_at(self, n, offset):
        return self._data[offset:offset + n]


def _finish(mode, w, data, dgst):
    size = len(data)
    if mode == "truncate":
        w.truncate(0)
        for i in range(0, size, 1024):
            w.write(data[i:i + 1024])
        w.commit(size, dgst)
    elif mode == "discard":
        w.write(data[w.status().offset:])
        w.commit(size, dgst)
    elif mode == "copy":
        copy(w, _PlainReader(data), size, dgst)
    elif mode == "copyseeker":
        copy(w, io.BytesIO(data), size, dgst)
    elif mode == "copyreaderat":
        copy(w, _ReaderAt(data), size, dgst)


@pytest.mark.parametrize("mode", ["truncate", "discard", "copy", "copyseeker", "copyreaderat"])
def test_resume_modes(store, sh, mode):
    """Cases 5-9: sizes 500/5000/50000 x fractions 0..1: partial write, close, reopen, finish."""
    for i, size in enumerate((500, 5000, 50000)):
        for j, fraction in enumerate((0, 0.1, 0.5, 0.9, 1.0)):
            data = sh.random_bytes(size, 1000 * i + j)
            dgst = Digest.from_bytes(data)
            limit = int(size * fraction)
            ref = f"ref-{i}-{j}"
            w = store.writer(ref, total=size, expected=dgst)
            w.write(data[:limit])
            w.close()
            w = store.writer(ref, total=size, expected=dgst)
            assert w.status().offset == limit
            pre = sh.now()
            _finish(mode, w, data, dgst)
            post = sh.now()
            assert w.close() is None
            sh.check_content(store, dgst, data, pre, post, pre, post)


def test_small_blob(store, sh):
    """Case 10: a 6-byte blob read through a 7-byte window gives exactly the 6 bytes."""
    dgst = Digest.from_bytes(b"foobar")
    w = store.writer("SmallBlob", total=6, expected=dgst)
    w.write(b"foobar")
    w.commit(6, dgst)
    w.close()
    r = store.reader_at(dgst)
    assert r.size == 6
    assert r.read_at(7, 0) == b"foobar"
    assert r.read_at(10, 6) == b""
    r.close()
    r.close()


def test_labels(store, sh):
    """Case 11: labels at commit, full replace, then partial update by fieldpath."""
    data = sh.random_bytes(256, 40)
    dgst = Digest.from_bytes(data)
    labels = {"k1": "v1", "k2": "v2", **ROOT_LABELS}
    w = store.writer("c1-checklabels", total=256, expected=dgst)
    w.write(data)
    pre_c = sh.now()
    w.commit(256, dgst, labels=labels)
    post_c = sh.now()
    info = sh.check_info(store, dgst, 256, pre_c, post_c, pre_c, post_c, labels=labels)

    labels = {"k1": "newvalue", "k3": "v3", **ROOT_LABELS}
    pre = sh.now()
    updated = store.update(info.__class__(dgst, 256, info.created_at, info.updated_at, labels))
    post = sh.now()
    assert updated.labels == labels
    assert pre <= updated.updated_at.ns <= post and updated.created_at == info.created_at
    sh.check_info(store, dgst, 256, pre_c, post_c, pre, post, labels=labels)

    pre = sh.now()
    updated = store.update(info.__class__(dgst, 256, info.created_at, info.updated_at,
                                          {"k1": "v1", **ROOT_LABELS}), "labels.k3", "labels.k1")
    post = sh.now()
    assert updated.labels == {"k1": "v1", **ROOT_LABELS}
    sh.check_info(store, dgst, 256, pre_c, post_c, pre, post, labels={"k1": "v1", **ROOT_LABELS})


def test_commit_error_state(store, sh):
    """Case 12: every failed commit leaves a consistent, re-openable state."""
    c1 = sh.random_bytes(256, 50)
    d1 = sh.write_blob(store, "c1", c1)
    ref = "c1-commiterror-state"

    w = store.writer(ref)
    w.write(c1)
    check_ref_not_available(store, ref)
    with pytest.raises(errors.AlreadyExists):
        w.commit(256, d1)

    w = store.writer(ref)  # lock released and ingest gone
    assert w.status().offset == 0
    check_ref_not_available(store, ref)
    w.write(c1)
    with pytest.raises(errors.AlreadyExists):
        w.commit(256, None)
    w.close()

    w = store.writer(ref)
    check_ref_not_available(store, ref)
    w.write(c1 + b"more")
    d2 = Digest.from_bytes(c1 + b"more")
    wrong = Digest.from_bytes(b"wrong")
    with pytest.raises(errors.FailedPrecondition, match=f"unexpected commit digest {d2}, expected {wrong}"):
        w.commit(260, wrong)
    w.close()

    w = store.writer(ref)
    assert w.status().offset == 260 and w.digest() == d2  # resumed by re-hashing
    check_ref_not_available(store, ref)
    with pytest.raises(errors.FailedPrecondition, match="unexpected commit size 260, expected 256"):
        w.commit(256, None)
    w.close()

    w = store.writer(ref)
    check_ref_not_available(store, ref)
    assert w.commit(260, None) == d2
    assert store.info(d2).size == 260

    w = store.writer(ref)  # fresh ingest
    assert w.status().offset == 0
    w.write(c1)
    check_ref_not_available(store, ref)
    with pytest.raises(errors.AlreadyExists):
        w.commit(256, d1)
    w.close()

    w = store.writer(ref)
    check_ref_not_available(store, ref)
    w.truncate(0)
    w.close()
    w = store.writer(ref)
    w.truncate(0)
    w.close()
