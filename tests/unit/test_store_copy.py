"""The copy helper (containerd's content.Copy table test, containerd-store.md §7.3 helpers_test)."""

from __future__ import annotations

import io

import pytest

from store import Digest, errors
from store.writer import copy

DATA = b"content to copy " * 100


class Unseekable:
    def __init__(self, data):
        self._f = io.BytesIO(data)
        self.reads = 0

    def read(self, n=-1):
        self.reads += 1
        return self._f.read(n)

    def seekable(self):
        return False


def test_copy_without_offset(store):
    w = store.writer("r")
    assert copy(w, io.BytesIO(DATA), len(DATA), Digest.from_bytes(DATA)) == Digest.from_bytes(DATA)


def _partial(store, n):
    w = store.writer("r")
    w.write(DATA[:n])
    w.close()
    return store.writer("r")


def test_copy_resumes_from_a_seeker(store):
    w = _partial(store, 100)
    src = io.BytesIO(DATA)
    assert copy(w, src, len(DATA), Digest.from_bytes(DATA)) == Digest.from_bytes(DATA)


def test_copy_resumes_from_an_unseekable_source_by_discarding(store):
    w = _partial(store, 700)
    src = Unseekable(DATA)
    assert copy(w, src, len(DATA), Digest.from_bytes(DATA), chunk=64) == Digest.from_bytes(DATA)
    assert src.reads > 11  # the first 700 bytes were read and thrown away


def test_copy_commit_already_exists_is_success(store, sh):
    sh.write_blob(store, "a", DATA)
    w = store.writer("b")
    assert copy(w, io.BytesIO(DATA), len(DATA), Digest.from_bytes(DATA)) is None


def test_copy_short_source_fails_size_check(store):
    w = store.writer("r")
    with pytest.raises(errors.FailedPrecondition, match="unexpected commit size"):
        copy(w, io.BytesIO(DATA[:10]), len(DATA), Digest.from_bytes(DATA))
    assert store.status("r").offset == 10


def test_copy_source_shorter_than_resumed_offset(store):
    w = _partial(store, 700)
    with pytest.raises(errors.ContentError, match="source ended after 10 bytes"):
        copy(w, Unseekable(DATA[:10]), len(DATA))
    w.close()
