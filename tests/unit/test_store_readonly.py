"""Read-only stores: containerd roots (meta.db next door), writable=False, unwritable directories."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from store import Digest, Info, LocalStore, errors
from store.timestamps import Timestamp

REPO = Path(__file__).resolve().parents[2]


def _tree(root):
    return sorted((str(p), os.lstat(p).st_mtime_ns, os.lstat(p).st_size) for p in Path(root).rglob("*"))


def _mutations(store, dgst, tmp_path):
    src = tmp_path / "file-to-import"
    src.write_bytes(b"import me")
    return {
        "writer": lambda: store.writer("r"),
        "delete": lambda: store.delete(dgst),
        "update": lambda: store.update(Info(dgst, 0, Timestamp.now(), Timestamp.now(), {"a": "b"})),
        "abort": lambda: store.abort("partial-ref"),
        "import_file": lambda: store.import_file(src),
        "remove_broken_ingest": lambda: store.remove_broken_ingest("x"),
    }


def _containerd_root(tmp_path, populated_store):
    """Move a populated store to <tmp>/var/lib/containerd/io.containerd.content.v1.content next to a meta.db."""
    base = tmp_path / "var-lib-containerd"
    (base / "io.containerd.metadata.v1.bolt").mkdir(parents=True)
    (base / "io.containerd.metadata.v1.bolt" / "meta.db").write_bytes(b"bolt")
    root = base / "io.containerd.content.v1.content"
    shutil.move(str(populated_store.root), root)
    return root


def test_containerd_root_opens_read_only(tmp_path, populated_store):
    root = _containerd_root(tmp_path, populated_store)
    s = LocalStore(root)
    assert s.read_only and "meta.db" in s.read_only_reason and "--force" in s.read_only_reason
    dgst = Digest.from_bytes(b"hello world\n")
    before = _tree(root)
    # reads work
    assert s.info(dgst).labels == {"index": "0"}
    assert len(list(s.walk())) == 3 and [st.ref for st in s.list_statuses()] == ["partial-ref"]
    with s.reader_at(dgst) as r:
        assert r.read_at(100, 0) == b"hello world\n"
    assert s.verify(dgst) and s.usage()["ingest_count"] == 1
    # every mutation is refused with the reason, and changes nothing
    for name, call in _mutations(s, dgst, tmp_path).items():
        with pytest.raises(errors.FailedPrecondition) as exc:
            call()
        assert s.read_only_reason in str(exc.value), name
    assert _tree(root) == before


def test_containerd_root_writable_when_forced(tmp_path, populated_store):
    root = _containerd_root(tmp_path, populated_store)
    s = LocalStore(root, writable=True)
    assert not s.read_only and s.read_only_reason is None
    s.abort("partial-ref")
    assert s.list_statuses() == []


def test_writable_false(tmp_path, populated_store):
    s = LocalStore(populated_store.root, writable=False)
    assert s.read_only and s.read_only_reason == "the store was opened read-only"
    with pytest.raises(errors.FailedPrecondition, match="^cannot write ingest 'r': the store was opened read-only"):
        s.writer("r")
    assert len(list(s.walk())) == 3


def test_read_only_store_creates_nothing(tmp_path):
    root = tmp_path / "does" / "not" / "exist"
    s = LocalStore(root, writable=False)
    assert not (tmp_path / "does").exists()
    assert list(s.walk()) == [] and s.list_statuses() == [] and s.broken_ingests() == []
    with pytest.raises(errors.NotFound):
        s.info(Digest.from_bytes(b"x"))
    assert not (tmp_path / "does").exists()


def test_read_only_store_without_labels_db(tmp_path):
    s = LocalStore(tmp_path / "c")
    w = s.writer("r")
    w.write(b"x")
    w.commit(1)
    ro = LocalStore(tmp_path / "c", writable=False)
    assert ro.info(Digest.from_bytes(b"x")).labels == {}
    assert not (tmp_path / "c" / "labels.db").exists()


def _run_as_nobody(code: str, where: Path) -> dict:
    """Run ``code`` as uid 65534 with copies of ``store`` and ``filelock`` under ``where``, so
    the test does not depend on the checkout or its venv being readable by that user."""
    import filelock

    lib = where / "lib"
    if not lib.exists():
        shutil.copytree(REPO / "store", lib / "store", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(Path(filelock.__file__).parent, lib / "filelock",
                        ignore=shutil.ignore_patterns("__pycache__"))
        for p in [lib, *lib.rglob("*")]:
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
    script = f"import sys, json\nsys.path.insert(0, {str(lib)!r})\n" + textwrap.dedent(code)
    python = getattr(sys, "_base_executable", sys.executable)  # the interpreter itself, not the venv
    if os.geteuid() == 0:
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", python, "-I", "-c", script]
    else:
        cmd = [python, "-I", "-c", script]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=where)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.fixture
def world_readable_dir():
    # pytest's tmp_path sits under a 0700 directory that another user cannot enter.
    d = Path(tempfile.mkdtemp(prefix="blobscope-ro-"))
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_unwritable_root_opens_read_only(world_readable_dir, populated_store):
    """A store the user may not write to (permissions) opens read-only and says so."""
    root = world_readable_dir / "content"
    shutil.copytree(populated_store.root, root, symlinks=True)
    for p in [root, *root.rglob("*")]:
        if p.is_dir():
            os.chmod(p, 0o555 if os.geteuid() != 0 else 0o755)
    before = _tree(root)
    result = _run_as_nobody(f"""
        from store import LocalStore, errors
        s = LocalStore({str(root)!r})
        out = {{"ro": s.read_only, "reason": s.read_only_reason, "n": len(list(s.walk()))}}
        try:
            s.writer("r")
        except errors.FailedPrecondition as e:
            out["err"] = str(e)
        print(json.dumps(out))
    """, world_readable_dir)
    assert result["ro"] and "permission" in result["reason"] and result["n"] == 3
    assert "cannot write ingest 'r'" in result["err"]
    assert _tree(root) == before


def test_read_only_mount(tmp_path, populated_store):
    """A store on a read-only bind mount (needs mount privileges; root in CI)."""
    mnt = tmp_path / "ro-mount"
    mnt.mkdir()
    if subprocess.run(["mount", "--bind", str(populated_store.root), str(mnt)], capture_output=True).returncode:
        pytest.skip("no privilege to bind-mount here")
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(mnt)], check=True, capture_output=True)
        populated_store.labels.close()  # a closed WAL database has no -shm left to open read-only
        import gc
        gc.collect()
        assert not (mnt / "labels.db-shm").exists()
        s = LocalStore(mnt)
        assert s.read_only and s.read_only_reason == f"{mnt} is on a read-only file system"
        assert len(list(s.walk())) == 3
        assert s.info(Digest.from_bytes(b"hello world\n")).labels == {"index": "0"}
        with pytest.raises(errors.FailedPrecondition):
            s.delete(Digest.from_bytes(b"hello world\n"))
        s.labels.close()  # an open SQLite handle would keep the mount busy
    finally:
        if subprocess.run(["umount", str(mnt)]).returncode:
            subprocess.run(["umount", "-l", str(mnt)], check=True)
