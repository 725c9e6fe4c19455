"""``blobctl`` on a root written by the real containerd daemon: same answers as ``ctr``, and hands off.

The root belongs to a containerd installation (``meta.db`` next to it), so every command that
would change it must refuse with one sentence on stderr and leave the files as they were,
unless ``--force`` is given.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def blobctl(root: Path, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "store", "--root", str(root), *args], cwd=REPO,
                          input=input, capture_output=True, timeout=120)


def _files(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.lstat().st_size, p.lstat().st_mtime_ns)
            for p in root.rglob("*")}


@pytest.fixture
def stopped_root(containerd):
    blobs = {name: os.urandom(n) for name, n in (("one", 10), ("two", 200_000), ("three", 1 << 20))}
    for name, data in blobs.items():
        containerd.ctr("content", "ingest", "--expected-size", str(len(data)),
                       "--expected-digest", _sha(data), f"ref-{name}", input=data)
        containerd.ctr("content", "label", _sha(data), "containerd.io/gc.root=t", f"name={name}")
    r = containerd.ctr("content", "ingest", "--expected-size", "999999", "unfinished",
                       input=os.urandom(123_456), check=False)
    assert r.returncode != 0
    listed = containerd.content_ls()
    containerd.stop()
    return containerd.content_root, blobs, listed


def test_blobctl_reads_a_containerd_root_like_ctr(stopped_root):
    root, blobs, listed = stopped_root
    r = blobctl(root, "ls", "--json")
    assert r.returncode == 0, r.stderr
    rows = {row["digest"]: row for row in json.loads(r.stdout)}
    assert set(rows) == set(listed) == {_sha(d) for d in blobs.values()}
    for data in blobs.values():
        row = rows[_sha(data)]
        assert row["size"] == len(data)
        path = root / "blobs" / "sha256" / _sha(data).split(":")[1]
        assert row["created_at"].endswith("Z")
        from store.timestamps import parse_rfc3339
        assert parse_rfc3339(row["created_at"]) == path.stat().st_mtime_ns
    q = blobctl(root, "ls", "-q")
    assert q.stdout.decode().split() == sorted(rows)

    r = blobctl(root, "active", "--json")
    assert r.returncode == 0, r.stderr
    (active,) = json.loads(r.stdout)
    assert (active["ref"], active["offset"], active["total"]) == ("default/1/unfinished", 123_456, 999_999)

    for data in blobs.values():
        g = blobctl(root, "get", _sha(data))
        assert g.returncode == 0 and g.stdout == data

    v = blobctl(root, "verify", "--json")
    assert v.returncode == 0, v.stderr
    assert all(item["ok"] for item in json.loads(v.stdout)) and len(json.loads(v.stdout)) == 3

    du = json.loads(blobctl(root, "du", "--json").stdout)
    assert (du["blob_count"], du["blob_bytes"]) == (3, sum(map(len, blobs.values())))
    assert (du["ingest_count"], du["ingest_bytes"]) == (1, 123_456)


@pytest.mark.parametrize("args", [
    ("rm", "{digest}"),
    ("label", "{digest}", "k=v"),
    ("abort", "default/1/unfinished"),
    ("ingest", "new-ref"),
])
def test_blobctl_refuses_to_change_a_containerd_root(stopped_root, args):
    root, blobs, _ = stopped_root
    digest = _sha(blobs["one"])
    before = _files(root)
    r = blobctl(root, *(a.format(digest=digest) for a in args), input=b"some bytes")
    assert r.returncode == 1
    err = r.stderr.decode().strip()
    assert err.startswith("blobctl: ") and "\n" not in err and "Traceback" not in err
    assert "containerd" in err and "--force" in err
    assert _files(root) == before, "a refused command changed the containerd root"


def test_blobctl_force_changes_it_and_containerd_agrees(stopped_root, containerd):
    """With --force (daemon stopped) an rm really removes the file; the daemon then misses it."""
    root, blobs, _ = stopped_root
    digest = _sha(blobs["two"])
    r = blobctl(root, "--force", "rm", digest)
    assert r.returncode == 0, r.stderr
    assert not (root / "blobs" / "sha256" / digest.split(":")[1]).exists()
    containerd.start()
    # The metadata still lists it (spec 6.6): containerd cannot read it any more.
    assert digest in containerd.content_digests()
    g = containerd.ctr("content", "get", digest, check=False)
    assert g.returncode != 0 and "not found" in g.stderr
