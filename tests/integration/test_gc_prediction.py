"""``blobctl gc --dry-run --json`` against containerd's own GC, on one fixed scenario.

One private daemon builds every situation of issue 10 point 3 at once, in two namespaces (see
``build``); :func:`tests.support.gc_scenarios.prove` copies the stopped root, runs the dry
run on the copy, makes the daemon collect once and compares.  The first test holds the whole
prediction to account; the others each name one situation, check that the daemon really did
what containerd's ``metadata/gc.go`` says (so the scenario is what it claims to be), that the
prediction agrees, and that its ``why`` starts at the right root (docs/gc-proof.md).
"""

from __future__ import annotations

import copy
import dataclasses
import time

import pytest

from tests.support.gc_scenarios import (
    GC_ROOT,
    PAST,
    SCHEDULER,
    ImageSpec,
    Proof,
    Scenario,
    compare,
    new_daemon,
    prove,
)

pytestmark = pytest.mark.integration

A, B = "gc-a", "gc-b"
APP = ImageSpec("example.org/gc/app:1", ("base", "app"))
OLD = ImageSpec("example.org/gc/old:1", ("base", "old"))
WEB = ImageSpec("example.org/gc/web:1", ("base2", "web"), gzip=True)
TMP = ImageSpec("example.org/gc/tmp:1", ("tmp1", "tmp2"))
HELD = ImageSpec("example.org/gc/held:1", ("held1",))
NAT = ImageSpec("example.org/gc/nat:1", ("nat1", "nat2"))
MULTI = ImageSpec("example.org/gc/multi:1", ("base", "multi"), other_platforms=("arm64", "s390x"))


def build(sc: Scenario) -> dict:
    """Every situation once; returns the digests and keys the tests ask about."""
    h: dict = {}
    sc.create_lease(A, "lease-short", expires_flag="1s")   # expires while the rest is built
    h["short-blob"] = sc.ingest_blob(A, b"held by a lease that expires in a second\n")
    sc.lease_add(A, "lease-short", "content", h["short-blob"])
    short_created = time.monotonic()

    for spec in (APP, OLD, WEB, TMP, HELD, MULTI):
        sc.import_image(A, spec)
    h["multi"] = sc.image_digests(A, MULTI.name)
    h["image-label-blob"] = sc.ingest_blob(A, b"referenced by an image record's label\n")
    sc.label_image(A, APP.name, {"containerd.io/gc.ref.content.extra": h["image-label-blob"]})
    h["app"] = sc.image_digests(A, APP.name)
    h["app-chain"] = sc.image_chain(A, APP.name)
    h["old"] = sc.image_digests(A, OLD.name)
    h["old-chain"] = sc.image_chain(A, OLD.name)
    h["web"] = sc.image_digests(A, WEB.name)
    h["web-chain"] = sc.image_chain(A, WEB.name)
    h["tmp"] = sc.image_digests(A, TMP.name)
    h["tmp-chain"] = sc.image_chain(A, TMP.name)
    h["held"] = sc.image_digests(A, HELD.name)
    h["held-chain"] = sc.image_chain(A, HELD.name)

    # A container keeps its snapshot chain, not its image's blobs.
    sc.create_container(A, WEB.name, "c-web")
    sc.remove_image(A, WEB.name)
    sc.remove_image(A, OLD.name)
    sc.create_container(A, APP.name, "c-gone")
    sc.delete_container(A, "c-gone", keep_snapshot=True)   # an orphaned active snapshot

    # Blobs: loose, gc.root, reached only through gc.ref.content labels (two hops).
    h["loose"] = sc.ingest_blob(A, b"a loose blob nothing refers to\n")
    h["rooted"] = sc.ingest_blob(A, b"a blob labelled gc.root\n")
    sc.label_content(A, h["rooted"], {GC_ROOT: "pinned by hand"})
    h["ref1"] = sc.ingest_blob(A, b"referenced by the rooted blob's label\n")
    h["ref2"] = sc.ingest_blob(A, b"referenced by ref1's label\n")
    sc.label_content(A, h["rooted"], {"containerd.io/gc.ref.content.extra": h["ref1"]})
    sc.label_content(A, h["ref1"], {"containerd.io/gc.ref.content.next": h["ref2"]})

    # Snapshots: unreferenced, gc.root, via a blob's gc.ref.snapshot label, a rooted view.
    sc.prepare(A, "scratch", h["app-chain"][-1])
    sc.prepare(A, "pinned", h["app-chain"][0])
    sc.label_snapshot(A, "pinned", {GC_ROOT: "yes"})
    sc.prepare(A, "byref")
    sc.label_content(A, h["rooted"], {"containerd.io/gc.ref.snapshot.overlayfs/x": "byref"})
    sc.prepare(A, "work", h["app-chain"][-1])
    sc.commit(A, "work-done", "work")
    sc.prepare(A, "look", "work-done", view=True)
    sc.label_snapshot(A, "look", {GC_ROOT: "yes"})

    # Leases.
    sc.create_lease(A, "lease-future", expires_flag="24h")
    h["future-blob"] = sc.ingest_blob(A, b"held by a lease for a day\n")
    sc.lease_add(A, "lease-future", "content", h["future-blob"])
    sc.create_lease(A, "lease-past", expire=PAST)
    h["past-blob"] = sc.ingest_blob(A, b"held by a lease that expired in 2001\n")
    sc.lease_add(A, "lease-past", "content", h["past-blob"])
    sc.prepare(A, "past-snap")
    sc.lease_add(A, "lease-past", "snapshots/overlayfs", "past-snap")
    sc.leased_write(A, "ingest-expired", b"partial data", 100, "lease-past")
    sc.create_lease(A, "lease-invalid", expire="not-a-time")
    h["invalid-blob"] = sc.ingest_blob(A, b"held by a lease whose expiry does not parse\n")
    sc.lease_add(A, "lease-invalid", "content", h["invalid-blob"])
    sc.create_lease(A, "lease-none")
    h["snap-label-blob"] = sc.ingest_blob(A, b"referenced by a leased snapshot's label\n")
    sc.prepare(A, "leased-snap")
    sc.label_snapshot(A, "leased-snap", {"containerd.io/gc.ref.content.y": h["snap-label-blob"]})
    sc.lease_add(A, "lease-none", "snapshots/overlayfs", "leased-snap")
    sc.leased_write(A, "ingest-leased", b"partial data", 100, "lease-none")
    # A non-flat lease holding a deleted image's manifest keeps the whole image and its unpack.
    sc.create_lease(A, "lease-held")
    sc.lease_add(A, "lease-held", "content", h["held"]["manifest"])
    sc.remove_image(A, HELD.name)
    # A flat lease keeps what it names and snapshot parents, no label references.
    sc.create_lease(A, "lease-flat", flat=True)
    sc.lease_add(A, "lease-flat", "content", h["tmp"]["manifest"])
    h["flat-label-blob"] = sc.ingest_blob(A, b"referenced by a flat-leased snapshot's label\n")
    sc.prepare(A, "flat-snap", h["tmp-chain"][-1])
    sc.label_snapshot(A, "flat-snap", {"containerd.io/gc.ref.content.z": h["flat-label-blob"]})
    sc.lease_add(A, "lease-flat", "snapshots/overlayfs", "flat-snap")
    sc.remove_image(A, TMP.name)
    # Reached flat (through lease-flat) and not flat (gc.root): its label is followed.
    h["dual"] = sc.ingest_blob(A, b"held flat and rooted\n")
    h["dual-target"] = sc.ingest_blob(A, b"referenced by the dual blob's label\n")
    sc.label_content(A, h["dual"], {"containerd.io/gc.ref.content.t": h["dual-target"]})
    sc.lease_add(A, "lease-flat", "content", h["dual"])
    sc.label_content(A, h["dual"], {GC_ROOT: "also"})
    # Any gc.flat value makes a lease flat; gc.expire is read as Go's time.Parse(RFC3339) would.
    sc.create_lease(A, "lease-flat-false", flat="false")
    h["flat-false-target"] = sc.ingest_blob(A, b"label target of a blob in a 'false' flat lease\n")
    h["flat-false-blob"] = sc.ingest_blob(A, b"in a lease labelled gc.flat=false\n")
    sc.label_content(A, h["flat-false-blob"], {"containerd.io/gc.ref.content.t": h["flat-false-target"]})
    sc.lease_add(A, "lease-flat-false", "content", h["flat-false-blob"])
    sc.create_lease(A, "lease-comma", expire="2001-01-01T00:00:00,5Z")     # Go parses it: expired
    sc.create_lease(A, "lease-space", expire="2001-01-01 00:00:00Z")       # Go rejects it: kept

    # Ingests: a ctr killed mid-write (kept 24 h by its expiry).
    sc.stall_ingest(A, "ingest-stalled")
    # Keys and refs shaped like real ones (CRI's "k8s.io/N/...", a pull's "layer-sha256:..."), one
    # snapshot kept only through a label that names such a key.
    sc.leased_write(A, "k8s.io/1/layer-sha256:abc/ü", b"partial data", 100, "lease-none")
    sc.prepare(A, "k8s.io/3/sha256:0ff", h["app-chain"][-1])
    sc.label_content(A, h["rooted"], {"containerd.io/gc.ref.snapshot.overlayfs/k8s": "k8s.io/3/sha256:0ff"})
    sc.prepare(A, "k8s.io/4/sha256:dead", h["app-chain"][-1])
    # A container's gc.ref.content label.
    h["note-blob"] = sc.ingest_blob(A, b"referenced by a container label\n")
    sc.create_container(A, APP.name, "c-note", {"containerd.io/gc.ref.content.note": h["note-blob"]})

    # Namespace gc-b: the same blobs as gc-a, and the native snapshotter.
    sc.import_image(B, APP)
    sc.import_image(B, OLD)
    h["b-rooted"] = sc.ingest_blob(B, b"a blob labelled gc.root\n")   # same bytes, no label here
    sc.import_image(B, NAT, snapshotter="native")
    h["nat"] = sc.image_digests(B, NAT.name)
    h["nat-chain"] = sc.image_chain(B, NAT.name)
    sc.create_container(B, NAT.name, "c-nat")
    sc.remove_image(B, NAT.name)
    sc.prepare(B, "nat-view", h["nat-chain"][0], snapshotter="native", view=True)   # no directory of its own
    sc.prepare(B, "nat-view-pinned", h["nat-chain"][0], snapshotter="native", view=True)
    sc.label_snapshot(B, "nat-view-pinned", {GC_ROOT: "yes"}, snapshotter="native")

    time.sleep(max(0.0, short_created + 2.5 - time.monotonic()))   # lease-short has expired
    return h


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gc-fixed")
    with new_daemon(tmp) as d:
        sc = Scenario(d, tmp)
        h = build(sc)
        proof = prove(sc, tmp / "root-copy")
        yield proof, h, d


def check(proof: Proof, kind: str, ns: str, rid: str, *, collect: bool, root: str | None = None,
          mentions: tuple[str, ...] = ()) -> None:
    """The daemon did ``collect`` to the item, the dry run said so, and its why starts at ``root``."""
    item = (kind, ns, rid)
    assert item in proof.before.items, f"the scenario did not make {item}\n{proof.scenario.describe()}"
    assert proof.gone(*item) == collect, \
        f"containerd {'kept' if collect else 'collected'} {item}: the scenario is not what it claims"
    assert item in proof.prediction, f"{item} is missing from the dry run"
    row = proof.prediction[item]
    assert row["collect"] == collect, proof.explain(item)
    if root is not None:
        assert row["why"] and root in row["why"][0], f"{proof.explain(item)}: the chain should start at {root!r}"
    for text in mentions:
        assert any(text in step for step in row["why"]), f"{proof.explain(item)}: the chain should mention {text!r}"


def test_prediction_matches_the_daemons_gc(scene):
    proof, _, _ = scene
    assert not proof.problems, proof.message()
    assert any(r["collect"] for r in proof.prediction.values()) and any(
        not r["collect"] for r in proof.prediction.values())


def test_the_comparison_catches_a_wrong_prediction(scene):
    """The same truth against a prediction with two verdicts flipped: both are reported, with
    the scenario's steps, and so are the files those records stand for."""
    proof, h, _ = scene
    wrong = copy.deepcopy(proof.prediction)
    alive, dead = ("blob", A, h["rooted"]), ("blob", A, h["loose"])
    wrong[alive].update(collect=True, why=[])
    wrong[dead].update(collect=False, why=["made up"])
    bad = dataclasses.replace(proof, prediction=wrong, problems=[])
    bad.problems.extend(compare(bad))
    text = bad.message()
    assert f"blob {A}/{h['rooted']}: predicted collect=True why=[]; after the daemon's GC: still there" in text
    assert f"blob {A}/{h['loose']}: predicted collect=False why=['made up']; after the daemon's GC: gone" in text
    assert f"blob file {h['loose']} is gone though a record of it was predicted alive" in text
    assert "ctr content ingest" in text and "steps:" in text


def test_gc_runs_only_when_triggered(scene):
    """The scheduler took SCHEDULER, logged no pass while the scenario was built, one on demand."""
    proof, h, d = scene
    exports = d.ctr("plugins", "ls", "-d").stdout.split("ID:            scheduler", 1)[1].split("Type:", 1)[0]
    assert "DeletionThreshold      " + SCHEDULER["deletion_threshold"] in exports
    assert "MutationThreshold      0" in exports
    assert proof.passes_before_trigger == 0, proof.scenario.describe()
    assert proof.passes_after_trigger >= 1
    # Images were removed and leases ended while building, yet what they held was still there
    # when listed, and the triggered pass then collected it.
    item = ("blob", A, h["old"]["config"])
    assert item in proof.before.items and proof.gone(*item)


def test_image_record_keeps_its_blobs_and_unpack(scene):
    proof, h, _ = scene
    check(proof, "blob", A, h["app"]["manifest"], collect=False, root=APP.name)
    for digest in [h["app"]["config"], *h["app"]["layers"]]:
        check(proof, "blob", A, digest, collect=False, root=APP.name)
    for key in h["app-chain"]:   # also below containers and rooted snapshots: no single root
        check(proof, "snapshot", A, f"overlayfs/{key}", collect=False)


def test_image_index_and_image_labels(scene):
    proof, h, _ = scene
    check(proof, "blob", A, h["multi"]["target"], collect=False, root=MULTI.name)
    check(proof, "blob", A, h["multi"]["manifest"], collect=False, root=MULTI.name, mentions=("m.0",))
    check(proof, "blob", A, h["image-label-blob"], collect=False, root=APP.name,
          mentions=("gc.ref.content.extra",))


def test_deleted_image_is_collected_but_shared_layer_stays(scene):
    proof, h, _ = scene
    check(proof, "blob", A, h["old"]["manifest"], collect=True)
    check(proof, "blob", A, h["old"]["config"], collect=True)
    check(proof, "blob", A, h["old"]["layers"][1], collect=True)
    check(proof, "blob", A, h["old"]["layers"][0], collect=False, root=APP.name)   # "base", shared
    check(proof, "snapshot", A, f"overlayfs/{h['old-chain'][1]}", collect=True)
    check(proof, "snapshot", A, f"overlayfs/{h['old-chain'][0]}", collect=False)


def test_container_keeps_its_snapshot_chain_not_the_image_blobs(scene):
    proof, h, _ = scene
    check(proof, "snapshot", A, "overlayfs/c-web", collect=False, root="c-web")
    for key in h["web-chain"]:
        check(proof, "snapshot", A, f"overlayfs/{key}", collect=False, root="c-web")
    for digest in [h["web"]["manifest"], h["web"]["config"], *h["web"]["layers"]]:
        check(proof, "blob", A, digest, collect=True)
    check(proof, "snapshot", A, "overlayfs/c-gone", collect=True)   # its container was deleted


def test_gc_root_and_gc_ref_content_labels(scene):
    proof, h, _ = scene
    check(proof, "blob", A, h["loose"], collect=True)
    check(proof, "blob", A, h["rooted"], collect=False, root="gc.root")
    check(proof, "blob", A, h["ref1"], collect=False, root="gc.root", mentions=("gc.ref.content.extra",))
    check(proof, "blob", A, h["ref2"], collect=False, root="gc.root", mentions=("gc.ref.content.next",))
    check(proof, "blob", A, h["note-blob"], collect=False, root="c-note", mentions=("gc.ref.content.note",))


def test_snapshot_roots_refs_and_parents(scene):
    proof, h, _ = scene
    check(proof, "snapshot", A, "overlayfs/scratch", collect=True)
    check(proof, "snapshot", A, "overlayfs/pinned", collect=False, root="gc.root")
    check(proof, "snapshot", A, "overlayfs/byref", collect=False, mentions=("gc.ref.snapshot.overlayfs",))
    check(proof, "snapshot", A, "overlayfs/look", collect=False, root="gc.root")
    check(proof, "snapshot", A, "overlayfs/work-done", collect=False, root="look")


def test_leases_and_their_expiry(scene):
    proof, h, _ = scene
    check(proof, "lease", A, "lease-future", collect=False, root="lease-future")
    check(proof, "blob", A, h["future-blob"], collect=False, root="lease-future")
    check(proof, "lease", A, "lease-past", collect=True)
    check(proof, "blob", A, h["past-blob"], collect=True)
    check(proof, "snapshot", A, "overlayfs/past-snap", collect=True)
    check(proof, "lease", A, "lease-short", collect=True)
    check(proof, "blob", A, h["short-blob"], collect=True)
    check(proof, "lease", A, "lease-invalid", collect=False, root="lease-invalid")
    check(proof, "blob", A, h["invalid-blob"], collect=False, root="lease-invalid")
    check(proof, "snapshot", A, "overlayfs/leased-snap", collect=False, root="lease-none")
    check(proof, "blob", A, h["snap-label-blob"], collect=False, root="lease-none",
          mentions=("gc.ref.content.y",))


def test_lease_on_a_deleted_images_manifest_keeps_the_image(scene):
    proof, h, _ = scene
    for digest in [h["held"]["manifest"], h["held"]["config"], *h["held"]["layers"]]:
        check(proof, "blob", A, digest, collect=False, root="lease-held")
    check(proof, "snapshot", A, f"overlayfs/{h['held-chain'][-1]}", collect=False, root="lease-held",
          mentions=("gc.ref.snapshot.overlayfs",))


def test_flat_lease_keeps_only_what_it_names_and_parents(scene):
    proof, h, _ = scene
    check(proof, "lease", A, "lease-flat", collect=False, root="lease-flat")
    check(proof, "blob", A, h["tmp"]["manifest"], collect=False, root="lease-flat")
    check(proof, "blob", A, h["tmp"]["config"], collect=True)
    for digest in h["tmp"]["layers"]:
        check(proof, "blob", A, digest, collect=True)
    check(proof, "snapshot", A, "overlayfs/flat-snap", collect=False, root="lease-flat")
    for key in h["tmp-chain"]:
        check(proof, "snapshot", A, f"overlayfs/{key}", collect=False, root="lease-flat")
    check(proof, "blob", A, h["flat-label-blob"], collect=True)


def test_flat_and_not_flat_paths_to_one_blob(scene):
    proof, h, _ = scene
    check(proof, "blob", A, h["dual"], collect=False)
    check(proof, "blob", A, h["dual-target"], collect=False, root="gc.root", mentions=("gc.ref.content.t",))


def test_gc_flat_and_gc_expire_values(scene):
    proof, h, _ = scene
    check(proof, "blob", A, h["flat-false-blob"], collect=False, root="lease-flat-false")
    check(proof, "blob", A, h["flat-false-target"], collect=True)
    check(proof, "lease", A, "lease-comma", collect=True)
    check(proof, "lease", A, "lease-space", collect=False, root="lease-space")


def test_keys_and_refs_with_slashes(scene):
    proof, _, _ = scene
    check(proof, "ingest", A, "k8s.io/1/layer-sha256:abc/ü", collect=False, root="lease-none")
    check(proof, "snapshot", A, "overlayfs/k8s.io/3/sha256:0ff", collect=False, root="gc.root",
          mentions=("gc.ref.snapshot.overlayfs/k8s",))
    check(proof, "snapshot", A, "overlayfs/k8s.io/4/sha256:dead", collect=True)


def test_ingests(scene):
    proof, _, _ = scene
    check(proof, "ingest", A, "ingest-stalled", collect=False, root="ingest-stalled")
    check(proof, "ingest", A, "ingest-leased", collect=False, root="lease-none")
    check(proof, "ingest", A, "ingest-expired", collect=True)
    assert (A, "ingest-expired") not in proof.after.ingest_dirs
    assert (A, "ingest-stalled") in proof.after.ingest_dirs


def test_cross_namespace_records_are_collected_apart(scene):
    proof, h, _ = scene
    # OLD was deleted in gc-a only: gc-a's records go, gc-b's stay, so do the files.
    for digest in [h["old"]["manifest"], h["old"]["config"], h["old"]["layers"][1]]:
        check(proof, "blob", A, digest, collect=True)
        check(proof, "blob", B, digest, collect=False, root=OLD.name)
        assert digest in proof.after.blob_files
    # The same bytes: labelled gc.root in gc-a, loose in gc-b.
    assert h["b-rooted"] == h["rooted"]
    check(proof, "blob", B, h["rooted"], collect=True)
    assert h["rooted"] in proof.after.blob_files


def test_native_snapshotter_and_its_container(scene):
    proof, h, _ = scene
    check(proof, "snapshot", B, "native/c-nat", collect=False, root="c-nat")
    check(proof, "snapshot", B, f"native/{h['nat-chain'][-1]}", collect=False, root="c-nat")
    check(proof, "snapshot", B, f"native/{h['nat-chain'][0]}", collect=False)   # the pinned view is closer
    check(proof, "blob", B, h["nat"]["manifest"], collect=True)
    check(proof, "snapshot", B, "native/nat-view", collect=True)
    check(proof, "snapshot", B, "native/nat-view-pinned", collect=False, root="gc.root")


def test_orphaned_files_wait_for_a_pass_that_collects_their_store(tmp_path):
    """containerd deletes a store's orphaned files only in a pass that removes one of its records
    (the "dirty" flags do not survive a restart, and prove() restarts): the proof's file checks
    rest on that, so it is shown here on the daemon itself."""
    with new_daemon(tmp_path) as d:
        sc = Scenario(d, tmp_path)
        sc.prepare(A, "kept", keep_root=True)
        sc.prepare(A, "orphan")
        sc.remove_snapshot(A, "orphan")                    # record gone, directory stays
        kept_blob = sc.ingest_blob(A, b"kept\n")
        sc.label_content(A, kept_blob, {GC_ROOT: "yes"})
        orphan_blob = sc.ingest_blob(A, b"orphan\n")
        sc.delete_content(A, orphan_blob)                  # record gone, file stays
        first = prove(sc, tmp_path / "copy1")
        assert not first.problems, first.message()
        assert first.before.snapshot_dirs["overlayfs"] == 2 and first.after.snapshot_dirs["overlayfs"] == 2
        assert orphan_blob in first.after.blob_files       # nothing collected: nothing cleaned

        sc = Scenario(d, tmp_path)
        sc.prepare(A, "junk")
        sc.ingest_blob(A, b"junk\n")
        second = prove(sc, tmp_path / "copy2")
        assert not second.problems, second.message()
        assert second.after.snapshot_dirs["overlayfs"] == 1   # "junk" collected, the orphan cleaned too
        assert second.after.blob_files == {kept_blob}
