"""A walk whose later names are stat'ed by a forked child (store/forked_stat.py) lists exactly what
a walk in one process lists: the same records, labels and times, the same strays in the same order
(links, FIFOs, directories, bad names on both sides of the split), blobs that vanish in between
left out, and every way the child can fail ending in this process doing the work itself."""

from __future__ import annotations

import hashlib
import os
import threading
import time

import pytest

from store import Digest, LocalStore, forked_stat
from store import local as local_mod

N = 300


@pytest.fixture
def odd_store(tmp_path) -> LocalStore:
    """``N`` blobs (every 17th labelled; atime and mtime differ, and from blob to blob) with odd
    entries spread over the whole sorted listing."""
    store = LocalStore(tmp_path / "s")
    d = tmp_path / "s" / "blobs" / "sha256"
    d.mkdir(parents=True)
    hexes = []
    for i in range(N):
        data = f"blob {i}".encode()
        hexes.append(hashlib.sha256(data).hexdigest())
        (d / hexes[-1]).write_bytes(data)
        os.utime(d / hexes[-1], ns=(1_700_000_000_000_000_000 + i, 1_600_000_000_000_000_000 + 7 * i))
        if i % 17 == 0:
            store.labels.set(Digest("sha256:" + hexes[-1]), {"containerd.io/gc.root": "x", "i": str(i)})
    for lead in "0389cf":  # first, middle and last of the sorted names: the parent's and the child's share
        odd = lead + "e" * 63
        os.symlink(hexes[1], d / (lead + "a" * 63))  # a link to a blob: never followed
        os.symlink("/nowhere", d / (lead + "b" * 63))  # a dangling one
        os.mkfifo(d / odd)
        os.mkdir(d / (lead + "d" * 63))
        (d / (lead.upper() + "A" * 63)).write_bytes(b"upper case")
        (d / (lead + "1" * 62)).write_bytes(b"too short")
        (d / (lead + "-not-a-digest")).write_bytes(b"x")
    _fill_sha512(store, tmp_path)
    return store


def _fill_sha512(store: LocalStore, tmp_path) -> None:
    d = tmp_path / "s" / "blobs" / "sha512"
    d.mkdir()
    for i in range(40):
        data = f"long {i}".encode()
        (d / hashlib.sha512(data).hexdigest()).write_bytes(data)
    (d / ("e" * 64)).write_bytes(b"a sha256-length name under sha512")


def _listing(store: LocalStore, *filters: str) -> tuple[list, list]:
    strays: list = []
    records = [(str(i.digest), i.size, i.created_ns, i.updated_ns, i.labels, i.created_at, i.updated_at)
               for i in store.walk(*filters, strays=strays)]
    return records, [(s.path, s.name, s.reason) for s in strays]


REAL_SINGLE_THREADED = forked_stat.single_threaded


@pytest.fixture
def children(monkeypatch) -> list:
    """Forking on from one name on; each child started is recorded, and what ``result`` gave.

    Forking is allowed although a test runner may have a thread of its own (pytest-xdist's
    execnet thread), which never touches what the child does (stat calls into a fresh mapping).
    """
    monkeypatch.setattr(forked_stat, "FORK_MIN", 1)
    monkeypatch.setattr(forked_stat, "single_threaded", lambda: True)
    started: list = []
    real_start, real_chunk = forked_stat.start, forked_stat.ForkedStat.chunk

    def start(dir_fd, names, hex_len, chunk):
        child = real_start(dir_fd, names, hex_len, chunk)
        started.append(["started" if child is not None else "not started", len(names)])
        return child

    def chunk(self, begin, end):
        cols = real_chunk(self, begin, end)
        outcome = "columns" if cols is not None else "none"
        if started[-1][-1] != outcome:  # the outcomes in order, each run of them once
            started[-1].append(outcome)
        return cols

    monkeypatch.setattr(forked_stat, "start", start)
    monkeypatch.setattr(forked_stat.ForkedStat, "chunk", chunk)
    return started


def _one_process(store: LocalStore, monkeypatch, *filters: str) -> tuple[list, list]:
    """The walk with no child at all (the reference), whatever ``children`` spies on."""
    with monkeypatch.context() as m:
        m.setattr(forked_stat, "start", lambda *a: None)
        return _listing(store, *filters)


@pytest.mark.parametrize("chunk", [1024, 16])  # 16: chunks of blobs only (made in one go) and mixed ones
def test_a_walk_split_with_a_child_lists_what_one_process_lists(odd_store, monkeypatch, children, chunk):
    monkeypatch.setattr(local_mod, "_WALK_CHUNK", chunk)
    want = _one_process(odd_store, monkeypatch)
    assert len(want[0]) == N + 40 and len(want[1]) == 6 * 7 + 1
    assert want[1] == sorted(want[1])  # strays in name order
    got = _listing(odd_store)
    # the later 60 % of the 342 sha256 names and of the 41 sha512 ones
    assert children == [["started", 205, "columns"], ["started", 24, "columns"]]
    assert got == want
    reasons = {r for _p, _n, r in got[1]}
    assert reasons == {"symbolic link (not followed)", "not a regular file", "name is not a valid digest"}
    both_sides = {name[0] for _p, name, r in got[1] if r == "symbolic link (not followed)"}
    assert both_sides == set("0389cf")


def test_filters_and_labels_come_out_the_same(odd_store, monkeypatch, children):
    monkeypatch.setattr(local_mod, "_WALK_CHUNK", 16)
    for filters in (("labels.i",), ("labels.i~=^1",), ('labels."containerd.io/gc.root"==x', "size==8")):
        want = _one_process(odd_store, monkeypatch, *filters)
        assert _listing(odd_store, *filters) == want and want[0]
    assert all(c[0] == "started" for c in children)


def test_the_labels_of_each_record_are_its_own(odd_store, children):
    infos = list(odd_store.walk("labels.i"))
    infos[-1].labels["mine"] = "1"
    assert all("mine" not in i.labels for i in odd_store.walk("labels.i"))
    assert children[-1][0] == "started"


def test_blobs_deleted_after_the_listing_are_left_out_on_both_sides(odd_store, monkeypatch, children):
    d = odd_store.blobs_root / "sha256"
    real_sorted = local_mod.sorted_names
    removed: list = []

    def sorted_then_delete(names):
        out = real_sorted(names)
        if not removed:
            blobs = [n for n in out if len(n) == 64 and not n.strip("0123456789abcdef")
                     and os.path.isfile(d / n) and not os.path.islink(d / n)]
            for name in (blobs[3], blobs[len(blobs) // 2 + 10], blobs[-2]):  # parent's and child's share
                os.unlink(d / name)
                removed.append("sha256:" + name)
        return out

    monkeypatch.setattr(local_mod, "sorted_names", sorted_then_delete)
    got = _listing(odd_store)
    assert len(removed) == 3 and not set(removed) & {r[0] for r in got[0]}
    assert len(got[0]) == N + 40 - 3
    assert got == _one_process(odd_store, monkeypatch)
    assert children[0][:1] == ["started"]


def test_a_stat_that_fails_in_the_child_is_made_again_here(odd_store, monkeypatch, children):
    """An error other than 'gone' (EACCES, EIO): the child marks it, this process stats the name
    itself, so the walk raises (or lists) exactly what a one-process walk does."""
    parent = os.getpid()
    names = sorted(os.listdir(odd_store.blobs_root / "sha256"))
    victim = names[-5]
    real_stat = os.stat

    def flaky_in_child(path, *a, **kw):
        if os.getpid() != parent and path == victim:
            raise PermissionError(13, "Permission denied")
        return real_stat(path, *a, **kw)

    monkeypatch.setattr(os, "stat", flaky_in_child)
    got = _listing(odd_store)
    monkeypatch.setattr(os, "stat", real_stat)
    assert children[0] == ["started", 205, "columns"]
    assert got == _one_process(odd_store, monkeypatch)
    assert ("sha256:" + victim) in {r[0] for r in got[0]}


def test_a_child_that_dies_leaves_its_names_to_this_process(odd_store, monkeypatch, children):
    parent = os.getpid()
    real = forked_stat.stat_columns

    def killed(dir_fd, names, hex_len):
        if os.getpid() != parent:
            os.kill(os.getpid(), 9)
        return real(dir_fd, names, hex_len)

    monkeypatch.setattr(forked_stat, "stat_columns", killed)
    got = _listing(odd_store)
    # this process stats what the dead child owed (on its own, or as chunks taken from the child's end)
    assert [c[:2] for c in children] == [["started", 205], ["started", 24]]
    assert got == _one_process(odd_store, monkeypatch)


def test_a_child_that_dies_half_way_leaves_the_rest_to_this_process(odd_store, monkeypatch, children):
    """Chunks of 16: the child's first chunks are taken as it wrote them, the rest stat'ed here."""
    monkeypatch.setattr(local_mod, "_WALK_CHUNK", 16)
    parent = os.getpid()
    real = forked_stat.stat_columns
    calls = [0]

    def dies_at_the_fourth(dir_fd, names, hex_len):
        calls[0] += 1
        if os.getpid() != parent and calls[0] == 4:
            os.kill(os.getpid(), 9)
        return real(dir_fd, names, hex_len)

    monkeypatch.setattr(forked_stat, "stat_columns", dies_at_the_fourth)
    got = _listing(odd_store)
    assert children[0][:3] == ["started", 205, "columns"]
    assert got == _one_process(odd_store, monkeypatch)


def test_a_child_that_fails_leaves_its_names_to_this_process(odd_store, monkeypatch, children):
    parent = os.getpid()

    real = forked_stat.stat_columns

    def broken(dir_fd, names, hex_len):
        if os.getpid() != parent:
            raise MemoryError
        return real(dir_fd, names, hex_len)  # this process taking chunks from the child's end

    monkeypatch.setattr(forked_stat, "stat_columns", broken)
    got = _listing(odd_store)
    assert [c[:2] for c in children] == [["started", 205], ["started", 24]]
    assert got == _one_process(odd_store, monkeypatch)


def _open_dir(store: LocalStore):
    d = store.blobs_root / "sha256"
    return os.open(d, os.O_RDONLY | os.O_DIRECTORY), sorted(os.listdir(d))


def test_a_dead_child_is_noticed_and_its_chunk_refused(odd_store, monkeypatch):
    fd, names = _open_dir(odd_store)
    parent = os.getpid()
    real = forked_stat.stat_columns
    monkeypatch.setattr(forked_stat, "stat_columns",
                        lambda *a: os.kill(os.getpid(), 9) if os.getpid() != parent else real(*a))
    try:
        child = forked_stat.ForkedStat(fd, names, 64, 16)
        pid = child.pid
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)  # dead, not yet reaped
        assert child.chunk(0, 16) is None
        assert child.pid is None  # reaped
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        child.close()
    finally:
        os.close(fd)


def test_a_child_without_a_core_has_its_chunks_taken_from_its_end(odd_store, monkeypatch, tmp_path):
    """The child never gets to stat (as on a machine with no core free): every chunk asked for is
    stat'ed here, the last ones first, the child told to stop below them; the columns are right."""
    fd, names = _open_dir(odd_store)
    parent = os.getpid()
    go = tmp_path / "go"
    real = forked_stat.stat_columns
    stolen: list = []
    real_steal = forked_stat.ForkedStat._steal

    def held(dir_fd, part, hex_len):
        while os.getpid() != parent and not go.exists():
            time.sleep(0.01)
        return real(dir_fd, part, hex_len)

    def steal(self, start):
        stolen.append(start)
        return real_steal(self, start)

    monkeypatch.setattr(forked_stat, "stat_columns", held)
    monkeypatch.setattr(forked_stat.ForkedStat, "_steal", steal)
    want = real(fd, names, 64)
    try:
        child = forked_stat.ForkedStat(fd, names, 64, 16)
        got = [child.chunk(start, start + 16) for start in range(0, len(names), 16)]
        assert all(c is not None for c in got)
        assert b"".join(c.kinds for c in got) == want.kinds
        for column in ("sizes", "mtimes", "atimes"):
            assert sum((getattr(c, column).tolist() for c in got), []) == getattr(want, column).tolist()
        last = (len(names) - 1) // 16 * 16
        assert stolen == list(range(last, 0, -16)) + [0]  # from the end, then the one asked for
        go.write_text("")
        child.close()
    finally:
        os.close(fd)


def test_no_child_while_another_thread_runs(odd_store, monkeypatch, children):
    monkeypatch.setattr(forked_stat, "single_threaded", REAL_SINGLE_THREADED)
    before = forked_stat.single_threaded()  # False already under pytest-xdist (its execnet thread)
    stop = threading.Event()
    t = threading.Thread(target=stop.wait, name="bystander")
    t.start()
    try:
        assert not forked_stat.single_threaded()
        got = _listing(odd_store)
    finally:
        stop.set()
        t.join()
    assert [c[0] for c in children] == ["not started", "not started"]
    assert got == _one_process(odd_store, monkeypatch)
    assert forked_stat.single_threaded() == before


def test_no_child_when_fork_fails(odd_store, monkeypatch, children):
    def no_fork():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    got = _listing(odd_store)
    assert [c[0] for c in children] == ["not started", "not started"]
    assert got == _one_process(odd_store, monkeypatch)


def test_an_abandoned_walk_ends_its_child(odd_store, children):
    it = odd_store.walk()
    next(it)
    assert children[0][0] == "started"
    child = it.gi_frame.f_locals["forked"]
    pid = child.pid
    it.close()
    assert child.pid is None
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped: no zombie left behind


def test_small_directories_are_not_split(odd_store, monkeypatch):
    monkeypatch.setattr(forked_stat, "FORK_MIN", 20_000)
    calls: list = []
    real = forked_stat.ForkedStat.__init__
    monkeypatch.setattr(forked_stat.ForkedStat, "__init__", lambda *a: calls.append(a) or real(*a))
    assert len(list(odd_store.walk())) == N + 40 and calls == []


def test_stat_columns_in_one_process(odd_store):
    d = odd_store.blobs_root / "sha256"
    names = sorted(os.listdir(d))
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    try:
        cols = forked_stat.stat_columns(fd, names + ["f" * 64], 64)
    finally:
        os.close(fd)
    kinds = dict(zip(names + ["f" * 64], cols.kinds))
    assert kinds["f" * 64] == forked_stat.GONE
    assert kinds["0" + "a" * 63] == forked_stat.LINK and kinds["0" + "e" * 63] == forked_stat.OTHER
    assert kinds["0" + "d" * 63] == forked_stat.OTHER and kinds["0-not-a-digest"] == forked_stat.BAD_NAME
    assert sum(k == forked_stat.REGULAR for k in cols.kinds) == N
    i = names.index(next(n for n in names if kinds[n] == forked_stat.REGULAR))
    st = os.lstat(d / names[i])
    assert (cols.sizes[i], cols.mtimes[i], cols.atimes[i]) == (st.st_size, st.st_mtime_ns, st.st_atime_ns)


def test_a_fresh_process_has_one_thread(tmp_path):
    import subprocess
    import sys
    code = "from store import forked_stat; print(forked_stat.single_threaded())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=os.path.dirname(os.path.dirname(forked_stat.__file__))).stdout
    assert out.strip() == "True"


# walk_batches (blobctl's and the GUI's listing, and the GUI's listing child: listing_child.rest_columns)


def _batch_rows(store: LocalStore, **kw) -> list[tuple]:
    rows = [(str(i.digest), i.size, i.created_ns, i.updated_ns, i.labels)
            for batch in store.walk_batches(**kw) for i in batch]
    return sorted(rows)


def _walk_rows(store: LocalStore) -> list[tuple]:
    return sorted((str(i.digest), i.size, i.created_ns, i.updated_ns, i.labels) for i in store.walk())


@pytest.mark.parametrize("size", [1024, 16])  # 16: the child's chunks past the split, blobs only and mixed
def test_walk_batches_split_with_a_child_lists_what_walk_lists(odd_store, monkeypatch, children, size):
    want = _walk_rows(odd_store)
    assert len(want) == N + 40
    got = _batch_rows(odd_store, first=10, size=size)
    # after the first 10 names, the later half of the rest on a batch boundary goes to the child
    assert children and all(c[0] == "started" for c in children)
    assert "columns" in children[0]
    assert got == want


def test_walk_batches_redoes_here_a_stat_that_failed_in_the_child(odd_store, monkeypatch, children):
    """Every stat in the child fails (EACCES): each of its names is stat'ed again here."""
    parent = os.getpid()
    real_stat = os.stat

    def flaky_in_child(path, *a, **kw):
        if os.getpid() != parent:
            raise PermissionError(13, "Permission denied")
        return real_stat(path, *a, **kw)

    monkeypatch.setattr(os, "stat", flaky_in_child)
    got = _batch_rows(odd_store, first=10, size=16)
    monkeypatch.setattr(os, "stat", real_stat)
    assert children[0][:3] == ["started", 169, "columns"]
    assert got == _walk_rows(odd_store)


def test_walk_batches_raises_what_the_stat_here_raises(odd_store, monkeypatch, children):
    """A name the child could not stat, and this process cannot either: the listing's error."""
    real_stat = os.stat
    last = max(n for n in os.listdir(odd_store.blobs_root / "sha256") if len(n) == 64 and not n.strip("0123456789abcdef"))

    def refused(path, *a, **kw):
        if path == last:
            raise PermissionError(13, "Permission denied")
        return real_stat(path, *a, **kw)

    monkeypatch.setattr(os, "stat", refused)
    with pytest.raises(PermissionError):
        _batch_rows(odd_store, first=10, size=16)


def test_walk_batches_whose_child_gives_nothing_stats_the_rest_here(odd_store, monkeypatch, children):
    monkeypatch.setattr(forked_stat.ForkedStat, "chunk", lambda self, a, b: None)
    assert _batch_rows(odd_store, first=10, size=16) == _walk_rows(odd_store)


def test_an_abandoned_walk_batches_ends_its_child(odd_store, monkeypatch, children):
    made: list = []
    real_init = forked_stat.ForkedStat.__init__

    def init(self, *a):
        real_init(self, *a)
        made.append((self, self.pid))

    monkeypatch.setattr(forked_stat.ForkedStat, "__init__", init)
    it = odd_store.walk_batches(first=10, size=16)
    next(it)
    next(it)
    assert len(made) == 1
    child, pid = made[0]
    it.close()
    assert child.pid is None
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
