"""Blobscope -> containerd: a store written by ``LocalStore`` is read by containerd's own Go code.

``tests/gopeer`` is built from Debian's packaged containerd source (``content/local``); its
``check`` prints Walk/Info/ReaderAt/ListStatuses/Status results as JSON and ``resume`` reopens
an ingest with ``Writer(WithRef)``, appends the rest and commits.  The test builds the binary
itself when it is missing (about 15 s).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path

import pytest

from tests.support import gopeer
from tests.support.gopeer import parse_kv, run_check

pytestmark = pytest.mark.integration


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="session")
def gopeer_bin() -> Path:
    return gopeer.gopeer_binary()


def _write_blob(s, ref: str, data: bytes, labels=None, chunk: int = 64 * 1024):
    w = s.writer(ref, total=len(data))
    try:
        for i in range(0, len(data), chunk):
            w.write(data[i:i + chunk])
        w.commit(len(data), _sha(data), labels=labels)
    finally:
        w.close()


def _python_view(s):
    blobs = {str(i.digest): i for i in s.walk()}
    ingests = {st.ref: st for st in s.list_statuses()}
    return blobs, ingests


def _assert_same_view(py_blobs, py_ingests, go_blobs, go_ingests):
    assert set(go_blobs) == set(py_blobs)
    for dg, info in py_blobs.items():
        g = go_blobs[dg]
        assert (g["size"], g["info_size"], g["read_size"]) == (info.size,) * 3, dg
        assert g["read_ok"] is True, f"containerd re-hashed {dg} and got a different digest"
        assert g["created_ns"] == info.created_at.ns, dg
        assert g["updated_ns"] == info.updated_at.ns, dg
    assert set(go_ingests) == set(py_ingests)
    for ref, st in py_ingests.items():
        g = go_ingests[ref]
        assert g["status_ok"] is True
        assert (g["offset"], g["total"]) == (st.offset, st.total), ref
        assert g["started_ns"] == st.started_at.ns, ref
        assert g["updated_ns"] == st.updated_at.ns, ref


@pytest.fixture
def python_store(tmp_path):
    """A store written only by Blobscope: blobs (some labelled), an import, unfinished ingests."""
    from store import LocalStore

    root = tmp_path / "store"
    s = LocalStore(root)
    contents = {
        "empty": b"",
        "small": b"hello world\n",
        "chunky": os.urandom(1024 * 1024 * 2 + 5),
        "json": b'{"schemaVersion":2}',
    }
    _write_blob(s, "py-empty", contents["empty"])
    _write_blob(s, "py-small", contents["small"], labels={"team": "blobscope", "a.b": "dots"})
    _write_blob(s, "py-chunky", contents["chunky"], labels={"containerd.io/gc.root": "x"})
    _write_blob(s, "py-json", contents["json"])
    info = s.info(_sha(contents["json"]))
    s.update(dataclasses.replace(info, labels={"kind": "manifest"}), "labels.kind")
    src = tmp_path / "imported.bin"
    src.write_bytes(os.urandom(300_000))
    imported = s.import_file(src, labels={"source": "file"})
    contents["imported"] = src.read_bytes()
    assert str(imported.digest) == _sha(contents["imported"])

    # Unfinished ingests: one with a total (to be resumed by Go), one without.
    partial = os.urandom(5 * 1024 * 1024 + 333)
    w = s.writer("py/partial:ref", total=len(partial))
    w.write(partial[: 2 * 1024 * 1024 + 11])
    w.close()
    w = s.writer("py-no-total")
    w.write(b"x" * 1000)
    w.close()
    return root, s, contents, partial


def test_containerd_reads_a_python_store(python_store, gopeer_bin):
    root, s, contents, partial = python_store
    py_blobs, py_ingests = _python_view(s)
    assert set(py_blobs) == {_sha(v) for v in contents.values()}
    assert set(py_ingests) == {"py/partial:ref", "py-no-total"}
    go_blobs, go_ingests = run_check(gopeer_bin, root)
    _assert_same_view(py_blobs, py_ingests, go_blobs, go_ingests)
    assert go_ingests["py/partial:ref"]["total"] == len(partial)
    assert go_ingests["py/partial:ref"]["offset"] == 2 * 1024 * 1024 + 11
    assert go_ingests["py-no-total"]["total"] == 0
    # Blob files and modes are what containerd itself produces (0444, no write bits).
    for dg in py_blobs:
        mode = (root / "blobs" / "sha256" / dg.split(":")[1]).stat().st_mode & 0o777
        assert mode & 0o222 == 0, f"{dg} is writable: {oct(mode)}"


def test_containerd_resumes_and_commits_a_python_ingest(python_store, gopeer_bin, tmp_path):
    root, s, contents, partial = python_store
    src = tmp_path / "partial.src"
    src.write_bytes(partial)
    started = s.status("py/partial:ref").started_at.ns

    r = gopeer.run(gopeer_bin, "resume", root, "py/partial:ref", src, _sha(partial))
    out = parse_kv(r.stdout)
    assert int(out["resumed_at"]) == 2 * 1024 * 1024 + 11   # Go re-hashed Python's data
    assert int(out["total"]) == len(partial)                 # and read Python's total file
    assert int(out["started_ns"]) == started                 # and its startedat, to the ns
    assert out["digest"] == _sha(partial)

    # Python sees the blob containerd committed, and the ingest is gone.
    from store import LocalStore, errors

    s2 = LocalStore(root)
    info = s2.info(_sha(partial))
    assert info.size == len(partial)
    with s2.reader_at(_sha(partial)) as ra:
        assert ra.read_at(len(partial), 0) == partial
    assert s2.verify(_sha(partial)) is True
    assert {st.ref for st in s2.list_statuses()} == {"py-no-total"}
    with pytest.raises(errors.NotFound):
        s2.status("py/partial:ref")
    # The labels Python stored are untouched by containerd's commit.
    assert s2.info(_sha(contents["small"])).labels == {"team": "blobscope", "a.b": "dots"}
    assert s2.info(_sha(contents["json"])).labels == {"kind": "manifest"}
    # And containerd agrees with Python about the whole store afterwards.
    _assert_same_view(*_python_view(s2), *run_check(gopeer_bin, root))


def test_python_resumes_a_containerd_ingest(tmp_path, gopeer_bin):
    """The other way round: Go leaves open ingests (Write + Close); Python resumes and commits one."""
    from store import LocalStore

    root = tmp_path / "gostore"
    # one committed blob first: containerd's Walk fails on a store without blobs/ (spec 2.12)
    gopeer.run(gopeer_bin, "populate", root, 1, 100)
    gopeer.run(gopeer_bin, "pending", root, 2, 4096)
    s = LocalStore(root)
    # Python looks first: gopeer check reads every blob, which can move atime (UpdatedAt).
    py_blobs, py_ingests = _python_view(s)
    go_blobs, go_ingests = run_check(gopeer_bin, root)
    assert len(go_blobs) == 1 and len(go_ingests) == 2
    _assert_same_view(py_blobs, py_ingests, go_blobs, go_ingests)

    ref = sorted(go_ingests)[0]
    existing = (root / "ingest" / hashlib.sha256(ref.encode()).hexdigest() / "data").read_bytes()
    tail = os.urandom(10_000)
    with s.writer(ref) as w:
        assert w.status().offset == 4096
        assert w.status().started_at.ns == go_ingests[ref]["started_ns"]
        w.write(tail)
        w.commit(4096 + len(tail), _sha(existing + tail))
    before = set(go_blobs)
    py_view = _python_view(s)
    go_blobs, go_ingests = run_check(gopeer_bin, root)
    assert set(go_blobs) == before | {_sha(existing + tail)}
    assert go_blobs[_sha(existing + tail)]["read_ok"] is True
    assert ref not in go_ingests and len(go_ingests) == 1
    _assert_same_view(*py_view, go_blobs, go_ingests)


@pytest.mark.parametrize("tz", ["Asia/Kolkata", "America/St_Johns"])
def test_go_timestamps_in_a_local_zone_read_to_the_nanosecond(tmp_path, gopeer_bin, tz):
    """containerd writes startedat/updatedat in its local zone (``+05:30``, ``-03:30``), not always ``Z``."""
    from store import LocalStore
    from store.timestamps import parse_rfc3339

    root = tmp_path / "tzstore"
    gopeer.run(gopeer_bin, "populate", root, 1, 10)  # containerd's Walk needs blobs/ to exist
    gopeer.run(gopeer_bin, "pending", root, 1, 10, env={"TZ": tz})
    (d,) = (root / "ingest").iterdir()
    text = (d / "startedat").read_text()
    assert not text.endswith("Z") and text[-6] in "+-", text
    (st,) = LocalStore(root).list_statuses()
    assert st.started_at.ns == parse_rfc3339(text)
    assert st.started_at.utcoffset().total_seconds() == 0  # handed out in UTC
    # Python rewrites updatedat on close; Go must parse what Python wrote, to the ns.
    s = LocalStore(root)
    with s.writer(st.ref) as w:
        w.write(b"more")
    go_ingests = run_check(gopeer_bin, root)[1]
    after = s.status(st.ref)
    assert go_ingests[st.ref]["started_ns"] == st.started_at.ns == after.started_at.ns
    assert go_ingests[st.ref]["updated_ns"] == after.updated_at.ns
    assert go_ingests[st.ref]["offset"] == 14
