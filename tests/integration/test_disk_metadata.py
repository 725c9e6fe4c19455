"""store.disk against a meta.db written by a real containerd 1.6: the records it reads are
exactly those the daemon reported, and the GC dry run keeps them over the right chains.

One daemon for the module: an image imported and unpacked, a container on it, leases with and
without expiry (one flat, one with an unparsable expiry), blobs kept by a gc.root label or only
by another blob's gc.ref.content label, an unleased ingest, a second namespace sharing a blob.
Then the daemon is stopped and its root read.  (That the daemon's own GC then agrees with the
prediction is proven by the gcproof suite; here the reading and the chains are checked.)
"""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest

from store.cli import main
from store.containerd import ContainerdStore
from store.disk import gc
from store.disk.metadata import load_root
from tests.support.images import describe_layout, layout_blobs, make_oci_image

pytestmark = pytest.mark.integration

IMAGE = "example.org/fixture/busybox:1.0"
HOUR = 3600 * 10**9


def _write(store: ContainerdStore, ref: str, data: bytes, labels: dict[str, str] | None = None) -> str:
    with store.writer(ref, total=len(data)) as w:
        w.write(data)
        return str(w.commit(len(data), labels=labels))


def _rows(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines()[1:] if line.strip()]


@pytest.fixture(scope="module")
def world(daemon, tmp_path_factory):
    d = daemon
    tmp = tmp_path_factory.mktemp("img")
    archive = make_oci_image(tmp, name=IMAGE)
    layout = describe_layout(archive.parent / "layout")
    d.ctr("images", "import", str(archive))
    d.ctr("containers", "create", IMAGE, "c1")
    d.wait_for_gc()  # the import's own lease ended; let that pass finish before the rest

    plain = ContainerdStore(d.address, "default", gc_root=False)
    # A lease that expires in an hour holds C and G; P (gc.root) references C by a label only.
    tmp_lease = plain.create_lease(expire=timedelta(hours=1), lease_id="tmp")
    in_tmp = plain.with_lease(tmp_lease)
    c = _write(in_tmp, "c", b"child of p\n")
    g = _write(in_tmp, "g", b"shared with other\n")
    rooted = ContainerdStore(d.address, "default", gc_root=True).with_lease(tmp_lease)
    p = _write(rooted, "p", b"parent p\n", {"containerd.io/gc.ref.content.child": c})
    # A flat lease holds F, whose label points at G: flat means the label is not followed.
    plain.create_lease(expire=None, lease_id="flat", labels={"containerd.io/gc.flat": "true"})
    f = _write(plain.with_lease("flat"), "f", b"held flat\n", {"containerd.io/gc.ref.content.g": g})
    # A lease whose expiry containerd cannot parse: ignored, so it never expires.
    d.ctr("leases", "create", "--id", "bad", "-x", "0", "containerd.io/gc.expire=next tuesday")
    # The same bytes as G in another namespace, kept there by gc.root.
    other = ContainerdStore(d.address, "other", gc_root=True)
    d.ctr("namespaces", "create", "other")
    other_lease = other.create_lease(expire=timedelta(hours=1), lease_id="w")
    _write(other.with_lease(other_lease), "g", b"shared with other\n")
    # An ingest without a lease: containerd gives it 24 hours.
    unleased = ContainerdStore(d.address, "default", lease=None)
    w = unleased.writer("pending", total=1000)
    w.write(b"x" * 300)
    w.close()

    reported = {
        "images": d.ctr("images", "ls", "-q").stdout.split(),
        "containers": d.ctr("containers", "ls", "-q").stdout.split(),
        "leases": {r[0] for r in _rows(d.ctr("leases", "ls").stdout)},
        "snapshots": {r[0]: (r[1] if len(r) == 3 else "") for r in _rows(d.ctr("snapshots", "ls").stdout)},
        "blobs": {ns: d.content_digests(namespace=ns) for ns in ("default", "other")},
        "active": {r[0] for r in _rows(d.ctr("content", "active").stdout)},
    }
    for s in (plain, rooted, other, unleased):
        s.close()
    d.stop()
    stopped_at = time.time_ns()
    return {"root": d.root, "layout": layout, "blobs": layout_blobs(archive.parent / "layout"),
            "reported": reported, "c": c, "g": g, "p": p, "f": f, "stopped_at": stopped_at}


def test_reads_exactly_the_records_the_daemon_reported(world):
    meta = load_root(world["root"])
    rep = world["reported"]
    assert [ns.name for ns in meta.namespaces] == ["default", "other"]
    default = meta.namespace("default")
    assert default is not None
    assert [im.name for im in default.images] == rep["images"] == [IMAGE]
    image = default.images[0]
    assert image.target_digest == world["layout"].top["digest"]
    assert image.target_media_type == world["layout"].top["mediaType"]
    assert image.target_size == world["layout"].top["size"]
    assert image.created_at is not None and image.problems == ()
    assert [c.id for c in default.containers] == rep["containers"] == ["c1"]
    c1 = default.containers[0]
    assert (c1.image, c1.snapshotter, c1.snapshot_key) == (IMAGE, "overlayfs", "c1")
    assert {lease.id for lease in default.leases} == rep["leases"] == {"tmp", "flat", "bad"}
    leases = {lease.id: lease for lease in default.leases}
    assert set(leases["tmp"].content) == {world["c"], world["g"], world["p"]}
    assert leases["flat"].flat and leases["flat"].content == (world["f"],)
    assert leases["tmp"].expire_ns is not None and not leases["tmp"].flat
    assert leases["bad"].expire_ns is None and "next tuesday" in leases["bad"].problems[0]
    assert {b.digest for b in default.blobs} == rep["blobs"]["default"]
    assert {b.digest for b in meta.namespace("other").blobs} == rep["blobs"]["other"] == {world["g"]}
    sizes = {b.digest: b.size for b in default.blobs}
    for digest, data in world["blobs"].items():
        assert sizes[digest] == len(data)
    assert {s.key for s in default.snapshots} == set(rep["snapshots"])
    by_key = {s.key: s for s in default.snapshots}
    assert by_key["c1"].parent == rep["snapshots"]["c1"]
    assert all(s.snapshotter == "overlayfs" and s.name for s in default.snapshots)
    assert "c1" in by_key[by_key["c1"].parent].children
    assert {i.ref for i in default.ingests} == rep["active"] == {"pending"}
    pending = default.ingests[0]
    assert pending.offset == 300 and pending.expire_at is not None
    assert pending.expire_at.ns > world["stopped_at"] + 23 * HOUR


def test_dry_run_now_keeps_everything_over_the_shortest_chain(world):
    meta = load_root(world["root"])
    run = gc.dry_run(meta, now_ns=world["stopped_at"])
    assert [v.id for v in run.verdicts if v.collect] == []
    layout = world["layout"]
    manifest = layout.manifests["amd64"]
    top = layout.top["digest"]
    v = run.verdict("blob", "default", layout.layers["amd64"][0])
    assert v is not None and v.why[0] == f"image {IMAGE}"
    assert v.why[-1] == f"content {layout.layers['amd64'][0]} via label containerd.io/gc.ref.content.l.0"
    assert run.verdict("blob", "default", top).why == (
        f"image {IMAGE}", f"content {top} (the image's target, {layout.top['mediaType']})")
    if top != manifest:  # an index on top: the manifest hangs off it by m.0
        assert run.verdict("blob", "default", manifest).why[-1].endswith("via label containerd.io/gc.ref.content.m.0")
    # The container's snapshot, and its parent, are kept by the container (shorter than via the config).
    snaps = {s.key: s for s in meta.namespace("default").snapshots}
    parent = snaps["c1"].parent
    assert run.verdict("snapshot", "default", "overlayfs/c1").why == (
        "container c1", "snapshot overlayfs/c1 (the container's snapshotKey)")
    assert run.verdict("snapshot", "default", f"overlayfs/{parent}").why == (
        "container c1", "snapshot overlayfs/c1 (the container's snapshotKey)", f"snapshot overlayfs/{parent} (parent)")
    # P is kept by its own gc.root; C by P's label or the lease, whichever the walk meets first (both 2 steps).
    assert run.verdict("blob", "default", world["p"]).why[0] == f"content {world['p']} labelled containerd.io/gc.root"
    assert run.verdict("lease", "default", "bad").why == (
        "lease bad (containerd.io/gc.expire='next tuesday' is not RFC 3339: ignored, never expires)",)
    ing = run.verdict("ingest", "default", "pending")
    assert ing.bytes == 300 and ing.why[0].startswith("ingest pending (expires ")
    assert run.reclaimable_bytes == 0


def test_dry_run_after_the_lease_expired(world):
    meta = load_root(world["root"])
    run = gc.dry_run(meta, now_ns=world["stopped_at"] + 2 * HOUR)
    collected = {(v.kind, v.namespace, v.id) for v in run.verdicts if v.collect}
    assert collected == {("lease", "default", "tmp"), ("blob", "default", world["g"]), ("lease", "other", "w")}
    # C lives on only through P's label; F through the flat lease, whose label to G is not followed.
    assert run.verdict("blob", "default", world["c"]).why == (
        f"content {world['p']} labelled containerd.io/gc.root",
        f"content {world['c']} via label containerd.io/gc.ref.content.child")
    assert run.verdict("blob", "default", world["f"]).why == (
        "lease flat (no expiry, flat)",
        f"content {world['f']} (held by the flat lease: its labels are not followed)")
    # G's bytes stay on disk: namespace "other" still keeps the same digest.
    assert run.reclaimable_bytes == 0
    assert run.verdict("blob", "other", world["g"]).collect is False


def test_blobctl_gc_dry_run_json_contract(world, capsys):
    rc = main(["--root", str(world["root"]), "gc", "--dry-run", "--json"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    rows = json.loads(out)
    meta = load_root(world["root"])
    expected = sum(len(ns.blobs) + len(ns.snapshots) + len(ns.leases) + len(ns.ingests) for ns in meta.namespaces)
    assert len(rows) == expected
    for row in rows:
        assert set(row) == {"kind", "namespace", "id", "collect", "bytes", "why"}
        assert row["kind"] in ("blob", "snapshot", "lease", "ingest")
        assert isinstance(row["bytes"], int) and isinstance(row["collect"], bool)
        assert (row["why"] == []) == row["collect"]
    by = {(r["kind"], r["namespace"], r["id"]): r for r in rows}
    assert by[("snapshot", "default", "overlayfs/c1")]["why"][0] == "container c1"
    assert by[("ingest", "default", "pending")]["bytes"] == 300


def test_blobctl_why_and_leases(world, capsys):
    root = str(world["root"])
    rc = main(["--root", root, "why", "overlayfs/c1"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "snapshot overlayfs/c1 (namespace default" in out and "1. container c1" in out
    rc = main(["--root", root, "-n", "other", "why", world["g"]])
    out, _ = capsys.readouterr()
    assert rc == 0 and "namespace other" in out and "namespace default" not in out
    rc = main(["--root", root, "why", "sha256:" + "0" * 64])
    _, err = capsys.readouterr()
    assert rc == 1 and "no blob, snapshot, lease or ingest" in err
    rc = main(["--root", root, "leases", "ls", "--json"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    leases = {(r["namespace"], r["id"]): r for r in json.loads(out)}
    assert set(leases) == {("default", "tmp"), ("default", "flat"), ("default", "bad"), ("other", "w")}
    assert leases[("default", "flat")]["flat"] is True and leases[("default", "flat")]["expire_at"] is None
    assert leases[("default", "tmp")]["content"] == 3 and leases[("default", "tmp")]["expired"] is False
    # Only the flat lease keeps F; C, G and P have other keepers (P's gc.root; G in "other" is another record).
    assert leases[("default", "flat")]["only_records"] == 1
    assert leases[("default", "flat")]["only_bytes"] == len(b"held flat\n")
    assert leases[("default", "bad")]["problems"]

