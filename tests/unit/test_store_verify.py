"""verify and verify_many: the answers, whichever path (small blob, big blob, thread pool) checked it."""

from __future__ import annotations

import os

from store import Digest, LocalStore, errors
from store.verify import BIG_BLOB, verify_many


def _put(store, data: bytes) -> Digest:
    with store.writer(f"r-{len(data)}-{data[:4].hex()}") as w:
        w.write(data)
        return w.commit()


def _flip(store, dgst: Digest) -> None:
    path = store.blob_path(dgst)
    os.chmod(path, 0o644)
    with open(path, "r+b") as f:
        b = f.read(1)
        f.seek(0)
        f.write(bytes([b[0] ^ 1]))


def test_verify_small_and_big_blobs_and_mismatches(tmp_path):
    s = LocalStore(tmp_path / "s")
    small = [_put(s, os.urandom(n)) for n in (0, 1, 511, BIG_BLOB - 1)]
    big = [_put(s, os.urandom(n)) for n in (BIG_BLOB, 3 * BIG_BLOB + 17)]
    assert all(s.verify(d) for d in small + big)
    _flip(s, small[2])
    _flip(s, big[1])
    assert not s.verify(small[2]) and not s.verify(big[1])
    missing = Digest.from_bytes(b"never stored")
    items = [(i.digest, i.size) for i in s.walk()] + [(missing, None)]
    seen = []
    results = verify_many(s, items, jobs=2, progress=lambda done, total: seen.append((done, total)))
    assert [r.digest for r in results] == [d for d, _ in items]  # input order kept
    by = {r.digest: r for r in results}
    assert {d for d, r in by.items() if r.error is None and not r.ok} == {small[2], big[1]}
    assert isinstance(by[missing].error, errors.NotFound)
    assert seen[-1] == (len(items), len(items))


def test_verify_many_stops_when_cancelled(tmp_path):
    s = LocalStore(tmp_path / "s")
    digests = [_put(s, os.urandom(100 + i)) for i in range(50)]
    calls = []

    def cancel():
        calls.append(1)
        return len(calls) > 10

    results = verify_many(s, [(d, 100) for d in digests], cancel=cancel)
    assert 0 < len(results) < len(digests) and all(r.ok for r in results)


def test_verify_refuses_a_fifo_without_hanging(tmp_path):
    s = LocalStore(tmp_path / "s")
    d = Digest.from_bytes(b"fifo")
    (s.blobs_root / "sha256").mkdir(parents=True, exist_ok=True)
    os.mkfifo(s.blob_path(d))
    try:
        s.verify(d)
    except errors.ContentError as exc:
        assert "regular file" in str(exc) or "cannot be read" in str(exc)
    else:
        raise AssertionError("a FIFO verified")
