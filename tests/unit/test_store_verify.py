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


def _outcome(store, dgst):
    try:
        return store.verify(dgst)
    except errors.ContentError as exc:
        return exc


def test_verify_each_answers_as_verify_does_for_every_kind_of_blob(tmp_path):
    """verify_each (one handle on blobs/<alg>) gives, blob by blob, what verify gives or raises."""
    s = LocalStore(tmp_path / "s")
    good = _put(s, b"good blob")
    flipped = _put(s, b"flipped blob")
    _flip(s, flipped)
    sha512 = s.writer("r-512")
    sha512.write(b"a sha512 blob")
    d512 = Digest("sha512:" + __import__("hashlib").sha512(b"a sha512 blob").hexdigest())
    sha512.commit(expected=d512)
    fifo = Digest.from_bytes(b"fifo")
    os.mkfifo(s.blob_path(fifo))
    link = Digest.from_bytes(b"link")
    (tmp_path / "outside").write_bytes(b"link")
    os.symlink(tmp_path / "outside", s.blob_path(link))
    missing = Digest.from_bytes(b"never stored")
    no_dir = Digest("sha384:" + "0" * 96)  # blobs/sha384 does not exist
    digests = [good, flipped, d512, fifo, link, missing, no_dir, "sha256:NOT-A-DIGEST", good]
    got = list(s.verify_each(digests))
    assert [d for d, _ in got] == digests
    for d, outcome in got[:-2] + got[-1:]:
        want = _outcome(s, d)
        assert type(outcome) is type(want), (d, outcome, want)
        assert str(outcome) == str(want), d
    assert got[0][1] is True and got[1][1] is False and got[2][1] is True
    assert isinstance(got[7][1], errors.InvalidArgument)


def test_verify_each_refuses_a_linked_blob_directory(tmp_path):
    s = LocalStore(tmp_path / "s")
    d = _put(s, b"content")
    real = tmp_path / "elsewhere"
    os.rename(s.blobs_root / "sha256", real)
    os.symlink(real, s.blobs_root / "sha256")
    [(_, outcome)] = list(s.verify_each([d]))
    assert isinstance(outcome, errors.FailedPrecondition) and "symbolic link" in str(outcome)


def test_verify_each_closes_its_directory_handles(tmp_path):
    s = LocalStore(tmp_path / "s")
    digests = [_put(s, os.urandom(10 + i)) for i in range(5)]
    before = len(os.listdir("/proc/self/fd"))
    gen = s.verify_each(digests)
    next(gen)
    assert len(os.listdir("/proc/self/fd")) == before + 1  # the handle on blobs/sha256
    gen.close()  # stopped early, as a cancelled verify_many does
    assert len(os.listdir("/proc/self/fd")) == before
    assert all(ok is True for _, ok in s.verify_each(digests))
    assert len(os.listdir("/proc/self/fd")) == before


def test_verify_many_in_forked_processes_gives_the_same_answers(tmp_path, monkeypatch):
    """processes=True (blobctl's way): many small blobs checked by forked workers, same results, same order."""
    import store.verify as verify_mod
    monkeypatch.setattr(verify_mod, "FORK_MIN", 10)
    s = LocalStore(tmp_path / "s")
    digests = [_put(s, os.urandom(200 + i)) for i in range(1200)]
    _flip(s, digests[7])
    _flip(s, digests[1100])
    fifo = Digest.from_bytes(b"fifo")
    os.mkfifo(s.blob_path(fifo))
    missing = Digest.from_bytes(b"never stored")
    items = [(d, 200) for d in digests] + [(fifo, 0), (missing, 5)]
    seen = []
    forked = verify_many(s, items, jobs=2, processes=True, progress=lambda done, total: seen.append(done))
    inline = verify_many(s, items, jobs=2)
    assert [r.digest for r in forked] == [d for d, _ in items]
    assert [(r.ok, type(r.error), str(r.error)) for r in forked] == \
        [(r.ok, type(r.error), str(r.error)) for r in inline]
    assert {r.digest for r in forked if not r.ok and r.error is None} == {digests[7], digests[1100]}
    assert isinstance(forked[-2].error, errors.FailedPrecondition)
    assert isinstance(forked[-1].error, errors.NotFound)
    assert seen[-1] == len(items) and seen == sorted(seen)
    assert verify_mod._forked is None  # nothing of the run is kept


def test_verify_many_in_processes_stops_when_cancelled(tmp_path, monkeypatch):
    import store.verify as verify_mod
    monkeypatch.setattr(verify_mod, "FORK_MIN", 10)
    s = LocalStore(tmp_path / "s")
    digests = [_put(s, os.urandom(100 + i)) for i in range(2000)]
    calls = []
    results = verify_many(s, [(d, 100) for d in digests], jobs=2, processes=True,
                          cancel=lambda: calls.append(1) or len(calls) > 2)  # checked per range of 512
    assert 0 < len(results) < len(digests) and all(r.ok for r in results)
