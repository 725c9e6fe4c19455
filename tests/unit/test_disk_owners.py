"""store.disk.owners and df on a hand-made containerd root where every owner kind appears once:
an image (by chain ID), a container, a lease, a gc.root label, nothing at all, and a snapshot
only the snapshotter knows.  (A real daemon's root: tests/integration/test_disk_snapshots.py.)"""

from __future__ import annotations

import hashlib
import io
import json
import os
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from store import errors
from store.cli.app import main
from store.disk.owners import Ownership, chain_ids
from tests.support import boltfile

OVL = "io.containerd.snapshotter.v1.overlayfs"
CONTENT = "io.containerd.content.v1.content"


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def root(tmp_path) -> Path:
    root = tmp_path / "root"
    blobs = root / CONTENT / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    layers = [os.urandom(3000), os.urandom(5000)]
    diff_ids = [digest(x) for x in layers]
    config = json.dumps({"rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    manifest = json.dumps({"schemaVersion": 2, "config": {"digest": digest(config), "size": len(config)},
                           "layers": [{"digest": digest(x), "size": len(x)} for x in layers]}).encode()
    # the same image under a name no record keeps any more: only its manifest's annotation tells it
    gone = json.dumps({**json.loads(manifest), "annotations": {
        "org.opencontainers.image.ref.name": "example.org/gone:2"}}).encode()
    for data in [*layers, config, manifest, gone]:
        (blobs / digest(data).split(":")[1]).write_bytes(data)
    c0, c1 = chain_ids(diff_ids)

    backend = [  # (key in namespace default, id, kind, parent key)
        (c0, 1, "committed", ""), (c1, 2, "committed", c0), ("c1", 3, "active", c1),
        ("leased", 4, "active", c0), ("loose", 5, "committed", ""), ("ghost", 6, "committed", ""),
        ("rooted", 7, "committed", ""),
    ]
    bkey = {k: f"default/{i}/{k}" for k, i, _kind, _p in backend}
    (root / OVL).mkdir()
    boltfile.snapshot_db(root / OVL / "metadata.db", [
        {"key": bkey[k], "id": i, "kind": kind, "parent": bkey[p] if p else ""} for k, i, kind, p in backend])
    for _k, i, _kind, _p in backend:
        (root / OVL / "snapshots" / str(i) / "fs").mkdir(parents=True)
        (root / OVL / "snapshots" / str(i) / "fs" / "file").write_bytes(os.urandom(1000 * i))
    meta_snaps = {}
    for k, _i, _kind, p in backend:
        if k == "ghost":
            continue  # only the snapshotter has it
        rec = {b"name": bkey[k].encode()}
        if p:
            rec[b"parent"] = p.encode()
        if k == "rooted":
            rec[b"labels"] = {b"containerd.io/gc.root": b"2026-01-01T00:00:00Z"}
        meta_snaps[k.encode()] = rec
    blob_recs = {digest(d).encode(): {b"size": boltfile.varint(len(d))} for d in [*layers, config, manifest, gone]}
    blob_recs[digest(gone).encode()][b"labels"] = {b"containerd.io/gc.ref.content.config": digest(config).encode(),
                                                  b"containerd.io/gc.root": b"x"}
    blob_recs[digest(config).encode()][b"labels"] = {b"containerd.io/gc.ref.snapshot.overlayfs": c1.encode()}
    blob_recs[digest(manifest).encode()][b"labels"] = {
        b"containerd.io/gc.ref.content.config": digest(config).encode(),
        b"containerd.io/gc.ref.content.l.0": digest(layers[0]).encode(),
        b"containerd.io/gc.ref.content.l.1": digest(layers[1]).encode()}
    ingest = root / CONTENT / "ingest" / hashlib.sha256(b"default/1/myref").hexdigest()
    ingest.mkdir(parents=True)
    (ingest / "data").write_bytes(b"half a blob")
    (ingest / "ref").write_text("default/1/myref")
    (root / "io.containerd.metadata.v1.bolt").mkdir()
    boltfile.write(root / "io.containerd.metadata.v1.bolt" / "meta.db", {b"version": b"\x06", b"v1": {b"default": {
        b"snapshots": {b"overlayfs": meta_snaps},
        b"images": {b"example.org/app:1": {b"target": {
            b"digest": digest(manifest).encode(), b"size": boltfile.varint(len(manifest)),
            b"mediatype": b"application/vnd.oci.image.manifest.v1+json"}}},
        b"containers": {b"c1": {b"snapshotter": b"overlayfs", b"snapshotKey": b"c1", b"image": b"example.org/app:1"}},
        b"leases": {b"L": {b"snapshots": {b"overlayfs": {b"leased": b""}}, b"ingests": {b"myref": b""}}},
        b"content": {b"blob": blob_recs, b"ingests": {b"myref": {b"ref": b"default/1/myref"}}},
    }}})
    root.joinpath("ids.json").write_text(json.dumps({"c0": c0, "c1": c1, "layers": [digest(x) for x in layers],
                                                     "diff_ids": diff_ids}))
    return root


def test_each_owner_kind_and_state(root):
    ids = json.loads((root / "ids.json").read_text())
    own = Ownership(root)
    assert own.problems == []
    rows = {r.key: r for r in own.snapshot_rows()}
    image, gone = "default/example.org/app:1", "default/example.org/gone:2 (no image record)"
    assert rows[ids["c0"]].images == (image, gone) and rows[ids["c0"]].state == "in_use"  # c1 stands on it
    assert rows[ids["c1"]].layer is not None and rows[ids["c1"]].layer.blob == ids["layers"][1]
    assert rows[ids["c1"]].layer.diff_id == ids["diff_ids"][1]
    assert rows["c1"].containers == ("default/c1",) and rows["c1"].state == "in_use"
    assert rows["leased"].leases == ("default/L",) and rows["leased"].state == "lease"
    assert "active-unheld" not in rows["leased"].flags
    assert rows["loose"].state == "collectable"
    assert rows["rooted"].state == "other" and rows["rooted"].labels == {"containerd.io/gc.root": "2026-01-01T00:00:00Z"}
    assert rows["ghost"].state == "orphan" and "no-metadata-record" in rows["ghost"].flags
    # own and chain bytes: the chain adds the parents' directories
    assert rows["c1"].chain_bytes == rows["c1"].bytes + rows[ids["c1"]].bytes + rows[ids["c0"]].bytes
    assert rows["loose"].bytes >= 5000

    space, other = own.image_space()
    assert (space.namespace, space.name, space.blob_count, space.snapshot_count) == ("default", "example.org/app:1", 4, 2)
    assert (other.name, other.recorded, other.blob_count, other.snapshot_count) == \
        ("example.org/gone:2 (no image record)", False, 4, 2)
    assert space.recorded
    # they share the config, the layers and both snapshots; each has its own manifest
    assert space.shared_bytes == other.shared_bytes > 8000
    assert space.unique_bytes == space.total_bytes - space.shared_bytes > 0


def test_df_states_and_prometheus(root):
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        assert main(["--root", str(root), "df", "--json"]) == 0, err.getvalue()
    doc = json.loads(out.getvalue())
    states = {(s["kind"], s["state"]): s["count"] for s in doc["states"]}
    assert states[("snapshot", "in_use")] == 3 and states[("snapshot", "lease")] == 1
    assert states[("snapshot", "collectable")] == 1 and states[("snapshot", "orphan")] == 1
    assert states[("content", "image")] == 5
    assert doc["reclaimable_bytes"] > 0  # the loose snapshot's directory
    assert doc["leases"] == {"count": 1, "only_bytes": doc["leases"]["only_bytes"]}
    assert doc["leases"]["only_bytes"] > 0
    out = io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        assert main(["--root", str(root), "df", "--prometheus"]) == 0
    text = out.getvalue()
    for line in text.splitlines():  # every sample line is NAME{labels} VALUE, every name has HELP and TYPE
        if not line.startswith("#"):
            name = line.split("{", 1)[0]
            assert f"# TYPE {name} gauge" in text and f"# HELP {name} " in text
            assert line.rsplit(" ", 1)[1].isdigit()
    assert 'share="unique"' in text and 'state="collectable"' in text


def test_owner_of_paths(root):
    ids = json.loads((root / "ids.json").read_text())
    own = Ownership(root)
    found = own.locate(root / OVL / "snapshots" / "2" / "fs" / "usr" / "bin" / "x")
    assert found.what == "snapshot" and found.blob == ids["layers"][1]
    assert found.images[0] == "default/example.org/app:1" and found.inside == "fs/usr/bin/x"
    found = own.locate(root / OVL / "snapshots" / "3" / "fs" / "tmp" / "new")
    assert found.containers == ("default/c1",) and found.images[0] == "default/example.org/app:1"
    found = own.locate(root / CONTENT / "blobs" / "sha256" / ids["layers"][0].split(":")[1])
    assert found.what == "blob" and found.images == ("default/example.org/app:1",
                                                     "default/example.org/gone:2 (no image record)")
    ingest = hashlib.sha256(b"default/1/myref").hexdigest()
    found = own.locate(root / CONTENT / "ingest" / ingest / "data")
    assert (found.what, found.ingests, found.leases, found.inside) == ("ingest", ("default/myref",), ("default/L",), "data")
    found = own.locate(str(root / OVL / "snapshots" / ".." / "snapshots" / "1" / "fs"))
    assert found.snapshot is not None and found.snapshot.key == ids["c0"]
    for bad in (root.parent / "x", root / OVL / "snapshots" / "77" / "fs", root / "io.containerd.metadata.v1.bolt",
                root / OVL / "snapshots" / ".." / ".." / ".." / "etc"):
        with pytest.raises(errors.InvalidArgument):
            own.locate(bad)


def test_snapshot_sizes_for_the_gc_dry_run(root):
    from store.disk import gc
    from store.disk.metadata import load_root
    from store.disk.owners import snapshot_sizes

    meta = load_root(root)
    sizes = snapshot_sizes(root, meta)
    rows = {(r.snapshotter, r.record.key): r.bytes for r in Ownership(root).snapshot_rows() if r.record}
    assert sizes == rows and len(sizes) == 7
    run = gc.dry_run(meta, snapshot_bytes=sizes)
    loose = run.verdict("snapshot", "default", "overlayfs/loose")
    assert loose is not None and loose.collect and loose.bytes == sizes[("overlayfs", "default/5/loose")] > 5000


@pytest.mark.timeout(60)
def test_a_fifo_planted_as_a_blob_does_not_hang(root):
    blobs = root / CONTENT / "blobs" / "sha256"
    manifest = json.loads((root / "ids.json").read_text())
    config = next(p for p in blobs.iterdir() if p.read_bytes().startswith(b'{"rootfs"'))
    config.unlink()
    os.mkfifo(config)
    own = Ownership(root)
    assert any("not a regular file" in p for p in own.problems)
    rows = {r.key: r for r in own.snapshot_rows()}
    assert rows[manifest["c0"]].images == ()  # without its config the image's chain is unknown


def test_df_calls_a_blob_held_only_by_an_expired_lease_collectable(tmp_path):
    """The next GC pass takes what only an expired lease names; df must say so, not "lease"."""
    root = tmp_path / "root"
    blobs = root / CONTENT / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    held, kept = os.urandom(4000), os.urandom(2000)
    for data in (held, kept):
        (blobs / digest(data).split(":")[1]).write_bytes(data)
    (root / "io.containerd.metadata.v1.bolt").mkdir()
    boltfile.write(root / "io.containerd.metadata.v1.bolt" / "meta.db", {b"version": b"\x06", b"v1": {b"default": {
        b"leases": {
            b"old": {b"labels": {b"containerd.io/gc.expire": b"2020-01-01T00:00:00Z"},
                     b"content": {digest(held).encode(): b""}},
            b"new": {b"labels": {b"containerd.io/gc.expire": b"2999-01-01T00:00:00Z"},
                     b"content": {digest(kept).encode(): b""}}},
        b"content": {b"blob": {digest(d).encode(): {b"size": boltfile.varint(len(d))} for d in (held, kept)}},
    }}})
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        assert main(["--root", str(root), "df", "--json"]) == 0, err.getvalue()
    states = {(s["kind"], s["state"]): s["count"] for s in json.loads(out.getvalue())["states"]}
    assert states.get(("content", "collectable")) == 1
    assert states.get(("content", "lease")) == 1
