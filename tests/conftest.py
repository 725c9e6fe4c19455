"""Shared fixtures: real stores in temp directories (never a mocked file system)."""

from __future__ import annotations

import atexit
import collections
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Tests never write into the user's real data, cache or config directories (default store,
# media-type caches, QSettings): every XDG base directory points into one private temp dir.
_XDG = Path(tempfile.mkdtemp(prefix="blobscope-tests-xdg-"))
for _name in ("XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME"):
    os.environ[_name] = str(_XDG / _name.lower())
os.environ.setdefault("XDG_RUNTIME_DIR", str(_XDG / "runtime"))
(_XDG / "runtime").mkdir(mode=0o700, exist_ok=True)
atexit.register(shutil.rmtree, _XDG, True)

from store import Digest, LocalStore  # noqa: E402
from store import local as local_mod  # noqa: E402
from store import reader as reader_mod  # noqa: E402


def random_bytes(n: int, seed: int) -> bytes:
    """Deterministic pseudo-random content, like the containerd suite's seeded generator."""
    return random.Random(seed).randbytes(n)


def check_info(store, dgst, size, c1, c2, u1, u2, labels=None):
    """containerd's checkInfo: digest, size, CreatedAt in [c1,c2], UpdatedAt in [u1,u2], labels equal."""
    info = store.info(dgst)
    assert info.digest == dgst
    assert info.size == size
    assert c1 <= info.created_at.ns <= c2, (c1, info.created_at.ns, c2)
    assert u1 <= info.updated_at.ns <= u2, (u1, info.updated_at.ns, u2)
    assert info.labels == (labels or {})
    return info


def check_content(store, dgst, data, *window, labels=None):
    check_info(store, dgst, len(data), *window, labels=labels)
    with store.reader_at(dgst) as r:
        got = r.read_at(r.size, 0)
    assert got == data and Digest.from_bytes(got) == dgst


def check_status(w, ref, offset, total, dgst, s1, s2, u1, u2):
    """containerd's checkStatus on the writer's in-memory status."""
    assert w.digest() == dgst
    st = w.status()
    assert (st.ref, st.offset, st.total) == (ref, offset, total)
    assert s1 <= st.started_at.ns <= s2
    assert u1 <= st.updated_at.ns <= u2


def write_blob(store, ref, data, *, expected=True, labels=None):
    """containerd's WriteBlob: writer with size+digest, write, commit; AlreadyExists is fine."""
    from store import errors

    dgst = Digest.from_bytes(data)
    try:
        w = store.writer(ref, total=len(data), expected=dgst if expected else None)
    except errors.AlreadyExists:
        return dgst
    try:
        w.write(data)
        w.commit(len(data), dgst, labels=labels)
    except errors.AlreadyExists:
        pass
    finally:
        w.close()
    return dgst


@pytest.fixture
def sh():
    """Store test helpers (random_bytes, check_info, check_content, check_status, write_blob, now)."""
    return SimpleNamespace(random_bytes=random_bytes, check_info=check_info, check_content=check_content,
                           check_status=check_status, write_blob=write_blob, now=time.time_ns)


@pytest.fixture
def store(tmp_path) -> LocalStore:
    """A fresh writable store at ``tmp_path/content``."""
    return LocalStore(tmp_path / "content")


@pytest.fixture
def populated_store(tmp_path) -> LocalStore:
    """A store with three labelled blobs and one unfinished ingest, for tests above the store."""
    s = LocalStore(tmp_path / "content")
    for i, data in enumerate([b"hello world\n", b"{\"schemaVersion\": 2}", random_bytes(5000, 7)]):
        write_blob(s, f"blob-{i}", data, labels={"index": str(i)})
    w = s.writer("partial-ref", total=100)
    w.write(b"partial-data")
    w.close()
    return s


@pytest.fixture
def containerd(tmp_path):
    """A started private containerd daemon (tests/support/containerd.py); stopped by its PID after
    the test whatever happens.  Here, not in tests/integration/, because GUI tests use it too."""
    from tests.support.containerd import ContainerdDaemon
    with ContainerdDaemon(tmp_path) as daemon:
        yield daemon


@pytest.fixture
def blob_opens(monkeypatch):
    """Names of the blob files opened through the store's opener (this process only: not worker processes)."""
    seen: collections.Counter = collections.Counter()
    real = reader_mod.open_blob

    def counting_open(path, extra_flags=0, *, dir_fd=None):
        seen[os.path.basename(os.fspath(path))] += 1
        return real(path, extra_flags, dir_fd=dir_fd)

    monkeypatch.setattr(local_mod, "open_blob", counting_open)
    monkeypatch.setattr(reader_mod, "open_blob", counting_open)
    return seen
