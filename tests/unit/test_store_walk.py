"""walk, filters, and stray entries in blobs/ and ingest/ (containerd-store.md §2.9, §2.12; design.md §4)."""

from __future__ import annotations

import hashlib
import os

import pytest

from store import Digest, Info, errors
from store.timestamps import Timestamp, format_rfc3339


@pytest.fixture
def three(store, sh):
    a = sh.write_blob(store, "a", b"alpha", labels={"flag": "true", "a.b": "dotted"})
    b = sh.write_blob(store, "b", b"beta", labels={"containerd.io/gc.root": "now"})
    c = sh.write_blob(store, "c", b"gamma")
    return a, b, c


def digests(it):
    return [i.digest for i in it]


def test_walk_sorted_with_labels(store, three):
    infos = list(store.walk())
    assert digests(infos) == sorted(three)
    by = {i.digest: i for i in infos}
    assert by[three[0]].labels == {"flag": "true", "a.b": "dotted"}
    assert by[three[2]].labels == {}
    assert all(isinstance(i, Info) and i == store.info(i.digest) for i in infos)


def test_walk_labels_copy_is_the_callers(store, three):
    info = next(i for i in store.walk() if i.digest == three[0])
    info.labels["x"] = "y"
    assert "x" not in store.info(three[0]).labels


def test_walk_filters(store, three):
    a, b, c = three
    assert digests(store.walk("labels.flag")) == [a]
    assert digests(store.walk("labels.flag==true")) == [a]
    assert digests(store.walk('labels."containerd.io/gc.root"')) == [b]
    assert digests(store.walk("labels.a.b==dotted")) == [a]
    assert digests(store.walk(f"digest=={c}")) == [c]
    assert digests(store.walk(f"digest~=^{c[:12]}")) == [c]
    assert sorted(digests(store.walk("labels.flag", f"digest=={c}"))) == sorted([a, c])  # OR
    assert digests(store.walk(f"labels.flag,digest=={c}")) == []  # AND
    assert digests(store.walk("size==5")) == []  # size is never a field
    assert sorted(digests(store.walk("labels.x", ""))) == sorted(three)  # "" matches all


def test_walk_reads_labels_in_one_query(store, three):
    conn = store.labels._conn(create=False)
    statements = []
    conn.set_trace_callback(statements.append)
    try:
        assert len(list(store.walk())) == 3
    finally:
        conn.set_trace_callback(None)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1


def test_stray_entries_in_blobs(store, three, tmp_path):
    blobs = store.root / "blobs"
    (blobs / "README").write_text("first-level file")  # ignored
    (blobs / "zzz-file").write_text("sorts after sha256")  # ignored, and does not stop the walk
    (blobs / "md5").mkdir()
    (blobs / "md5" / "d41d8cd98f00b204e9800998ecf8427e").write_text("")  # unknown algorithm: skipped
    (blobs / "sha256" / "README").write_text("x")  # invalid name
    (blobs / "sha256" / ("A" * 64)).write_text("x")  # upper-case hex
    sub = blobs / "sha256" / ("0" * 64)
    sub.mkdir()  # a directory with a digest name
    (sub / "inner").write_text("x")
    target = tmp_path / "outside"
    target.write_bytes(b"secret")
    link = blobs / "sha256" / hashlib.sha256(b"secret").hexdigest()
    link.symlink_to(target)

    strays = []
    assert sorted(digests(store.walk(strays=strays))) == sorted(three)
    by_name = {s.name: s.reason for s in strays}
    assert set(by_name) == {"README", "A" * 64, "0" * 64, link.name}
    assert "symbolic link" in by_name[link.name] and "not a regular file" in by_name["0" * 64]
    assert {s.name for s in store.stray_blobs()} == set(by_name)
    assert store.usage()["blob_count"] == 3

    linked = Digest("sha256:" + link.name)
    with pytest.raises(errors.FailedPrecondition, match="symbolic link"):
        store.info(linked)
    with pytest.raises(errors.FailedPrecondition, match="symbolic link"):
        store.reader_at(linked)
    with pytest.raises(errors.FailedPrecondition, match="symbolic link"):
        store.update(Info(linked, 0, Timestamp.now(), Timestamp.now(), {"a": "b"}))
    store.delete(linked)  # removes the link, never what it points to
    assert not os.path.lexists(link) and target.read_bytes() == b"secret"
    store.delete(Digest("sha256:" + "0" * 64))
    assert not sub.exists()


def _containerd_ingest(store, ref, data=b"", total=None, started="2026-11-27T21:43:16.250576068Z"):
    d = store.ingest_root / hashlib.sha256(ref.encode()).hexdigest()
    d.mkdir()
    (d / "data").write_bytes(data)
    (d / "ref").write_bytes(ref.encode())
    (d / "startedat").write_text(started)
    (d / "updatedat").write_text(started)
    if total:
        (d / "total").write_text(str(total))
    return d


def test_list_statuses_reads_containerd_ingests(store):
    _containerd_ingest(store, "default/1/partial-ref", b"partial-data", 100)
    [st] = store.list_statuses()
    assert (st.ref, st.offset, st.total, st.expected) == ("default/1/partial-ref", 12, 100, None)
    assert format_rfc3339(st.started_at.ns) == "2026-11-27T21:43:16.250576068Z"
    assert store.list_statuses("ref~=partial") == [st]
    assert store.list_statuses("ref==other") == []
    assert store.status("default/1/partial-ref") == st


def test_broken_ingests_are_reported_not_fatal(store):
    good = store.writer("good")
    good.write(b"ok")
    good.close()
    (store.ingest_root / "empty-dir").mkdir()
    (store.ingest_root / "stray-file").write_text("x")
    nodata = store.ingest_root / "no-data"
    nodata.mkdir()
    (nodata / "ref").write_text("no-data")
    badstamp = _containerd_ingest(store, "bad-stamp", b"abc")
    (badstamp / "updatedat").write_text("")
    renamed = _containerd_ingest(store, "renamed")
    os.rename(renamed, store.ingest_root / "not-its-hash")

    assert [s.ref for s in store.list_statuses()] == ["good"]
    broken = {b.ref_hash: b for b in store.broken_ingests()}
    assert set(broken) == {"empty-dir", "stray-file", "no-data", badstamp.name, "not-its-hash"}
    assert "no such file or directory" in broken["empty-dir"].reason
    assert "not a directory" in broken["stray-file"].reason
    assert "could not parse timestamp" in broken[badstamp.name].reason
    assert "renamed" in broken["not-its-hash"].reason
    assert broken["stray-file"].path == store.ingest_root / "stray-file"
    assert store.usage()["ingest_count"] == 1

    for name in list(broken):
        store.remove_broken_ingest(name)
    assert store.broken_ingests() == [] and sorted(os.listdir(store.ingest_root)) == [store.ingest_dir("good").name]


def test_remove_broken_ingest_refuses_good_missing_and_tricks(store):
    store.writer("good").close()
    with pytest.raises(errors.FailedPrecondition, match="not broken"):
        store.remove_broken_ingest(store.ingest_dir("good").name)
    with pytest.raises(errors.NotFound):
        store.remove_broken_ingest("f" * 64)
    for bad in ("", "..", ".", "../ingest", "a/b"):
        with pytest.raises(errors.InvalidArgument):
            store.remove_broken_ingest(bad)
    assert store.status("good").offset == 0


def test_ingest_vanishing_mid_listing_is_skipped(store, monkeypatch):
    """A writer committing while we list: its directory disappears and is simply not listed."""
    store.writer("a").close()
    w = store.writer("b")
    w.write(b"x")
    import store.local as local

    real = local.read_status

    def read_then_commit(path):
        if path.name == store.ingest_dir("b").name and not w.closed:
            w.commit(1)
        return real(path)

    monkeypatch.setattr(local, "read_status", read_then_commit)
    assert [s.ref for s in store.list_statuses()] == ["a"]
    assert store.broken_ingests() == []


def test_blobs_or_ingest_not_a_directory_is_a_clear_error(tmp_path):
    from store import LocalStore

    root = tmp_path / "c"
    root.mkdir()
    (root / "blobs").write_text("not a dir")
    (root / "ingest").write_text("not a dir")
    s = LocalStore(root, writable=False)
    with pytest.raises(errors.ContentError, match=f"cannot list {root / 'blobs'}: Not a directory"):
        list(s.walk())
    with pytest.raises(errors.ContentError, match=f"cannot list {root / 'ingest'}: Not a directory"):
        s.list_statuses()


def test_blob_alg_dir_as_symlink_is_skipped(store, sh, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / hashlib.sha512(b"x").hexdigest()).write_bytes(b"x")
    (store.root / "blobs").mkdir(exist_ok=True)
    (store.root / "blobs" / "sha512").symlink_to(elsewhere)
    d = sh.write_blob(store, "a", b"abc")
    assert [i.digest for i in store.walk()] == [d]


def test_walk_infos_behave_as_info_records(tmp_path):
    """walk's lazily-timed records equal info(), pickle/copy/replace as Info, and stay frozen."""
    import copy
    import dataclasses
    import pickle

    from store import Info, LocalStore

    s = LocalStore(tmp_path / "s")
    with s.writer("r") as w:
        w.write(b"lazy times")
        w.commit(labels={"k": "v"})
    walked = next(iter(s.walk()))
    direct = s.info(walked.digest)
    assert walked == direct and direct == walked
    assert walked.created_ns == direct.created_at.ns and walked.updated_ns == direct.updated_at.ns
    assert walked.created_at.ns == direct.created_at.ns and walked.updated_at.ns == direct.updated_at.ns
    assert type(pickle.loads(pickle.dumps(walked))) is Info
    assert copy.copy(walked) == direct
    changed = dataclasses.replace(walked, labels={"x": "y"})
    assert changed.labels == {"x": "y"} and changed.created_ns == direct.created_at.ns
    assert dataclasses.asdict(walked)["labels"] == {"k": "v"}
    assert repr(walked).startswith("Info(digest=")
    with pytest.raises(dataclasses.FrozenInstanceError):
        walked.size = 1
    assert walked != dataclasses.replace(direct, size=direct.size + 1)


def test_scan_ingests_is_list_statuses_and_broken_ingests_in_one_pass(store):
    with store.writer("good") as w:
        w.write(b"x")
    (store.ingest_root / "stray").write_bytes(b"")
    good, broken = store.scan_ingests()
    assert good == store.list_statuses() and [s.ref for s in good] == ["good"]
    assert broken == store.broken_ingests() and [b.ref_hash for b in broken] == ["stray"]
    # filters apply to the good ingests only, as list_statuses(*filters); damaged entries stay listed
    assert store.scan_ingests("ref==other") == ([], broken)
    assert store.scan_ingests("ref==good") == (good, broken) == (store.list_statuses("ref==good"), broken)


def test_ingest_entry_reads_one_entry_as_scan_ingests_lists_it(store):
    """What the GUI reads when a watch names one entry of ingest/ (design.md §5.2)."""
    with store.writer("good") as w:
        w.write(b"xy")
    (store.ingest_root / "stray").write_bytes(b"")
    good, broken = store.scan_ingests()
    assert store.ingest_entry(store.ingest_dir("good").name) == good[0]
    assert store.ingest_entry("stray") == broken[0]
    assert store.ingest_entry("f" * 64) is None  # gone (committed, aborted) or never there
    for bad in ("", "..", ".", "../ingest", "a/b"):
        with pytest.raises(errors.InvalidArgument):
            store.ingest_entry(bad)

def test_sorted_names_is_lexical_order_in_groups(monkeypatch):
    """A big directory is sorted in groups (no single long sort holding the GIL): same order."""
    import random

    from store import local
    monkeypatch.setattr(local, "SORT_IN_ONE", 10)
    rng = random.Random(7)
    names = ["".join(rng.choice("0123456789abcdef") for _ in range(rng.choice((1, 2, 64)))) for _ in range(5000)]
    names += ["", "A", "zz", "é", "a", "ab", "ab"]
    assert local.sorted_names(list(names)) == sorted(names)
