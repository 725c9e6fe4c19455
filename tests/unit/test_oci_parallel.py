"""Recognising a whole store at once: worker processes give what one process gives, every blob
is opened once, and the media-type cache forgets deleted blobs after a full listing.

The stores are real: many OCI images written in containerd's layout (tests/support/image_store.py)
plus blobs of every other kind, read through the real files by real forked or spawned processes.
"""

from __future__ import annotations

import collections
import io
import json
import os
import tarfile
import time
from pathlib import Path

import pytest

from store import Digest, LocalStore, errors, oci
from store import graph as G
from store import local as local_mod
from store import reader as reader_mod
from tests.support.image_store import populate


def _odd_blobs() -> list[bytes]:
    """One blob of each kind that is not an image part, and the corner cases of the sniff."""
    import zstandard

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        info = tarfile.TarInfo("f")
        info.size = 3
        t.addfile(info, io.BytesIO(b"abc"))
    plain_tar = buf.getvalue()
    return [
        b"", b"plain text\n", "ünïcödé text".encode(), os.urandom(3000), plain_tar,
        zstandard.ZstdCompressor().compress(plain_tar), zstandard.ZstdCompressor().compress(b"not a tar"),
        b"\x1f\x8b\x08\x00broken gzip", b'{"hello": "world"}', b"{}", b"{not json", b"\xef\xbb\xbf{}",
        json.dumps({"manifests": [{"digest": "sha256:nothex", "size": 1}]}).encode(),
        b"{" + b" " * 40000 + b"}",  # JSON bigger than the prefetched head: read on
    ]


@pytest.fixture(scope="module")
def mixed_root(tmp_path_factory) -> Path:
    """40 two-platform images, their shared layers, random blobs and one blob of every odd kind."""
    root = tmp_path_factory.mktemp("mixed")
    populate(root, 700, 40)
    blobs = root / "content" / "blobs" / "sha256"
    for data in _odd_blobs():
        (blobs / Digest.from_bytes(data).encoded).write_bytes(data)
    return root / "content"


def copy_store(src: Path, dst: Path) -> None:
    """Copy the shared store: first let go of every earlier test's store (a store collected
    mid-copy closes labels.db and SQLite removes its -shm file under copytree), and leave the
    -shm out (SQLite rebuilds it from the -wal)."""
    import gc
    import shutil
    gc.collect()
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("*-shm"))


@pytest.fixture
def mixed(mixed_root, monkeypatch) -> LocalStore:
    monkeypatch.setattr(oci, "PROCESS_MIN", 1)  # a small store still goes to the workers
    return LocalStore(mixed_root)


@pytest.fixture
def opens(tmp_path, monkeypatch):
    """Every blob file opened through the store's opener, from this process and forked workers.

    Each open appends the name to a file (one write with O_APPEND, so lines from several
    processes never mix); the real opener then opens the file as usual.
    """
    log = tmp_path / "opens.log"
    real = reader_mod.open_blob

    def counting_open(path, extra_flags=0, *, dir_fd=None):
        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, os.path.basename(os.fspath(path)).encode() + b"\n")
        finally:
            os.close(fd)
        return real(path, extra_flags, dir_fd=dir_fd)

    monkeypatch.setattr(local_mod, "open_blob", counting_open)
    monkeypatch.setattr(reader_mod, "open_blob", counting_open)

    def counts() -> collections.Counter:
        return collections.Counter(log.read_text().split()) if log.exists() else collections.Counter()
    return counts


def _classify(store, processes, tmp_path, name):
    cache = oci.MediaTypeCache(tmp_path / f"{name}.db")
    types = oci.classify(store, list(store.walk()), cache, processes=processes, jobs=2)
    return types, cache


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_worker_processes_recognise_what_one_process_does(mixed, tmp_path, method):
    serial, serial_cache = _classify(mixed, None, tmp_path, "serial")
    parallel, parallel_cache = _classify(mixed, method, tmp_path, method)
    kinds = collections.Counter(ct.kind for ct in serial.values())
    # the store really is mixed: images (and an index naming a bad digest), layers, every other kind
    assert kinds[oci.Kind.INDEX] == 41 and kinds[oci.Kind.MANIFEST] == 80 and kinds[oci.Kind.CONFIG] == 80
    assert {oci.Kind.LAYER, oci.Kind.JSON, oci.Kind.TEXT, oci.Kind.BINARY, oci.Kind.EMPTY} <= set(kinds)
    assert len(serial) == sum(1 for _ in mixed.walk())
    assert parallel == serial  # media types, kinds, descriptors, platforms and notes alike
    assert parallel_cache.get_many() == serial_cache.get_many() == serial
    g1, g2 = G.build_graph(list(mixed.walk()), serial), G.build_graph(list(mixed.walk()), parallel)
    assert g2.edge_count == g1.edge_count > 0 and g2.blob_types() == g1.blob_types()
    assert g2.reclaimable() == g1.reclaimable() and g2.space() == g1.space()
    assert [i.to_json() for i in g2.images()] == [i.to_json() for i in g1.images()]


@pytest.mark.parametrize("processes", [None, "fork"])
def test_a_cold_graph_opens_every_blob_once(mixed, tmp_path, opens, processes):
    cache = oci.MediaTypeCache(tmp_path / "cache.db")
    g = G.load_graph(mixed, cache, processes=processes)
    names = {d.encoded for d in g.sizes}
    assert opens() == collections.Counter(names)  # each blob once, nothing else, none twice
    G.load_graph(mixed, cache, processes=processes)
    assert opens() == collections.Counter(names)  # a warm cache opens nothing


def test_a_blob_that_vanished_or_is_not_a_file_is_left_out_by_the_workers(tmp_path, mixed_root, monkeypatch):
    monkeypatch.setattr(oci, "PROCESS_MIN", 1)
    root = tmp_path / "content"
    copy_store(mixed_root, root)
    s = LocalStore(root)
    infos = list(s.walk())
    gone, fifo = infos[3].digest, infos[7].digest
    s.delete(gone)
    path = s.blob_path(fifo)
    os.chmod(path, 0o644)
    path.unlink()
    os.mkfifo(path)  # a FIFO in place of a blob: read without hanging, and left out
    types = oci.classify(s, infos, None, processes="fork", jobs=2)
    assert gone not in types and fifo not in types
    assert len(types) == len(infos) - 2


def test_a_cancelled_parallel_classify_stops_and_keeps_what_was_saved(mixed, tmp_path):
    cache = oci.MediaTypeCache(tmp_path / "cache.db")
    with pytest.raises(errors.Cancelled):
        oci.classify(mixed, list(mixed.walk()), cache, processes="fork", jobs=2, cancel=lambda: True)
    assert len(cache) == 0


def test_partial_reports_cached_answers_first_then_each_batch(mixed, tmp_path):
    infos = list(mixed.walk())
    cache = oci.MediaTypeCache(tmp_path / "cache.db")
    oci.classify(mixed, infos[:100], cache)
    batches: list[dict] = []
    result = oci.classify(mixed, infos, cache, processes="fork", jobs=2, partial=batches.append)
    assert set(batches[0]) == {i.digest for i in infos[:100]}
    seen = [d for b in batches for d in b]
    assert len(seen) == len(set(seen)) == len(result) == len(infos)


def test_a_full_listing_prunes_the_cache_of_deleted_blobs(tmp_path, mixed_root):
    root = tmp_path / "content"
    copy_store(mixed_root, root)
    s = LocalStore(root)
    cache = oci.MediaTypeCache(tmp_path / "cache.db")
    before = G.load_graph(s, cache, prune=True)
    assert len(cache) == len(before.sizes)
    deleted = sorted(before.sizes)[::5]
    for d in deleted:
        s.delete(d)
    partial_listing = [i for i in s.walk()][:10]
    G.load_graph(s, cache, infos=partial_listing)  # not a full listing: nothing is forgotten
    assert len(cache) == len(before.sizes)
    after = G.load_graph(s, cache, prune=True)
    assert len(cache) == len(before.sizes) - len(deleted) == len(after.sizes)
    assert not set(cache.get_many(deleted))
    assert cache.get_many() == {d: before.types[d] for d in after.sizes}  # the rest is unchanged
    assert after.blob_types() == G.load_graph(s, oci.MediaTypeCache(None)).blob_types()


def test_prune_is_one_statement_whatever_the_number_of_stale_answers(tmp_path):
    statements: list[str] = []
    with oci.MediaTypeCache(tmp_path / "cache.db") as c:
        c.put_many([(f"sha256:{i:064x}", oci.sniff_bytes(b"x")) for i in range(3000)])
        c._db.set_trace_callback(statements.append)
        assert c.prune(f"sha256:{i:064x}" for i in range(0, 3000, 3)) == 2000
        assert len(c) == 1000
        assert sum(s.startswith("DELETE FROM media_types") for s in statements) == 1
        assert c.prune([]) == 1000 and len(c) == 0


def test_blobctl_forgets_deleted_blobs_in_its_cache(tmp_path, mixed_root, monkeypatch, capsys):
    from store import cli
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(oci, "PROCESS_MIN", 1)  # blobctl's forked workers recognise them
    root = tmp_path / "content"
    copy_store(mixed_root, root)
    s = LocalStore(root)
    assert cli.main(["--root", str(root), "du"]) == 0
    cache_path = oci.default_cache_path(s)
    with oci.MediaTypeCache(cache_path) as c:
        assert len(c) == sum(1 for _ in s.walk())
    victims = [i.digest for i in s.walk()][:7]
    for d in victims:
        s.delete(d)
    assert cli.main(["--root", str(root), "tree"]) == 0
    capsys.readouterr()
    with oci.MediaTypeCache(cache_path) as c:
        assert len(c) == sum(1 for _ in s.walk()) and not set(c.get_many(victims))


class DyingStore(LocalStore):
    """A store whose reading kills the worker process that meets ``victim`` (never the test's)."""

    victim = ""
    parent = 0

    def read_each(self, digests, fn):
        digests = list(digests)
        if os.getpid() != DyingStore.parent and DyingStore.victim in digests:
            os.kill(os.getpid(), 9)
        return super().read_each(digests, fn)


def test_a_worker_that_dies_leaves_its_blobs_to_this_process(mixed_root, tmp_path, monkeypatch, caplog):
    """A worker killed mid-way (out of memory, a signal): its chunk is recognised here instead."""
    monkeypatch.setattr(oci, "PROCESS_MIN", 1)
    s = DyingStore(mixed_root)
    serial, _ = _classify(LocalStore(mixed_root), None, tmp_path, "serial")
    monkeypatch.setattr(DyingStore, "victim", sorted(serial)[len(serial) // 2])
    monkeypatch.setattr(DyingStore, "parent", os.getpid())
    parallel = oci.classify(s, list(s.walk()), None, processes="fork", jobs=2)
    assert parallel == serial
    assert "a media-type worker failed" in caplog.text and "terminated abruptly" in caplog.text


class WitnessStore(LocalStore):
    """A store whose every ``read_each`` writes ``pid parent-pid niceness`` of the reading process
    to a file."""

    def read_each(self, digests, fn):
        fd = os.open(Path(self.root).parent / "readers.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, f"{os.getpid()} {os.getppid()} {os.nice(0)}\n".encode())
        finally:
            os.close(fd)
        return super().read_each(digests, fn)


def test_the_gui_workers_are_forked_by_a_warm_fork_server_that_imported_the_store(mixed_root, tmp_path,
                                                                                   monkeypatch):
    """What a Qt process uses (store/workers.py): the fork server, started once, with the sniff's
    modules imported before it forks the workers; their answers are one process's answers."""
    from multiprocessing import forkserver

    from store import workers
    monkeypatch.setattr(oci, "PROCESS_MIN", 1)
    root = mixed_root  # read only; the workers note themselves beside it (a copy races the labels' -shm)
    readers_log = root.parent / "readers.log"
    readers_log.unlink(missing_ok=True)
    assert workers.THREADED == "forkserver"
    assert workers.warm_up() and workers.warm_up()  # the second call finds it running
    server = forkserver._forkserver._forkserver_pid
    cmdline = ""
    deadline = time.monotonic() + 30
    while not cmdline and time.monotonic() < deadline:  # empty until the started server's exec is done
        cmdline = Path(f"/proc/{server}/cmdline").read_bytes().decode()
        time.sleep(0.01)
    assert "multiprocessing.forkserver import main" in cmdline
    assert all(repr(m) in cmdline for m in workers.PRELOAD)  # imported in the server, once
    serial, _ = _classify(LocalStore(root), None, tmp_path, "serial")
    parallel = oci.classify(WitnessStore(root), list(LocalStore(root).walk()), None,
                            processes=workers.THREADED, jobs=2)
    assert parallel == serial
    readers = {tuple(map(int, line.split()[:2])) for line in readers_log.read_text().splitlines()}
    readers_log.unlink()
    assert readers and all(pid != os.getpid() and parent == server for pid, parent in readers)
    assert forkserver._forkserver._forkserver_pid == server  # the same server, not a new one


@pytest.mark.parametrize("method", ["forkserver", "fork"])
def test_a_gui_s_workers_run_at_a_lower_priority_than_its_threads(mixed_root, monkeypatch, method):
    """A Qt process's workers (the fork server's) run BACKGROUND_NICE below it, so its GUI thread
    gets a core first on a busy machine; a command line's forked workers keep its priority."""
    from store import workers
    monkeypatch.setattr(oci, "PROCESS_MIN", 1)
    root = mixed_root
    readers_log = root.parent / "readers.log"
    readers_log.unlink(missing_ok=True)
    mine = os.nice(0)
    oci.classify(WitnessStore(root), list(LocalStore(root).walk()), None, processes=method, jobs=2)
    seen = [tuple(map(int, line.split())) for line in readers_log.read_text().splitlines()]
    readers_log.unlink()
    assert seen and all(pid != os.getpid() for pid, _parent, _nice in seen)
    want = min(19, mine + workers.BACKGROUND_NICE) if method == "forkserver" else mine
    assert {nice for _pid, _parent, nice in seen} == {want}
    assert os.nice(0) == mine  # this process (the GUI's) keeps its own


def test_workers_that_cannot_start_leave_the_work_to_this_process(mixed, tmp_path):
    serial, _ = _classify(mixed, None, tmp_path, "serial")
    with pytest.raises(ValueError):
        import multiprocessing
        multiprocessing.get_context("no-such-method")
    assert oci.classify(mixed, list(mixed.walk()), None, processes="no-such-method", jobs=2) == serial


def test_a_rescan_with_nothing_deleted_does_not_prune(tmp_path, mixed_root):
    s = LocalStore(mixed_root)
    cache = oci.MediaTypeCache(tmp_path / "cache.db")
    G.load_graph(s, cache, prune=True)
    calls: list = []
    real = cache.prune
    cache.prune = lambda keep: calls.append(1) or real(keep)  # type: ignore[method-assign]
    G.load_graph(s, cache, prune=True)
    assert calls == []  # as many answers as recognised blobs: nothing to forget, nothing read
    cache.put(Digest.from_bytes(b"long gone"), oci.sniff_bytes(b"long gone"))
    G.load_graph(s, cache, prune=True)
    assert calls == [1] and Digest.from_bytes(b"long gone") not in cache.get_many()
