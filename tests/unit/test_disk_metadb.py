"""store/disk/metadata.py and ``blobctl gc/why/leases`` on meta.db files written by bbolt (the Go
program of tests/support/gcoracle.py), including damaged fields and damaged files."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
from pathlib import Path

import pytest

from store import bolt
from store.cli import main
from store.disk import gc
from store.disk.metadata import load_root
from tests.support import gcoracle

D1, D2, D3 = (f"sha256:{c * 64}" for c in "123")


@pytest.fixture(scope="module")
def oracle() -> Path:
    try:
        return gcoracle.build()
    except RuntimeError as exc:
        pytest.fail(str(exc))


def make_root(oracle: Path, tmp_path: Path, model: list[dict]) -> Path:
    """A containerd root whose meta.db holds ``model`` (one namespace dict each)."""
    work = tmp_path / "gen"
    subprocess.run([str(oracle), "write", str(work)], input=json.dumps([model]).encode(), check=True,
                   capture_output=True, timeout=120)
    root = tmp_path / "root"
    (root / "io.containerd.metadata.v1.bolt").mkdir(parents=True)
    os.replace(work / "0" / "meta.db", root / "io.containerd.metadata.v1.bolt" / "meta.db")
    return root


def ns(name="default", **parts) -> dict:
    base = {"name": name, "images": [], "containers": [], "leases": [], "blobs": [], "ingests": [], "snapshots": []}
    base.update(parts)
    return base


GOOD = ns(
    images=[{"name": "x:1", "target": D1, "labels": {"containerd.io/gc.ref.content.extra": D2}}],
    containers=[{"id": "c1", "snapshotter": "overlayfs", "key": "c1", "labels": {}}],
    blobs=[{"digest": D1, "size": 10, "labels": {}}, {"digest": D2, "size": 20, "labels": {}},
           {"digest": D3, "size": 30, "labels": {}}],
    snapshots=[{"snapshotter": "overlayfs", "key": "base", "name": "default/1/base", "parent": "", "labels": {}},
               {"snapshotter": "overlayfs", "key": "c1", "name": "default/2/c1", "parent": "base", "labels": {}}],
    leases=[{"id": "l1", "labels": {"containerd.io/gc.expire": "2999-01-01T00:00:00Z"}, "content": [D3],
             "snapshots": [["overlayfs", "base"]], "ingests": ["i1"]}],
    ingests=[{"ref": "i1", "bref": "default/1/i1", "expireat": None, "expected": ""}],
)


def test_reads_every_record_kind(oracle, tmp_path):
    meta = load_root(make_root(oracle, tmp_path, [GOOD]))
    assert meta.schema_version == 3
    (d,) = meta.namespaces
    assert [(i.name, i.target_digest, i.target_size, dict(i.labels)) for i in d.images] == [
        ("x:1", D1, 1, {"containerd.io/gc.ref.content.extra": D2})]
    assert d.images[0].created_at is not None and d.images[0].created_at.ns == 1_700_000_000_000_000_123
    assert [(c.id, c.image, c.snapshotter, c.snapshot_key) for c in d.containers] == [("c1", "img", "overlayfs", "c1")]
    assert [(b.digest, b.size) for b in d.blobs] == [(D1, 10), (D2, 20), (D3, 30)]
    assert [(s.id, s.name, s.parent) for s in d.snapshots] == [
        ("overlayfs/base", "default/1/base", ""), ("overlayfs/c1", "default/2/c1", "base")]
    (lease,) = d.leases
    assert (lease.content, lease.snapshots, lease.ingests) == ((D3,), (("overlayfs", "base"),), ("i1",))
    assert lease.expire_ns is not None and not lease.flat
    (ing,) = d.ingests
    assert (ing.ref, ing.backend_ref, ing.expire_at, ing.expected, ing.offset) == ("i1", "default/1/i1", None, "", None)
    assert all(not r.problems for r in (*d.images, *d.containers, *d.blobs, *d.snapshots, *d.leases, *d.ingests))


def test_ingest_size_comes_from_its_data_file(oracle, tmp_path):
    import hashlib
    root = make_root(oracle, tmp_path, [GOOD])
    data = root / "io.containerd.content.v1.content" / "ingest" / hashlib.sha256(b"default/1/i1").hexdigest() / "data"
    data.parent.mkdir(parents=True)
    data.write_bytes(b"z" * 1234)
    run = gc.dry_run(load_root(root))
    assert run.verdict("ingest", "default", "i1").bytes == 1234


def test_damaged_fields_are_flagged_not_fatal(oracle, tmp_path):
    bad = ns(blobs=[{"digest": D1, "size": 5, "labels": {"containerd.io/gc.root": ""},
                     "raw": {"createdat": "09deadbeef", "size": "ffffffffffffffffffffff"}}],
             leases=[{"id": "torn", "labels": {"containerd.io/gc.expire": "2026-02-30T00:00:00Z"},
                      "content": [D1], "raw": {"createdat": "01"}}],
             ingests=[{"ref": "i", "bref": "default/1/i", "expireat": None, "expected": "", "raw": {"expireat": "00"}}])
    root = make_root(oracle, tmp_path, [bad])
    (d,) = load_root(root).namespaces
    (b,) = d.blobs
    assert b.size == 0 and b.created_at is None and len(b.problems) == 2
    assert {p.split(": ")[1].split(" (")[0] for p in b.problems} == {"createdat is unreadable", "size is unreadable"}
    (lease,) = d.leases
    assert lease.created_at is None and lease.expire_ns is None
    assert any("day out of range" in p and "never expires" in p for p in lease.problems)
    (ing,) = d.ingests
    assert ing.expire_at is None and any("stops with an error" in p for p in ing.problems)
    run = gc.dry_run(load_root(root))
    assert len(run.problems) == 6  # blob 2, lease 2, ingest 2
    assert run.verdict("blob", "default", D1).collect is False
    # containerd itself fails the whole pass on that ingest, as the flag says
    gen = tmp_path / "gen2"
    subprocess.run([str(oracle), "write", str(gen)], input=json.dumps([[bad]]).encode(), check=True,
                   capture_output=True, timeout=60)
    r = subprocess.run([str(oracle), "gc", str(gen), "1"], capture_output=True, timeout=60)
    assert r.returncode != 0 and b"expireat" not in r.stdout


def test_a_truncated_or_foreign_file_is_one_clear_error(oracle, tmp_path, capsys):
    root = make_root(oracle, tmp_path, [GOOD])
    db = root / "io.containerd.metadata.v1.bolt" / "meta.db"
    data = db.read_bytes()
    db.write_bytes(data[: 3 * 4096 + 100])
    with pytest.raises(bolt.BoltError, match="truncated"):
        load_root(root)
    assert main(["--root", str(root), "gc", "--dry-run", "--json"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "truncated" in err
    # Cut where only the newest transaction's pages are lost: the previous (empty) state is what is left.
    db.write_bytes(data[: len(data) // 2])
    assert main(["--root", str(root), "leases", "ls"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "no v1 bucket" in err
    db.write_bytes(b"not a database at all" * 100)
    assert main(["--root", str(root), "gc", "--dry-run"]) == 1
    _, err = capsys.readouterr()
    assert err.count("\n") == 1 and "not a bolt database" in err


def test_cli_refusals(oracle, tmp_path, capsys):
    root = make_root(oracle, tmp_path, [GOOD])
    assert main(["--root", str(root), "gc"]) == 1
    _, err = capsys.readouterr()
    assert "give --dry-run" in err
    plain = tmp_path / "plain"
    plain.mkdir()
    assert main(["--root", str(plain), "gc", "--dry-run"]) == 1
    _, err = capsys.readouterr()
    assert "is not a containerd root" in err
    assert main(["-a", "/nonexistent.sock", "leases", "ls"]) == 1  # through a daemon: one that is not there
    _, err = capsys.readouterr()
    assert "cannot reach containerd at /nonexistent.sock" in err and "Traceback" not in err
    assert main(["--root", str(root), "gc"]) == 1  # collecting needs a daemon
    _, err = capsys.readouterr()
    assert "--dry-run" in err and "nothing is deleted" in err
    # A root whose meta.db is locked (a running daemon) is refused before anything is copied.
    db = root / "io.containerd.metadata.v1.bolt" / "meta.db"
    before = db.read_bytes()
    fd = os.open(db, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        assert main(["--root", str(root), "gc", "--dry-run"]) == 1
        _, err = capsys.readouterr()
        assert "running" in err and err.count("\n") == 1
    finally:
        os.close(fd)
    assert db.read_bytes() == before


def test_cli_outputs(oracle, tmp_path, capsys, monkeypatch):
    root = make_root(oracle, tmp_path, [GOOD, ns("other", blobs=[{"digest": D1, "size": 10, "labels": {}}])])
    monkeypatch.setenv("CONTAINERD_NAMESPACE", "other")  # does not narrow: the GC spans all namespaces
    assert main(["--root", str(root), "gc", "--dry-run", "--json"]) == 0
    assert {r["namespace"] for r in json.loads(capsys.readouterr()[0])} == {"default", "other"}
    assert main(["--root", str(root), "gc", "--dry-run"]) == 0
    out, _ = capsys.readouterr()
    assert "reclaimable on disk by the next pass: " in out
    # D1 goes from "other" but stays in default: nothing is freed on disk.
    assert "(0 bytes;" in out
    assert main(["--root", str(root), "-n", "other", "gc", "--dry-run", "--json"]) == 0
    rows = json.loads(capsys.readouterr()[0])
    assert rows == [{"kind": "blob", "namespace": "other", "id": D1, "collect": True, "bytes": 10, "why": []}]
    assert main(["--root", str(root), "why", D2]) == 0
    out, _ = capsys.readouterr()
    assert out.splitlines() == [
        f"blob {D2} (namespace default, 20 Bytes): alive",
        "  1. image x:1",
        f"  2. content {D2} via label containerd.io/gc.ref.content.extra",
        "     to release: remove image x:1 (not Blobscope's): ctr -n default images rm x:1",
    ]
    assert main(["--root", str(root), "why", "overlayfs/base"]) == 0
    out, _ = capsys.readouterr()
    assert out.splitlines() == [
        "snapshot overlayfs/base (namespace default, 0 Bytes): alive",
        "  1. lease l1 (expires 2999-01-01T00:00:00Z)",
        "  2. snapshot overlayfs/base (held by the lease)",
        "     to release: remove lease l1: blobctl -a SOCKET -n default leases rm l1",
        "  also kept by 1 other root; all of them must go before it is collected:",
        "  - container c1",
        "      2. snapshot overlayfs/c1 (the container's snapshotKey)",
        "      3. snapshot overlayfs/base (parent)",
        "       to release: remove container c1 (not Blobscope's): ctr -n default containers rm c1",
    ]
    assert main(["--root", str(root), "why", "--json", "overlayfs/base"]) == 0
    (row,) = json.loads(capsys.readouterr()[0])
    assert [c[0] for c in row["chains"]] == ["lease l1 (expires 2999-01-01T00:00:00Z)", "container c1"]
    assert main(["--root", str(root), "why", D1]) == 0
    out, _ = capsys.readouterr()
    assert "namespace other, 10 Bytes): collectable by the next GC pass" in out
    assert main(["--root", str(root), "why", "l1", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr()[0])
    assert row["kind"] == "lease" and row["why"] == ["lease l1 (expires 2999-01-01T00:00:00Z)"]
    assert main(["--root", str(root), "leases", "ls"]) == 0
    out, _ = capsys.readouterr()
    head, line = out.splitlines()
    assert head.split()[:4] == ["NAMESPACE", "ID", "CREATED", "EXPIRES"]
    assert line.split()[:6] == ["default", "l1", "2023-11-14T22:13:20.000000123Z", "2999-01-01T00:00:00Z", "no", "no"]
    assert line.split()[-2:] == ["30", "Bytes"]  # D3 is kept by l1 alone; "base" also by the container


def test_random_damage_is_a_clear_error_or_flagged_never_a_crash(oracle, tmp_path):
    """Bytes flipped anywhere in a real meta.db: the reader either reads (flagging what it cannot
    decode) or raises one BoltError; no other exception, no hang (the test has a timeout)."""
    import random

    from store import errors
    big = ns(blobs=[{"digest": f"sha256:{i:064x}", "size": i, "labels": {f"k{j}": "v" * j for j in range(i % 5)}}
                    for i in range(300)],
             leases=[{"id": f"l{i}", "labels": {}, "content": [D1], "snapshots": [["overlayfs", "k"]], "ingests": []}
                     for i in range(20)],
             snapshots=[{"snapshotter": "overlayfs", "key": f"s{i}", "name": f"n{i}", "parent": f"s{i - 1}" if i else "",
                         "labels": {}} for i in range(50)])
    root = make_root(oracle, tmp_path, [big])
    db = root / "io.containerd.metadata.v1.bolt" / "meta.db"
    pristine = db.read_bytes()
    rng = random.Random(7)
    outcomes = {"read": 0, "error": 0}
    for _ in range(100):
        data = bytearray(pristine)
        for _ in range(rng.randint(1, 8)):
            at = rng.randrange(2 * 4096, len(data))  # the metas are checksummed; damage the tree
            data[at] = rng.randrange(256)
        db.write_bytes(bytes(data))
        try:
            meta = load_root(root)
            gc.dry_run(meta)
            outcomes["read"] += 1
        except errors.ContentError:
            outcomes["error"] += 1
    assert outcomes["read"] and outcomes["error"]


def test_cli_at_judges_as_of_another_time(oracle, tmp_path, capsys):
    root = make_root(oracle, tmp_path, [GOOD])
    assert main(["--root", str(root), "gc", "--dry-run", "--json", "--at", "24h"]) == 0
    rows = {(r["kind"], r["id"]): r for r in json.loads(capsys.readouterr()[0])}
    assert rows[("lease", "l1")]["collect"] is False  # expires in 2999
    assert main(["--root", str(root), "gc", "--dry-run", "--json", "--at", "3000-01-01T00:00:00Z"]) == 0
    rows = {(r["kind"], r["id"]): r for r in json.loads(capsys.readouterr()[0])}
    assert rows[("lease", "l1")]["collect"] is True and rows[("blob", D3)]["collect"] is True
    assert rows[("blob", D1)]["collect"] is False  # the image does not expire
    assert main(["--root", str(root), "leases", "ls", "--json", "--at", "3000-01-01T00:00:00Z"]) == 0
    (lease,) = json.loads(capsys.readouterr()[0])
    assert lease["expired"] is True
    assert main(["--root", str(root), "why", D3, "--at", "3000-01-01T00:00:00Z"]) == 0
    assert "collectable by the next GC pass" in capsys.readouterr()[0]
    assert main(["--root", str(root), "gc", "--dry-run", "--at", "next week"]) == 2
    assert "--at 'next week'" in capsys.readouterr()[1]
