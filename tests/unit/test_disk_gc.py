"""The GC dry run (store/disk/gc.py) over small hand-built models: each rule of containerd 1.6's
metadata/gc.go, the shortest "why" chains, bytes, and what only one lease holds."""

from __future__ import annotations

import pytest

from store.disk import gc
from store.disk.metadata import Blob, Container, Image, Ingest, Lease, Metadata, Namespace, Snapshot, parse_go_rfc3339
from store.timestamps import Timestamp

NOW = parse_go_rfc3339("2026-06-01T12:00:00Z")
HOUR = 3600 * 10**9
NS = "default"
IDX, MAN, CFG, L0, L1, LOOSE = (f"sha256:{c * 64}" for c in "abcdef")


def blob(digest, size=10, ns=NS, **labels):
    return Blob(ns, digest, size, dict(labels))


def lease(lid, *, ns=NS, content=(), snapshots=(), ingests=(), expire=None, flat=False, labels=None):
    labels = dict(labels or {})
    expire_ns = None
    if expire is not None:
        labels["containerd.io/gc.expire"] = expire
        try:
            expire_ns = parse_go_rfc3339(expire)
        except ValueError:
            pass
    if flat:
        labels["containerd.io/gc.flat"] = "1"
    return Lease(ns, lid, None, labels, tuple(content), tuple(snapshots), tuple(ingests), expire_ns, flat)


def model(*namespaces: Namespace) -> Metadata:
    return Metadata(tuple(namespaces))


def image_ns(**extra) -> Namespace:
    """An image: index -> manifest -> config + two layers, by ctr's labels; plus one loose blob."""
    blobs = (
        Blob(NS, IDX, 100, {"containerd.io/gc.ref.content.m.0": MAN}),
        Blob(NS, MAN, 200, {"containerd.io/gc.ref.content.config": CFG, "containerd.io/gc.ref.content.l.0": L0,
                            "containerd.io/gc.ref.content.l.1": L1}),
        Blob(NS, CFG, 300, {"containerd.io/gc.ref.snapshot.overlayfs": "chain1"}),
        blob(L0, 1000), blob(L1, 2000), blob(LOOSE, 5),
    )
    snaps = (Snapshot(NS, "overlayfs", "chain0", "default/1/chain0", ""),
             Snapshot(NS, "overlayfs", "chain1", "default/2/chain1", "chain0"))
    base = dict(name=NS, images=(Image(NS, "x:1", IDX, "application/vnd.oci.image.index.v1+json", 100),),
                blobs=blobs, snapshots=snaps)
    base.update(extra)
    return Namespace(**base)


def verdicts(run):
    return {(v.kind, v.id): v for v in run.verdicts}


def test_image_keeps_its_tree_by_labels_and_the_rest_is_collected():
    run = gc.dry_run(model(image_ns()), now_ns=NOW)
    v = verdicts(run)
    assert {k for k, x in v.items() if x.collect} == {("blob", LOOSE)}
    assert v[("blob", LOOSE)].why == ()
    assert v[("blob", IDX)].why == ("image x:1",
                                    f"content {IDX} (the image's target, application/vnd.oci.image.index.v1+json)")
    assert v[("blob", L1)].why[-2:] == (f"content {MAN} via label containerd.io/gc.ref.content.m.0",
                                        f"content {L1} via label containerd.io/gc.ref.content.l.1")
    assert v[("snapshot", "overlayfs/chain0")].why[-2:] == (
        "snapshot overlayfs/chain1 via label containerd.io/gc.ref.snapshot.overlayfs",
        "snapshot overlayfs/chain0 (parent)")
    assert run.reclaimable_bytes == 5
    assert run.totals()["blob"] == {"count": 6, "bytes": 3605, "collect_count": 1, "collect_bytes": 5}


def test_no_image_no_roots_everything_goes():
    ns = image_ns(images=())
    run = gc.dry_run(model(ns), now_ns=NOW)
    assert all(v.collect for v in run.verdicts)
    assert run.reclaimable_bytes == 3605


def test_manifest_json_is_never_read_only_labels_count():
    # The manifest lost its labels (e.g. imported by hand): its layers go, though the JSON names them.
    ns = image_ns()
    blobs = tuple(Blob(NS, MAN, 200, {}) if b.digest == MAN else b for b in ns.blobs)
    run = gc.dry_run(model(Namespace(NS, images=ns.images, blobs=blobs, snapshots=ns.snapshots)), now_ns=NOW)
    v = verdicts(run)
    assert v[("blob", MAN)].collect is False
    assert all(v[("blob", d)].collect for d in (CFG, L0, L1))
    assert v[("snapshot", "overlayfs/chain1")].collect


@pytest.mark.parametrize("key,followed", [
    ("containerd.io/gc.ref.content", True),
    ("containerd.io/gc.ref.content.x", True),
    ("containerd.io/gc.ref.content/x", True),
    ("containerd.io/gc.ref.content.l.0", True),
    ("containerd.io/gc.ref.contentx", False),
    ("containerd.io/gc.ref.content-x", False),
    ("containerd.io/gc.ref.snapshot.overlayfs", False),  # a snapshot ref: names a snapshot, not content
    ("containerd.io/gc.refs.content", False),
])
def test_content_ref_label_keys(key, followed):
    ns = Namespace(NS, blobs=(Blob(NS, IDX, 1, {"containerd.io/gc.root": "", key: L0}), blob(L0, 7)))
    v = verdicts(gc.dry_run(model(ns), now_ns=NOW))
    assert v[("blob", L0)].collect is (not followed)
    if followed:
        assert v[("blob", L0)].why[-1] == f"content {L0} via label {key}"


@pytest.mark.parametrize("key,snapshotter", [
    ("containerd.io/gc.ref.snapshot.overlayfs", "overlayfs"),
    ("containerd.io/gc.ref.snapshot.overlayfs/1", "overlayfs"),
    ("containerd.io/gc.ref.snapshot.native", "native"),
    ("containerd.io/gc.ref.snapshot.native/a/b", "native"),
])
def test_snapshot_ref_label_names_the_snapshotter_up_to_a_slash(key, snapshotter):
    snaps = (Snapshot(NS, "overlayfs", "k", "n1", ""), Snapshot(NS, "native", "k", "n2", ""))
    ns = Namespace(NS, blobs=(Blob(NS, IDX, 1, {"containerd.io/gc.root": "x", key: "k"}),), snapshots=snaps)
    v = verdicts(gc.dry_run(model(ns), now_ns=NOW))
    assert {sid for (kind, sid), x in v.items() if kind == "snapshot" and not x.collect} == {f"{snapshotter}/k"}


def test_gc_root_on_blobs_and_snapshots_with_any_value():
    snaps = (Snapshot(NS, "overlayfs", "p", "n1", ""),
             Snapshot(NS, "overlayfs", "s", "n2", "p", labels={"containerd.io/gc.root": ""}),
             Snapshot(NS, "overlayfs", "other", "n3", ""))
    ns = Namespace(NS, blobs=(Blob(NS, L0, 3, {"containerd.io/gc.root": "2000-01-01T00:00:00Z"}),), snapshots=snaps)
    v = verdicts(gc.dry_run(model(ns), now_ns=NOW))
    assert v[("blob", L0)].why == (f"content {L0} labelled containerd.io/gc.root",)  # an old date does not expire it
    assert v[("snapshot", "overlayfs/s")].why == ("snapshot overlayfs/s labelled containerd.io/gc.root",)
    assert v[("snapshot", "overlayfs/p")].why[-1] == "snapshot overlayfs/p (parent)"
    assert v[("snapshot", "overlayfs/other")].collect


def test_container_keeps_its_snapshot_chain_and_label_refs_but_not_its_image():
    snaps = (Snapshot(NS, "overlayfs", "base", "n1", ""), Snapshot(NS, "overlayfs", "c1", "n2", "base"))
    ns = Namespace(NS, containers=(Container(NS, "c1", "x:1", "overlayfs", "c1",
                                             {"containerd.io/gc.ref.content.spec": L0}),
                                   Container(NS, "nosnap", "x:1", "", "ignored")),
                   blobs=(blob(L0), blob(IDX)), snapshots=snaps)
    v = verdicts(gc.dry_run(model(ns), now_ns=NOW))
    assert v[("snapshot", "overlayfs/base")].why == (
        "container c1", "snapshot overlayfs/c1 (the container's snapshotKey)", "snapshot overlayfs/base (parent)")
    assert v[("blob", L0)].why == ("container c1", f"content {L0} via label containerd.io/gc.ref.content.spec")
    assert v[("blob", IDX)].collect  # the container's image name is not a reference


def test_leases_expiry_alive_expired_and_unparsable():
    ns = Namespace(NS, leases=(
        lease("forever", content=[L0]),
        lease("future", content=[L1], expire="2026-06-01T13:00:00Z"),
        lease("exactly-now", content=[CFG], expire="2026-06-01T12:00:00Z"),
        lease("past", content=[MAN], expire="2026-06-01T11:59:59.999999999Z"),
        lease("garbage", content=[IDX], expire="tomorrow"),
    ), blobs=tuple(blob(d) for d in (L0, L1, CFG, MAN, IDX)))
    v = verdicts(gc.dry_run(model(ns), now_ns=NOW))
    assert {k for k, x in v.items() if x.collect} == {("lease", "past"), ("blob", MAN)}
    assert v[("lease", "forever")].why == ("lease forever (no expiry)",)
    assert v[("lease", "future")].why == ("lease future (expires 2026-06-01T13:00:00Z)",)
    assert v[("blob", L1)].why == ("lease future (expires 2026-06-01T13:00:00Z)", f"content {L1} (held by the lease)")
    assert "ignored, never expires" in v[("lease", "garbage")].why[0]
    assert v[("blob", IDX)].collect is False


def test_flat_lease_does_not_follow_labels_but_follows_parents():
    snaps = (Snapshot(NS, "overlayfs", "p", "n1", ""),
             Snapshot(NS, "overlayfs", "s", "n2", "p", labels={"containerd.io/gc.ref.content": L1}))
    ns = Namespace(NS, leases=(lease("f", content=[IDX], snapshots=[("overlayfs", "s")], flat=True),),
                   blobs=(Blob(NS, IDX, 1, {"containerd.io/gc.ref.content.m.0": L0}), blob(L0), blob(L1)),
                   snapshots=snaps)
    v = verdicts(gc.dry_run(model(ns), now_ns=NOW))
    assert v[("blob", L0)].collect and v[("blob", L1)].collect
    assert v[("snapshot", "overlayfs/p")].why == (
        "lease f (no expiry, flat)", "snapshot overlayfs/s (held by the flat lease: its labels are not followed)",
        "snapshot overlayfs/p (parent)")


def test_a_record_reached_flat_and_plain_follows_its_labels():
    # IDX is held flat by the lease and also reached through an image: its label still counts.
    ns = Namespace(NS, images=(Image(NS, "x", IDX, "", 1),), leases=(lease("f", content=[IDX], flat=True),),
                   blobs=(Blob(NS, IDX, 1, {"containerd.io/gc.ref.content.m.0": L0}), blob(L0)))
    v = verdicts(gc.dry_run(model(ns), now_ns=NOW))
    assert v[("blob", L0)].why == ("image x", f"content {IDX} (the image's target)",
                                   f"content {L0} via label containerd.io/gc.ref.content.m.0")


def test_ingests_expiry_lease_and_expected():
    at = Timestamp.from_ns
    ns = Namespace(NS, ingests=(
        Ingest(NS, "fresh", "b1", at(NOW + HOUR), "", 40),
        Ingest(NS, "stale", "b2", at(NOW - 1), "", 50),
        Ingest(NS, "leased", "b3", None, L0, 60),
        Ingest(NS, "orphan", "b4", None, "", None),
    ), leases=(lease("l", ingests=["leased"]),), blobs=(blob(L0),))
    run = gc.dry_run(model(ns), now_ns=NOW)
    v = verdicts(run)
    assert v[("ingest", "fresh")].why == ("ingest fresh (expires 2026-06-01T13:00:00Z)",)
    assert v[("ingest", "stale")].collect and v[("ingest", "orphan")].collect
    assert v[("blob", L0)].why == ("lease l (no expiry)", "ingest leased (held by the lease)",
                                   f"content {L0} (the ingest's expected digest)")
    assert v[("ingest", "fresh")].bytes == 40 and v[("ingest", "orphan")].bytes == 0
    assert run.reclaimable_bytes == 50


def test_references_never_cross_namespaces_and_shared_bytes_stay():
    a = Namespace("a", images=(Image("a", "x", IDX, "", 1),),
                  blobs=(Blob("a", IDX, 1, {"containerd.io/gc.ref.content": L0}), blob(L0, 100, ns="a")))
    b = Namespace("b", blobs=(blob(L0, 100, ns="b"), blob(L1, 7, ns="b")))
    run = gc.dry_run(model(a, b), now_ns=NOW)
    assert run.verdict("blob", "a", L0).collect is False
    assert run.verdict("blob", "b", L0).collect is True  # b's record goes...
    assert run.reclaimable_bytes == 7  # ...but the file stays: namespace a keeps the digest


def test_backend_snapshot_shared_by_two_namespaces_counts_once_freed():
    a = Namespace("a", snapshots=(Snapshot("a", "overlayfs", "k", "shared-backend", "",
                                           labels={"containerd.io/gc.root": "1"}),))
    b = Namespace("b", snapshots=(Snapshot("b", "overlayfs", "k", "shared-backend", ""),
                                  Snapshot("b", "overlayfs", "j", "own", "")))
    sizes = {("overlayfs", "shared-backend"): 1000, ("overlayfs", "own"): 30}
    run = gc.dry_run(model(a, b), now_ns=NOW, snapshot_bytes=sizes)
    assert run.verdict("snapshot", "b", "overlayfs/k").bytes == 1000
    assert run.reclaimable_bytes == 30


def test_shortest_chain_wins_and_cycles_end():
    # gc.root on A; A -> B -> C -> A (cycle); an image reaches C directly: C's chain is 2 long.
    a, b_, c = IDX, MAN, CFG
    ns = Namespace(NS, images=(Image(NS, "img", c, "", 1),), blobs=(
        Blob(NS, a, 1, {"containerd.io/gc.root": "", "containerd.io/gc.ref.content": b_}),
        Blob(NS, b_, 1, {"containerd.io/gc.ref.content": c}),
        Blob(NS, c, 1, {"containerd.io/gc.ref.content": a}),
    ))
    v = verdicts(gc.dry_run(model(ns), now_ns=NOW))
    assert v[("blob", c)].why == ("image img", f"content {c} (the image's target)")
    assert len(v[("blob", b_)].why) == 2


def test_dead_edges_and_snapshot_loops_are_harmless():
    snaps = (Snapshot(NS, "overlayfs", "x", "n1", "y"), Snapshot(NS, "overlayfs", "y", "n2", "x"),
             Snapshot(NS, "overlayfs", "z", "n3", "missing-parent", labels={"containerd.io/gc.root": ""}))
    ns = Namespace(NS, leases=(lease("l", content=["sha256:" + "9" * 64, "not a digest"],
                                     snapshots=[("overlayfs", "x"), ("nosuch", "k")]),), snapshots=snaps)
    run = gc.dry_run(model(ns), now_ns=NOW)
    v = verdicts(run)
    assert not v[("snapshot", "overlayfs/y")].collect and not v[("snapshot", "overlayfs/z")].collect
    assert len(run.verdicts) == 4  # only records are judged, not the names that point nowhere


def test_every_record_gets_exactly_one_verdict_in_scan_order():
    ns = image_ns(leases=(lease("l"),), ingests=(Ingest(NS, "i", "b", None, "", 1),))
    run = gc.dry_run(model(ns, Namespace("z", blobs=(blob(L0, ns="z"),))), now_ns=NOW)
    kinds = [(v.namespace, v.kind) for v in run.verdicts]
    assert kinds == [(NS, "blob")] * 6 + [(NS, "snapshot")] * 2 + [(NS, "lease"), (NS, "ingest"), ("z", "blob")]
    row = run.verdicts[0].as_json()
    assert list(row) == ["kind", "namespace", "id", "collect", "bytes", "why"]
    assert isinstance(row["why"], list)


def test_lease_usage_counts_what_only_that_lease_keeps():
    ns = Namespace(NS, images=(Image(NS, "x", L0, "", 1),), leases=(
        lease("a", content=[L0, L1, MAN]),        # L0 is the image's; MAN is shared with b
        lease("b", content=[MAN, CFG]),
        lease("old", content=[IDX], expire="2000-01-01T00:00:00Z"),
        lease("flat", content=[LOOSE], flat=True),
    ), blobs=(blob(L0, 1), blob(L1, 10), blob(MAN, 100), blob(CFG, 1000),
              Blob(NS, LOOSE, 5, {"containerd.io/gc.ref.content": IDX}), blob(IDX, 10000)))
    uses = {u.lease.id: u for u in gc.lease_usage(model(ns), now_ns=NOW)}
    assert (uses["a"].only_records, uses["a"].only_bytes) == (1, 10)
    assert (uses["b"].only_records, uses["b"].only_bytes) == (1, 1000)
    assert uses["old"].alive is False and uses["old"].only_bytes == 0
    assert (uses["flat"].only_records, uses["flat"].only_bytes) == (1, 5)  # IDX is not followed from a flat lease


@pytest.mark.parametrize("text,ok", [
    ("2026-06-01T12:00:00Z", True),
    ("2026-06-01T12:00:00.5Z", True),
    ("2026-06-01T12:00:00,5Z", True),
    ("2026-06-01T12:00:00.1234567891234Z", True),
    ("2026-06-01T2:00:00Z", True),  # Go's "15" takes one digit
    ("2026-06-01T12:00:00+02:00", True),
    ("0000-01-01T00:00:00Z", True),
    ("2024-02-29T00:00:00Z", True),
    ("2023-02-29T00:00:00Z", False),
    ("2026-06-01t12:00:00Z", False),
    ("2026-06-01T12:00:00z", False),
    ("2026-06-01T12:00:00", False),
    ("2026-06-01T24:00:00Z", False),
    ("2026-06-01T12:60:00Z", False),
    ("2026-06-01T12:00:60Z", False),
    ("2026-13-01T12:00:00Z", False),
    ("2026-6-01T12:00:00Z", False),
    ("2026-06-01 12:00:00Z", False),
    ("2026-06-01T12:00:00Z ", False),
    ("24h", False),
    ("", False),
])
def test_go_rfc3339_accepts_what_go_1_19_accepts(text, ok):
    if ok:
        parse_go_rfc3339(text)
    else:
        with pytest.raises(ValueError):
            parse_go_rfc3339(text)


def test_go_rfc3339_values():
    assert parse_go_rfc3339("1970-01-01T00:00:00Z") == 0
    assert parse_go_rfc3339("1970-01-01T01:00:00+01:00") == 0
    assert parse_go_rfc3339("1970-01-01T00:00:01.123456789999Z") == 1_123_456_789
    assert parse_go_rfc3339("2026-06-01T12:00:00Z") == Timestamp.from_datetime(
        Timestamp.fromisoformat("2026-06-01T12:00:00+00:00")).ns
    assert parse_go_rfc3339("0001-01-01T00:00:00Z") == -62135596800 * 10**9


def test_every_root_that_keeps_a_record_with_its_shortest_chain():
    # L0 is shared by two images' manifests, listed by a lease, and the flat lease holds the
    # manifest of a third image (flat: its label to L0 does not count).
    m2, m3 = LOOSE, CFG
    ns = Namespace(NS, images=(Image(NS, "a", MAN, "", 1), Image(NS, "b", m2, "", 1), Image(NS, "c", IDX, "", 1)),
                   leases=(lease("hold", content=[L0]), lease("flat", content=[m3], flat=True)),
                   blobs=(Blob(NS, MAN, 1, {"containerd.io/gc.ref.content.l.0": L0}),
                          Blob(NS, m2, 1, {"containerd.io/gc.ref.content.l.0": L0}),
                          Blob(NS, m3, 1, {"containerd.io/gc.ref.content.l.0": L0}),
                          Blob(NS, IDX, 1, {"containerd.io/gc.ref.content.m.0": m2}),
                          blob(L0, 100), blob(L1, 5)))
    run = gc.dry_run(model(ns), now_ns=NOW)
    v = run.verdict("blob", NS, L0)
    every = run.every_chain(v)
    assert [c[0] for c in every] == ["lease hold (no expiry)", "image a", "image b", "image c"]
    assert every[0] == ("lease hold (no expiry)", f"content {L0} (held by the lease)")
    assert every[3] == ("image c", f"content {IDX} (the image's target)",
                        f"content {m2} via label containerd.io/gc.ref.content.m.0",
                        f"content {L0} via label containerd.io/gc.ref.content.l.0")
    assert v.why == every[0]  # the dry run's chain is one of the shortest
    assert run.every_chain(v, limit=2) == every[:2]
    assert run.every_chain(run.verdict("blob", NS, L1)) == []  # collected: no chain at all
