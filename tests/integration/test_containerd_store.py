"""ContainerdStore against a real daemon: errors, leases and GC safety, namespaces, restarts, ctr interop."""

from __future__ import annotations

import hashlib
import itertools
import os
import time

import pytest

from store import Digest, errors
from store.api import ContentStore
from store.containerd import GC_ROOT, ContainerdStore
from tests.support.containerd import ContainerdDaemon

pytestmark = pytest.mark.integration

_names = itertools.count()


@pytest.fixture
def ns():
    return f"t{next(_names)}"


@pytest.fixture
def store(daemon, ns):
    s = ContainerdStore(daemon.address, ns)
    yield s
    s.close()


def _blob_file(daemon, digest: Digest):
    return daemon.content_root / "blobs" / digest.algorithm / digest.encoded


def _write(store, ref, data, **kw):
    with store.writer(ref, total=len(data)) as w:
        w.write(data)
        return w.commit(len(data), Digest.from_bytes(data), **kw)


def _wait_until(predicate, timeout=10.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def _ctr_ingest_and_label(daemon, ns, data, *labels):
    """``ctr content ingest`` then ``ctr content label``; the GC may collect the blob in between
    (ctr's own lease ends first, design.md §7), so try again when the label finds nothing."""
    d = Digest.from_bytes(data)
    for _ in range(5):
        daemon.ctr("content", "ingest", "--expected-size", str(len(data)), "--expected-digest", d,
                   "from-ctr", input=data, namespace=ns)
        r = daemon.ctr("content", "label", d, *labels, namespace=ns, check=False)
        if r.returncode == 0:
            return d
    raise AssertionError(f"ctr could not keep {d} long enough to label it: {r.stderr}")


# -- the protocol and errors -----------------------------------------------------------------


def test_satisfies_the_content_store_protocol(store):
    assert isinstance(store, ContentStore)
    assert store.read_only is False and store.read_only_reason is None


def test_errors_are_store_kinds_with_containerds_messages(store):
    missing = Digest.from_bytes(b"never written")
    with pytest.raises(errors.NotFound, match=f"content digest {missing}: not found$"):
        store.info(missing)
    with pytest.raises(errors.NotFound):
        store.reader_at(missing)
    with pytest.raises(errors.NotFound):  # like Blobscope's LocalStore, unlike containerd's local store
        store.delete(missing)
    with pytest.raises(errors.NotFound, match="reference nope"):
        store.abort("nope")
    with pytest.raises(errors.NotFound, match="reference nope"):
        store.status("nope")
    with pytest.raises(errors.InvalidArgument):
        store.info("sha256:../../etc/passwd")
    with pytest.raises(errors.InvalidArgument, match="ref must not be empty"):
        store.writer("")
    with pytest.raises(errors.InvalidArgument, match="filters: parse error"):
        list(store.walk("labels.a=="))
    with pytest.raises(errors.InvalidArgument, match="not a valid containerd identifier"):
        ContainerdStore(store.address, "bad/namespace")


def test_oversized_label_is_refused_and_changes_nothing(store):
    d = _write(store, "lbl", b"label me")
    before = store.info(d)
    with pytest.raises(errors.InvalidArgument, match="label key and value greater than maximum size"):
        store.update(before.__class__(d, 0, None, None, {"big": "x" * 5000}), "labels.big")
    assert store.info(d).labels == before.labels


def test_unreachable_daemon_is_unavailable_with_the_address(tmp_path):
    sock = tmp_path / "nothing.sock"
    s = ContainerdStore(str(sock))
    with pytest.raises(errors.Unavailable, match=f"cannot reach containerd at {sock}: "):
        s.info(Digest.from_bytes(b"x"))
    with pytest.raises(errors.Unavailable, match="cannot reach containerd"):
        list(s.walk())
    with pytest.raises(errors.Unavailable, match="cannot reach containerd"):
        s.writer("r")
    with pytest.raises(errors.Unavailable):
        s.list_namespaces()


def test_a_second_writer_on_a_ref_is_refused_as_locked_not_as_connection_loss(store):
    w = store.writer("busy")
    try:
        with pytest.raises(errors.Unavailable, match="locked") as exc:
            store.writer("busy")
        assert "cannot reach" not in str(exc.value)
    finally:
        w.abort()


# -- reading and writing ---------------------------------------------------------------------


def test_big_write_is_chunked_under_the_message_limit_and_ctr_reads_it(daemon, store, ns):
    data = os.urandom(40 << 20)  # one write() of 40 MiB; a single message over 16 MiB is refused
    with store.writer("big", total=len(data)) as w:
        assert w.write(data) == len(data)
        assert w.status().offset == len(data)
        d = w.commit(len(data), Digest.from_bytes(data))
    got = daemon.ctr("content", "get", d, namespace=ns, text=False).stdout
    assert hashlib.sha256(got).hexdigest() == d.encoded
    with store.reader_at(d) as r:
        assert r.size == len(data)
        assert r.read_at(100, (16 << 20) - 50) == data[(16 << 20) - 50:(16 << 20) + 50]
        assert r.read_at(10, len(data) - 4) == data[-4:]
        assert r.read_at(10, len(data)) == b""
        assert b"".join(r.chunks()) == data
    assert store.verify(d)


def test_close_keeps_the_ingest_and_a_new_writer_resumes_with_stat(store):
    data = os.urandom(3 << 20)
    w = store.writer("resume-me", total=len(data))
    w.write(data[:1_000_000])
    w.close()
    assert store.status("resume-me").offset == 1_000_000
    assert [s.ref for s in store.list_statuses()] == ["resume-me"]
    kept = store.list_leases()
    assert len(kept) == 1  # the closed write's lease keeps the ingest
    w = store.writer("resume-me", total=len(data))
    assert store.list_leases() == kept  # taken over, not a second one
    assert w.status().offset == 1_000_000
    w.write(data[1_000_000:])
    assert w.commit(len(data)) == Digest.from_bytes(data)
    assert store.list_statuses() == []
    assert store.list_leases() == []


def test_ctr_content_is_read_with_its_labels(daemon, store, ns):
    data = b"written by ctr\n"
    d = Digest.from_bytes(data)
    _ctr_ingest_and_label(daemon, ns, data, "org.example/owner=ctr", f"{GC_ROOT}=now")
    info = store.info(d)
    assert info.size == len(data)
    assert info.labels == {"org.example/owner": "ctr", GC_ROOT: "now"}
    assert [i.digest for i in store.walk('labels."org.example/owner"==ctr')] == [d]
    with store.reader_at(d) as r:
        assert r.read_at(100, 0) == data
    listed = daemon.content_ls(namespace=ns)
    assert listed[d]["labels"] == info.labels


def test_update_sets_and_deletes_single_labels(daemon, store, ns):
    d = _write(store, "upd", b"update me", labels={"a": "1", "b": "2"})
    info = store.info(d)
    out = store.update(info.__class__(d, 0, None, None, {"a": "", "c": "3"}), "labels.a", "labels.c")
    assert out.labels == {"b": "2", "c": "3", GC_ROOT: info.labels[GC_ROOT]}
    assert daemon.content_ls(namespace=ns)[d]["labels"] == out.labels
    with pytest.raises(errors.InvalidArgument, match='cannot update "size"'):
        store.update(info, "size")


def test_walk_matches_ctr_content_ls(daemon, store, ns):
    digests = {_write(store, f"w{i}", f"blob {i}".encode(), labels={"i": str(i)}) for i in range(25)}
    walked = {i.digest: i for i in store.walk()}
    assert set(walked) == digests == daemon.content_digests(namespace=ns)
    assert {i.digest for i in store.walk("labels.i==3", "labels.i==7")} == {
        d for d, i in walked.items() if i.labels["i"] in ("3", "7")}
    one = next(iter(digests))
    # containerd 1.6's List leaves UpdatedAt out; the client shows the creation time instead of year 1.
    assert walked[one].updated_at >= walked[one].created_at
    assert walked[one].created_at == store.info(one).created_at
    assert [b for batch in store.walk_batches() for b in batch]


def test_import_file_with_progress_labels_and_existing_blob(tmp_path, daemon, store, ns):
    src = tmp_path / "layer.bin"
    data = os.urandom(9 << 20)
    src.write_bytes(data)
    seen = []
    info = store.import_file(src, labels={"org.example/src": "layer.bin"}, progress=lambda d, t: seen.append((d, t)))
    assert info.digest == Digest.from_bytes(data) and info.size == len(data)
    assert info.labels["org.example/src"] == "layer.bin" and GC_ROOT in info.labels
    assert seen[0] == (0, len(data)) and seen[-1] == (len(data), len(data))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    again = store.import_file(src, labels={"second": "yes"})
    assert again.digest == info.digest
    assert again.labels["second"] == "yes" and again.labels["org.example/src"] == "layer.bin"
    assert store.list_statuses() == [] and store.list_leases() == []


# -- leases, gc.root and GC safety -----------------------------------------------------------


def test_writes_run_under_a_lease_that_ends_with_the_write(store):
    assert store.list_leases() == []
    w = store.writer("leased")
    leases = store.list_leases()
    assert len(leases) == 1
    w.write(b"under a lease")
    d = w.commit()
    assert store.list_leases() == []
    assert GC_ROOT in store.info(d).labels


def test_gc_safety_blobscope_content_survives_a_gc_pass(daemon, store, ns):
    """Content written by ContainerdStore survives a GC pass triggered by an unrelated delete;
    the control blob (no gc.root, lease ended) proves that the pass really ran."""
    ours = _write(store, "keep-me", b"blobscope wrote this")
    ours_user = _write(store, "keep-too", b"kept by gc.root in user labels",
                       labels={GC_ROOT: "user"})
    control = ContainerdStore(daemon.address, ns, gc_root=False)
    doomed = _write(control, "doomed", b"nobody protects this")
    unrelated = b"unrelated"
    ud = Digest.from_bytes(unrelated)
    daemon.ctr("content", "ingest", "--expected-digest", ud, "unrelated", input=unrelated, namespace=ns)
    daemon.ctr("content", "rm", ud, namespace=ns)  # any delete schedules a GC pass
    assert _wait_until(lambda: not _blob_file(daemon, doomed).exists())
    daemon.wait_for_gc()
    for d in (ours, ours_user):
        assert store.info(d).digest == d
        assert _blob_file(daemon, d).exists()
        with store.reader_at(d) as r:
            assert Digest.from_bytes(r.read_at(r.size, 0)) == d
    assert store.info(ours_user).labels == {GC_ROOT: "user"}  # the user's labels, nothing added
    with pytest.raises(errors.NotFound):
        store.info(doomed)


def test_an_open_write_is_protected_by_its_lease_during_gc(daemon, store, ns):
    w = store.writer("in-progress")
    w.write(b"half of it")
    w.close()  # the lease stays (it expires after 24 h) so the ingest can be resumed
    d = Digest.from_bytes(b"x-unrelated")
    daemon.ctr("content", "ingest", "--expected-digest", d, "x", input=b"x-unrelated", namespace=ns)
    daemon.ctr("content", "rm", d, namespace=ns)
    daemon.wait_for_gc()
    assert store.status("in-progress").offset == len(b"half of it")
    w = store.writer("in-progress")
    w.write(b" and the rest")
    d = w.commit()
    with store.reader_at(d) as r:
        assert r.read_at(100, 0) == b"half of it and the rest"


def test_failed_commit_is_aborted_and_its_lease_ended(store):
    w = store.writer("bad-digest")
    w.write(b"some bytes")
    with pytest.raises(errors.FailedPrecondition, match="unexpected commit digest"):
        w.commit(expected=Digest.from_bytes(b"other bytes"))
    assert store.list_statuses() == []
    assert store.list_leases() == []


def test_an_exception_inside_the_writer_block_aborts_the_write(store):
    with pytest.raises(RuntimeError):
        with store.writer("boom") as w:
            w.write(b"partial")
            raise RuntimeError("caller failed")
    assert store.list_statuses() == []
    assert store.list_leases() == []


def test_cancelled_import_leaves_nothing(tmp_path, store):
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(40 << 20))
    calls = []

    def cancel():
        calls.append(1)
        return len(calls) > 1  # after the first 16 MiB

    with pytest.raises(errors.Cancelled, match="cancelled"):
        store.import_file(src, cancel=cancel)
    assert store.list_statuses() == []
    assert store.list_leases() == []
    assert list(store.walk()) == []


def test_import_of_a_missing_or_special_file_is_a_clear_error(tmp_path, store):
    with pytest.raises(errors.InvalidArgument, match="cannot open"):
        store.import_file(tmp_path / "nope")
    with pytest.raises(errors.InvalidArgument, match="not a regular file"):
        store.import_file(tmp_path)
    assert store.list_statuses() == [] and store.list_leases() == []


# -- namespaces ------------------------------------------------------------------------------


def test_namespace_isolation_and_namespaces_with(daemon):
    a = ContainerdStore(daemon.address, "iso-a")
    b = a.with_namespace("iso-b")
    d = _write(a, "iso", b"only in a")
    assert {"iso-a"} <= set(a.list_namespaces())
    with pytest.raises(errors.NotFound):
        b.info(d)
    with pytest.raises(errors.NotFound):
        b.reader_at(d)
    assert d not in {i.digest for i in b.walk()}
    assert a.namespaces_with(d) == ["iso-a"]
    # Shared content policy: b's writer with a's digest starts at offset = size (containerd-store.md §6.4).
    with b.writer("link", total=9, expected=d) as w:
        assert w.status().offset == 9
        w.commit(9, d)
    assert b.namespaces_with(d) == ["iso-a", "iso-b"]
    a.delete(d)
    daemon.wait_for_gc()
    with pytest.raises(errors.NotFound):
        a.info(d)
    with b.reader_at(d) as r:  # the bytes stay while another namespace records them
        assert r.read_at(100, 0) == b"only in a"
    assert b.namespaces_with(d) == ["iso-b"]
    b.delete(d)
    daemon.ctr("namespaces", "label", "iso-b", "team=blobscope")
    assert b.namespace_labels() == {"team": "blobscope"} and a.namespace_labels("iso-a") == {}
    with pytest.raises(errors.NotFound):
        a.namespace_labels("no-such-namespace")
    a.close()


# -- connection loss -------------------------------------------------------------------------


def test_daemon_restart_in_the_middle_of_a_browse(tmp_path):
    daemon = ContainerdDaemon(tmp_path, name="restart")
    daemon.start()
    try:
        store = ContainerdStore(daemon.address, "browse")
        states = []
        stop_watching = store.watch_connection(states.append)
        digests = {_write(store, f"b{i}", f"browse {i}".encode()) for i in range(50)}
        assert _wait_until(lambda: states and states[-1] == "ready")
        pages = store.walk()
        first = [next(pages) for _ in range(10)]
        reader = store.reader_at(first[0].digest)
        daemon.stop()
        with pytest.raises(errors.Unavailable, match=f"cannot reach containerd at {daemon.address}"):
            list(store.walk())
        with pytest.raises(errors.Unavailable, match="cannot reach containerd"):
            store.info(first[0].digest)
        with pytest.raises(errors.Unavailable):
            reader.read_at(5, 0)
        assert _wait_until(lambda: states[-1] in ("transient_failure", "idle", "connecting"))
        lost_at = len(states)
        daemon.start()

        def answers():
            try:
                store.ping()
                return True
            except errors.Unavailable:
                return False

        started = time.monotonic()
        assert _wait_until(answers, timeout=15)
        recovered_in = time.monotonic() - started
        assert {i.digest for i in store.walk()} == digests  # same object, no reconnect() needed
        assert reader.read_at(6, 0) == b"browse"
        assert recovered_in < 5, recovered_in
        assert _wait_until(lambda: "ready" in states[lost_at:])  # a GUI watching is told it is back
        stop_watching()
        store.close()
    finally:
        daemon.close()


def test_a_failed_write_aborts_even_outside_a_with_block(daemon, store):
    w = store.writer("offset-clash")
    w.write(b"first")
    w._offset = 999  # the daemon refuses a WRITE at the wrong offset
    with pytest.raises(errors.Unknown, match="write @999 must occur at current offset 5"):
        w.write(b"second")
    assert store.list_statuses() == []
    assert store.list_leases() == []
    with pytest.raises(errors.FailedPrecondition, match="closed"):
        w.write(b"more")


def test_commit_with_an_oversized_label_changes_nothing(store):
    w = store.writer("bad-label")
    w.write(b"keep these bytes")
    with pytest.raises(errors.InvalidArgument, match="greater than maximum size"):
        w.commit(labels={"k": "v" * 4096})
    # Refused before anything was sent: the ingest is intact and the commit can be retried.
    assert store.status("bad-label").offset == len(b"keep these bytes")
    d = w.commit(labels={"k": "v"})
    assert store.info(d).labels["k"] == "v"
    assert store.list_statuses() == [] and store.list_leases() == []


def test_compare_a_daemon_namespace_with_a_local_store(tmp_path, store):
    from store import LocalStore
    from store.containerd.sources import compare

    local = LocalStore(tmp_path / "local")
    shared = [f"shared {i}".encode() for i in range(3)]
    for i, data in enumerate(shared):
        _write(store, f"s{i}", data)
        with local.writer(f"s{i}") as w:
            w.write(data)
            w.commit(len(data))
    only_daemon = _write(store, "od", b"only on the daemon")
    with local.writer("ol") as w:
        w.write(b"only here, longer")
        only_local = w.commit()
    c = compare(store, local)
    assert [i.digest for i in c.only_a] == [only_daemon]
    assert [i.digest for i in c.only_b] == [only_local]
    assert c.both == sorted(Digest.from_bytes(d) for d in shared)
    assert (c.only_a_bytes, c.only_b_bytes) == (len(b"only on the daemon"), len(b"only here, longer"))
    assert compare(store, local, f"digest=={only_daemon}").only_a[0].digest == only_daemon


def test_one_store_shared_by_worker_threads(tmp_path, store):
    """The GUI's pattern: a scanner thread walks while pool threads import and read, on one store."""
    from concurrent.futures import ThreadPoolExecutor

    files = []
    for i in range(12):
        p = tmp_path / f"f{i}.bin"
        p.write_bytes(os.urandom(200_000 + i))
        files.append(p)
    stop = []

    def scanner():
        scans = 0
        while not stop:
            list(store.walk())
            store.list_statuses()
            scans += 1
        return scans

    with ThreadPoolExecutor(5) as pool:
        scan = pool.submit(scanner)
        infos = list(pool.map(lambda p: store.import_file(p), files))
        checks = list(pool.map(lambda i: store.verify(i.digest), infos))
        stop.append(True)
        assert scan.result() >= 1
    assert all(checks)
    assert {i.digest for i in store.walk()} == {Digest.from_bytes(p.read_bytes()) for p in files}
    assert store.list_statuses() == [] and store.list_leases() == []


def test_a_file_that_shrinks_during_import_is_refused_and_nothing_kept(tmp_path, store):
    src = tmp_path / "moving.bin"
    src.write_bytes(os.urandom(40 << 20))

    def progress(done, total):
        if done >= 16 << 20:  # after the first 16 MiB, someone truncates the file
            with open(src, "r+b") as f:
                f.truncate(20 << 20)

    with pytest.raises(errors.FailedPrecondition, match="changed while it was imported"):
        store.import_file(src, progress=progress)
    assert store.list_statuses() == [] and store.list_leases() == [] and list(store.walk()) == []


def test_a_read_only_connection_browses_and_refuses_every_change(tmp_path, daemon, store, ns):
    d = _write(store, "ro", b"look, don't touch")
    ro = ContainerdStore(daemon.address, ns, read_only=True)
    assert ro.read_only and "read-only" in ro.read_only_reason
    assert [i.digest for i in ro.walk()] == [d] and ro.verify(d)
    src = tmp_path / "x.bin"
    src.write_bytes(b"x")
    for action in (lambda: ro.delete(d), lambda: ro.update(ro.info(d), "labels"), lambda: ro.writer("w"),
                   lambda: ro.abort("w"), lambda: ro.import_file(src), lambda: ro.create_lease(),
                   lambda: ro.with_namespace("other").delete(d)):
        with pytest.raises(errors.FailedPrecondition, match=f"containerd at {daemon.address} was opened read-only"):
            action()
    assert store.info(d).labels == ro.info(d).labels and store.list_leases() == []
    ro.close()
