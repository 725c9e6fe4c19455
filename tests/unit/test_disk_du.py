"""store.disk.du against GNU ``du -sx`` on the same small trees: hard links, symbolic links,
sparse files, a FIFO, deep nesting, and a tmpfs mounted inside (which ``-x`` must not enter)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from store.disk.du import DiskUsage, disk_usage, usage_of_many

DU = shutil.which("du") or "/usr/bin/du"


def gnu_du(*paths: Path, inodes: bool = False) -> list[int]:
    argv = [DU, "-sx", "--inodes"] if inodes else [DU, "-sxB1"]
    out = subprocess.run([*argv, *map(str, paths)], capture_output=True, text=True, check=True).stdout
    return [int(line.split("\t", 1)[0]) for line in out.splitlines()]


def make_tree(top: Path) -> Path:
    (top / "a" / "b" / "c").mkdir(parents=True)
    (top / "empty").mkdir()
    for i, size in enumerate((0, 1, 4095, 4096, 4097, 70000, 1 << 20)):
        (top / "a" / f"f{i}").write_bytes(os.urandom(size))
    (top / "a" / "b" / "c" / "deep").write_bytes(b"x" * 9000)
    os.link(top / "a" / "f6", top / "a" / "b" / "hard")  # one inode, two names
    os.link(top / "a" / "f6", top / "hard2")
    os.symlink("f5", top / "a" / "link")
    os.symlink("/", top / "rootlink")  # must not be followed
    os.symlink("a", top / "dirlink")
    os.symlink("nowhere", top / "dangling")
    with open(top / "sparse", "wb") as f:  # 64 MiB long, one block allocated
        f.truncate(64 << 20)
        f.seek(32 << 20)
        f.write(b"1")
    os.mkfifo(top / "fifo")
    deep = top / "deep"
    for _ in range(200):
        deep = deep / "d"
    deep.mkdir(parents=True)
    (deep / "bottom").write_bytes(b"bottom")
    return top


def test_bytes_and_inodes_match_gnu_du(tmp_path):
    top = make_tree(tmp_path / "t")
    usage = disk_usage(top)
    assert usage.bytes == gnu_du(top)[0]
    assert usage.inodes == gnu_du(top, inodes=True)[0]
    assert usage.errors == ()
    # the sparse file counts what it allocates, far below its length
    assert disk_usage(top / "sparse").bytes < 1 << 20


def test_a_hard_link_counts_once_per_run_across_calls(tmp_path):
    top = make_tree(tmp_path / "t")
    a, b, x = top / "a", top / "a" / "b", top / "x"
    x.mkdir()
    os.link(top / "a" / "f6", x / "hard3")
    (x / "small").write_bytes(b"small")
    run = DiskUsage()
    first, second = run.of(a).bytes, run.of(x).bytes
    assert [first, second] == gnu_du(a, x)  # du with several arguments counts a link once
    assert second < 1 << 20
    # a new run counts it again
    assert DiskUsage().of(b).bytes == gnu_du(b)[0] > 1 << 20


def test_special_tops_are_not_followed(tmp_path):
    top = make_tree(tmp_path / "t")
    for name in ("rootlink", "dirlink", "dangling", "fifo", "sparse", "empty"):
        assert disk_usage(top / name).bytes == gnu_du(top / name)[0], name
    missing = disk_usage(top / "no-such")
    assert missing.bytes == 0 and missing.errors and "No such file" in missing.errors[0]


def test_a_mounted_file_system_inside_is_skipped(tmp_path):
    top = make_tree(tmp_path / "t")
    mnt = top / "a" / "mnt"
    mnt.mkdir()
    before = disk_usage(top).bytes
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "blobscope-du-test", str(mnt)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {r.stderr.strip()}")
    try:
        (mnt / "big").write_bytes(os.urandom(2 << 20))
        (mnt / "sub").mkdir()
        usage = disk_usage(top)
        assert usage.bytes == gnu_du(top)[0]
        assert usage.inodes == gnu_du(top, inodes=True)[0]
        assert usage.bytes <= before  # the mount's 2 MiB would show if it were counted
        assert disk_usage(mnt).bytes == gnu_du(mnt)[0] >= 2 << 20  # from inside, it is its own file system
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


@pytest.mark.parametrize("engine", ["python", "du"])
def test_many_paths_in_one_run_match_gnu_du(tmp_path, engine):
    top = make_tree(tmp_path / "t")
    x = top / "x"
    x.mkdir()
    os.link(top / "a" / "f6", x / "hard3")  # counted under a/ only: a comes first
    names = ["a", "x", "rootlink", "fifo", "sparse", "deep", "empty"]
    paths = [top / n for n in names]
    got = usage_of_many([*paths, top / "missing"], engine=engine)
    assert [got[str(p)].bytes for p in paths] == gnu_du(*paths)
    assert got[str(top / "missing")].bytes == 0 and got[str(top / "missing")].errors
    assert all(not got[str(p)].errors for p in paths)
