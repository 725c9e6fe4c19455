"""store.disk.snapshotter on hand-made snapshotter roots: records a daemon would write, and the
hostile ones it never would (loops, missing parents, odd directories, damaged files).

The real daemon's files are read in tests/integration/test_disk_snapshots.py; here
tests/support/boltfile.py writes the bbolt files, so every case is exact and fast.
"""

from __future__ import annotations

import io
import json
import os
import struct
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from store import bolt
from store.cli.app import main
from store.disk import snapshotter as snaps
from tests.support import boltfile

OVL = "io.containerd.snapshotter.v1.overlayfs"


def make_root(tmp_path: Path, records: list[dict], dirs: list[str]) -> Path:
    root = tmp_path / "root"
    sn = root / OVL
    (sn / "snapshots").mkdir(parents=True)
    for d in dirs:
        (sn / "snapshots" / d / "fs").mkdir(parents=True)
    boltfile.snapshot_db(sn / "metadata.db", records)
    (root / "io.containerd.metadata.v1.bolt").mkdir()
    boltfile.write(root / "io.containerd.metadata.v1.bolt" / "meta.db", {b"v1": {}, b"version": b"\x06"})
    return root


def view(root: Path) -> snaps.SnapshotterView:
    return next(v for v in snaps.read_root(root) if v.name == "overlayfs")


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def test_records_kinds_labels_sizes_and_directories(tmp_path):
    root = make_root(tmp_path, [
        {"key": "default/1/sha256:aa", "id": 1, "kind": "committed", "size": 12288, "inodes": 3},
        {"key": "default/2/c1", "id": 2, "kind": "active", "parent": "default/1/sha256:aa",
         "labels": {"containerd.io/snapshot/x": "y"}},
        {"key": "default/3/v", "id": 3, "kind": "view", "parent": "default/1/sha256:aa"},
    ], ["1", "2", "3"])
    v = view(root)
    assert v.error is None and v.orphan_dirs == []
    a, c, w = v.records["default/1/sha256:aa"], v.records["default/2/c1"], v.records["default/3/v"]
    assert (a.kind, a.id, a.size, a.inodes, a.parent, a.flags) == ("committed", "1", 12288, 3, "", ())
    assert (c.kind, c.namespace, c.name, c.labels) == ("active", "default", "c1", {"containerd.io/snapshot/x": "y"})
    assert w.kind == "view" and w.directory == root / OVL / "snapshots" / "3"
    assert a.created is not None and a.created.timestamp() == 1_700_000_000
    assert [r.key for r in v.chain("default/2/c1")] == ["default/2/c1", "default/1/sha256:aa"]


def test_hostile_records_are_flagged_not_raised(tmp_path):
    loop = [{"key": f"ns/9/k{i}", "id": 100 + i, "kind": "committed", "parent": f"ns/9/k{(i + 1) % 500}"}
            for i in range(500)]
    root = make_root(tmp_path, [
        {"key": "ns/1/gone", "id": 1, "kind": "committed"},  # its directory is missing
        {"key": "ns/2/orphan-parent", "id": 2, "kind": "committed", "parent": "ns/1/nope"},
        {"key": "ns/3/child-of-that", "id": 3, "kind": "active", "parent": "ns/2/orphan-parent"},
        {"key": "ns/4/badkind", "id": 4, "kind": 77},
        {"key": "ns/5/dup-a", "id": 5, "kind": "committed"},
        {"key": "ns/6/dup-b", "id": 5, "kind": "committed"},
        {"key": "ns/7/symlinked", "id": 7, "kind": "committed"},
        {"key": "ns/8/fifo", "id": 8, "kind": "committed"},
        *loop,
    ], ["2", "3", "4", "5", "42"] + [str(100 + i) for i in range(500)])
    base = root / OVL / "snapshots"
    os.symlink("/etc", base / "7")
    os.mkfifo(base / "8")
    v = view(root)
    flags = {k: set(r.flags) for k, r in v.records.items()}
    assert flags["ns/1/gone"] == {snaps.MISSING_DIR}
    assert flags["ns/2/orphan-parent"] == {snaps.PARENT_MISSING}
    assert flags["ns/3/child-of-that"] == {snaps.PARENT_MISSING}
    assert flags["ns/4/badkind"] == {snaps.BAD_KIND} and v.records["ns/4/badkind"].kind == "unknown"
    assert flags["ns/5/dup-a"] == flags["ns/6/dup-b"] == {snaps.DUPLICATE_ID}
    assert flags["ns/7/symlinked"] == {snaps.DIR_SYMLINK}
    assert flags["ns/8/fifo"] == {snaps.DIR_NOT_DIRECTORY}
    assert all(flags[r["key"]] == {snaps.PARENT_LOOP} for r in loop)
    assert len(v.chain("ns/9/k0")) == 500  # stops where it comes back
    assert v.orphan_dirs == [base / "42"]

    code, out, err = run("--root", str(root), "snapshots", "ls", "--json")
    assert code == 0, err
    rows = json.loads(out)
    by_id = {r["id"]: r for r in rows}
    assert by_id["42"]["kind"] == "orphan" and by_id["42"]["flags"] == ["orphan-dir"]
    assert "parent-loop" in by_id["100"]["flags"] and by_id["1"]["state"] == "orphan"
    assert by_id["7"]["bytes"] == 0  # the symlink is not followed into /etc
    code, out, err = run("--root", str(root), "df", "--prometheus")
    assert code == 0, err
    assert 'blobscope_disk_bytes{root="%s",kind="snapshot",state="orphan"}' % root in out


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "fifo", "symlink", "cycle", "no-v1"])
def test_a_damaged_metadata_db_is_one_line_on_the_view(tmp_path, damage):
    root = make_root(tmp_path, [{"key": f"default/{i}/k{i}", "id": i, "kind": "committed"} for i in range(1, 400)],
                     ["1", "2"])
    db = root / OVL / "metadata.db"
    data = db.read_bytes()
    if damage == "truncated":
        db.write_bytes(data[: len(data) - 4096 - 100])
    elif damage == "garbage":
        db.write_bytes(os.urandom(len(data)))
    elif damage == "empty":
        db.write_bytes(b"")
    elif damage == "fifo":
        db.unlink()
        os.mkfifo(db)
    elif damage == "symlink":
        db.unlink()
        os.symlink("/dev/zero", db)
    elif damage == "cycle":
        # the root page becomes a branch page whose two children are itself
        page = bytearray(4096)
        struct.pack_into("<QHHI", page, 0, 3, boltfile.BRANCH, 2, 0)
        struct.pack_into("<IIQ", page, 16, 32, 1, 3)
        struct.pack_into("<IIQ", page, 32, 17, 1, 3)
        page[48:50] = b"ab"
        db.write_bytes(data[:3 * 4096] + bytes(page) + data[4 * 4096:])
    elif damage == "no-v1":
        boltfile.write(db, {b"other": {}})
    v = view(root)
    if damage == "no-v1":
        assert v.error is None and v.records == {}
    else:
        assert v.error and "\n" not in v.error and str(db) in v.error, v.error
        assert v.records == {}
        if damage == "cycle":
            assert "damaged file" in v.error
    assert [p.name for p in v.orphan_dirs] == ["1", "2"]  # no record names them (any more)
    code, out, err = run("--root", str(root), "snapshots", "ls")
    assert code == 0 and (damage == "no-v1" or "warning: cannot read" in err), err


def test_the_branch_cycle_is_a_bolt_error(tmp_path):
    db = boltfile.write(tmp_path / "x.db", {b"a": b"1"})
    data = bytearray(db.read_bytes())
    page = 3 * 4096
    data[page:page + 4096] = bytes(4096)
    struct.pack_into("<QHHI", data, page, 3, boltfile.BRANCH, 2, 0)
    struct.pack_into("<IIQ", data, page + 16, 32, 1, 3)
    struct.pack_into("<IIQ", data, page + 32, 17, 1, 3)
    db.write_bytes(bytes(data))
    with bolt.open_copy(db) as b, pytest.raises(bolt.BoltError, match="twice"):
        list(b.root.items())


def test_other_snapshotters_are_listed_not_understood(tmp_path):
    root = make_root(tmp_path, [], [])
    other = root / "io.containerd.snapshotter.v1.stargz"
    (other / "snapshots" / "1").mkdir(parents=True)
    (other / "snapshots" / "1" / "blob").write_bytes(os.urandom(50000))
    views = {v.name: v for v in snaps.read_root(root)}
    assert views["stargz"].understood is False and views["overlayfs"].understood is True
    code, out, err = run("--root", str(root), "df", "--json")
    assert code == 0, err
    doc = json.loads(out)
    stargz = next(s for s in doc["snapshots"]["snapshotters"] if s["name"] == "stargz")
    assert stargz["understood"] is False and stargz["bytes"] >= 50000
    code, out, err = run("--root", str(root), "snapshots", "ls")
    assert "snapshotter stargz: not understood" in out


def test_owner_of_a_path_outside_the_root_is_one_line(tmp_path):
    root = make_root(tmp_path, [], [])
    for path in ("/etc/passwd", str(root / ".." / "elsewhere"), str(root / "io.containerd.metadata.v1.bolt")):
        code, out, err = run("--root", str(root), "owner", path)
        assert code == 1 and out == "" and err.count("\n") == 1, (path, err)


@pytest.mark.parametrize("command", [["snapshots", "ls"], ["df"], ["owner", "x"]])
def test_a_damaged_meta_db_is_one_line_and_exit_1(tmp_path, command):
    root = make_root(tmp_path, [{"key": "default/1/a", "id": 1, "kind": "committed"}], ["1"])
    meta = root / "io.containerd.metadata.v1.bolt" / "meta.db"
    meta.write_bytes(os.urandom(3 * 4096))
    code, out, err = run("--root", str(root), *command)
    assert code == 1 and out == "" and err.count("\n") == 1 and "meta.db" in err, err
