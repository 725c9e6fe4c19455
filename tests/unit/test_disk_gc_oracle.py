"""The GC dry run against containerd 1.6's own garbage collector, run offline on random meta.db files.

A small Go program built from Debian's containerd sources (GOPATH mode) writes each random
model as a real ``meta.db`` with bbolt, in the bucket layout of ``metadata/buckets.go``; our
reader (store/disk/metadata.py) reads it back and our engine predicts; then the same program
runs ``metadata.DB.GarbageCollect`` -- containerd's own code, the one the daemon runs -- on the
file and lists what is left.  Every record predicted collectable must be gone, every other
one still there.  (The daemon-level proof, with real images and snapshots, is the gcproof suite.)
"""

from __future__ import annotations

import json
import random
import subprocess
import time
from pathlib import Path

import pytest

from store import bolt
from store.disk import gc
from store.disk.metadata import read_metadata
from tests.support import gcoracle


@pytest.fixture(scope="session")
def oracle() -> Path:
    try:
        return gcoracle.build()
    except RuntimeError as exc:
        pytest.fail(str(exc))


# -- random models -----------------------------------------------------------------------------

SNAPSHOTTERS = ("overlayfs", "native")
DAY = 86400 * 10**9


def _random_model(rng: random.Random, now_ns: int) -> list[dict]:
    digests = [f"sha256:{rng.getrandbits(256):064x}" for _ in range(rng.randint(3, 25))]
    skeys = [f"k{i}" for i in range(rng.randint(1, 12))]
    refs_ingest = [f"ingest-{i}" for i in range(4)]

    def pick(seq, missing=0.1):
        return rng.choice(seq) if rng.random() > missing else f"missing-{rng.randint(0, 3)}"

    def labels(kind: str) -> dict:
        out: dict[str, str] = {}
        if kind in ("blob", "snapshot") and rng.random() < 0.12:
            out["containerd.io/gc.root"] = rng.choice(["", "true", "2000-01-01T00:00:00Z"])
        for _ in range(rng.choices([0, 1, 2, 3], [4, 3, 2, 1])[0]):
            key = rng.choice(["containerd.io/gc.ref.content", "containerd.io/gc.ref.content.l.{}",
                              "containerd.io/gc.ref.content/{}", "containerd.io/gc.ref.content.m.{}",
                              "containerd.io/gc.ref.contentx{}", "containerd.io/gc.ref.content-{}"]).format(
                rng.randint(0, 9))
            out[key] = pick(digests)
        for _ in range(rng.choices([0, 1, 2], [5, 3, 1])[0]):
            sn = rng.choice(SNAPSHOTTERS + ("nosuch",))
            key = f"containerd.io/gc.ref.snapshot.{sn}" + rng.choice(["", "/a", "/b/c"])
            out[key] = pick(skeys)
        if rng.random() < 0.2:
            out["org.example/other"] = "x"
        return out

    namespaces = []
    for ns in rng.sample(["default", "k8s.io", "moby", "z"], rng.randint(1, 3)):
        blobs = [{"digest": d, "size": rng.randint(0, 10**6), "labels": labels("blob")}
                 for d in rng.sample(digests, rng.randint(0, len(digests)))]
        snaps = []
        for sn in SNAPSHOTTERS:
            keys = rng.sample(skeys, rng.randint(0, len(skeys)))
            for i, k in enumerate(keys):
                parent = rng.choice(["", pick(keys[:i] or [""], 0.15)]) if rng.random() < 0.7 else ""
                snaps.append({"snapshotter": sn, "key": k, "name": f"{ns}/{i}/{k}", "parent": parent,
                              "labels": labels("snapshot")})
        images = [{"name": f"img{i}", "target": pick(digests) if rng.random() < 0.9 else None,
                   "labels": labels("image")} for i in range(rng.randint(0, 3))]
        containers = [{"id": f"c{i}", "snapshotter": rng.choice(SNAPSHOTTERS + ("",)), "key": pick(skeys),
                       "labels": labels("container")} for i in range(rng.randint(0, 2))]
        leases = []
        for i in range(rng.randint(0, 4)):
            lab: dict[str, str] = {}
            exp = rng.choice(["none", "past", "future", "garbage", "none"])
            if exp == "past":
                lab["containerd.io/gc.expire"] = "2001-02-03T04:05:06Z"
            elif exp == "future":
                lab["containerd.io/gc.expire"] = "2999-01-01T00:00:00.5+01:00"
            elif exp == "garbage":
                lab["containerd.io/gc.expire"] = rng.choice(["tomorrow", "2026-13-01T00:00:00Z", ""])
            if rng.random() < 0.3:
                lab["containerd.io/gc.flat"] = rng.choice(["", "true"])
            leases.append({
                "id": f"lease{i}", "labels": lab,
                "content": sorted({pick(digests) for _ in range(rng.randint(0, 4))}),
                "snapshots": sorted({(rng.choice(SNAPSHOTTERS), pick(skeys)) for _ in range(rng.randint(0, 3))}),
                "ingests": sorted({rng.choice(refs_ingest) for _ in range(rng.randint(0, 2))}),
            })
        ingests = []
        for r in rng.sample(refs_ingest, rng.randint(0, len(refs_ingest))):
            when = rng.choice([None, now_ns - DAY, now_ns + DAY])
            ingests.append({"ref": r, "bref": f"{ns}/1/{r}", "expireat": when,
                            "expected": pick(digests) if rng.random() < 0.3 else ""})
        namespaces.append({"name": ns, "images": images, "containers": containers, "leases": leases,
                           "blobs": blobs, "ingests": ingests, "snapshots": snaps})
    return namespaces


def _run_scenarios(oracle: Path, tmp_path: Path, seed: int, count: int) -> int:
    rng = random.Random(seed)
    now = time.time_ns()
    models = [_random_model(rng, now) for _ in range(count)]
    subprocess.run([str(oracle), "write", str(tmp_path)], input=json.dumps(models).encode(), check=True,
                   capture_output=True, timeout=300)
    predicted = []
    for i in range(count):
        with bolt.ContainerdMetadata(bolt.BoltDB(tmp_path / str(i) / "meta.db")) as meta:
            predicted.append(gc.dry_run(read_metadata(meta), now_ns=time.time_ns()))
    out = subprocess.run([str(oracle), "gc", str(tmp_path), str(count)], check=True, capture_output=True,
                         timeout=300)
    left = [r["left"] for r in json.loads(out.stdout)]
    judged = 0
    for i, (run, after) in enumerate(zip(predicted, left)):
        for v in run.verdicts:
            survived = v.id in after.get(v.namespace, {}).get(v.kind, [])
            assert survived == (not v.collect), (
                f"seed {seed} scenario {i}: {v.kind} {v.namespace} {v.id}: predicted "
                f"{'collect' if v.collect else 'keep'} {list(v.why)}, containerd {'kept' if survived else 'deleted'}; "
                f"model: {json.dumps(models[i])}")
            judged += 1
        # ... and nothing containerd kept went unjudged
        for ns, kinds in after.items():
            for kind, ids in kinds.items():
                for ident in ids:
                    assert run.verdict(kind, ns, ident) is not None, (seed, i, kind, ns, ident)
    return judged


def _records(left: dict, kinds=("blob", "snapshot", "ingest")) -> set[tuple[str, str, str]]:
    return {(kind, ns, ident) for ns, per in left.items() for kind, ids in per.items() if kind in kinds
            for ident in ids}


def test_what_only_a_lease_keeps_is_what_containerd_drops_without_it(oracle, tmp_path):
    """lease_usage against containerd: for one live lease per model, GC the model with and without
    that lease; what the second pass drops in addition is what the lease alone kept."""
    rng = random.Random(99)
    now = time.time_ns()
    pairs, uses = [], []
    while len(uses) < 40:
        model = _random_model(rng, now)
        live = [(n, lease) for n in model for lease in n["leases"]
                if lease["labels"].get("containerd.io/gc.expire") != "2001-02-03T04:05:06Z"]
        if not live:
            continue
        n, lease = rng.choice(live)
        without = json.loads(json.dumps(model))
        for m in without:
            if m["name"] == n["name"]:
                m["leases"] = [x for x in m["leases"] if x["id"] != lease["id"]]
        pairs += [model, without]
        uses.append((n["name"], lease["id"]))
    subprocess.run([str(oracle), "write", str(tmp_path)], input=json.dumps(pairs).encode(), check=True,
                   capture_output=True, timeout=300)
    predicted = []
    for i, (ns, lid) in enumerate(uses):
        with bolt.ContainerdMetadata(bolt.BoltDB(tmp_path / str(2 * i) / "meta.db")) as meta:
            usage = {(u.lease.namespace, u.lease.id): u for u in gc.lease_usage(read_metadata(meta), now_ns=now)}
        predicted.append(usage[(ns, lid)])
    out = subprocess.run([str(oracle), "gc", str(tmp_path), str(len(pairs))], check=True, capture_output=True,
                         timeout=300)
    left = [r["left"] for r in json.loads(out.stdout)]
    nonzero = 0
    for i, use in enumerate(predicted):
        dropped = _records(left[2 * i]) - _records(left[2 * i + 1])
        sizes = {(b["digest"]) : b["size"] for m in pairs[2 * i] if m["name"] == use.lease.namespace
                 for b in m["blobs"]}
        dropped_bytes = sum(sizes[ident] for kind, _ns, ident in dropped if kind == "blob")
        assert (use.only_records, use.only_bytes) == (len(dropped), dropped_bytes), (
            f"lease {use.lease.namespace}/{use.lease.id}: predicted {use.only_records} records, "
            f"{use.only_bytes} bytes; containerd drops {sorted(dropped)}; model {json.dumps(pairs[2 * i])}")
        nonzero += bool(dropped)
    assert nonzero >= 10  # the leases in these models do hold things alone


def _without_roots(model: list[dict], roots, now: int) -> list[dict]:
    """``model`` with the given root nodes taken away (lease, image, container deleted; gc.root
    label removed; an ingest's expiry moved into the past)."""
    out = json.loads(json.dumps(model))
    for t, ns, key in roots:
        (m,) = [x for x in out if x["name"] == ns]
        if t == gc.LEASE:
            m["leases"] = [x for x in m["leases"] if x["id"] != key]
        elif t == gc.IMAGE:
            m["images"] = [x for x in m["images"] if x["name"] != key]
        elif t == gc.CONTAINER:
            m["containers"] = [x for x in m["containers"] if x["id"] != key]
        elif t == gc.INGEST:
            for x in m["ingests"]:
                if x["ref"] == key:
                    x["expireat"] = now - DAY
        elif t == gc.CONTENT:
            for x in m["blobs"]:
                if x["digest"] == key:
                    x["labels"].pop("containerd.io/gc.root")
        elif t == gc.SNAPSHOT:
            for x in m["snapshots"]:
                if f"{x['snapshotter']}/{x['key']}" == key:
                    x["labels"].pop("containerd.io/gc.root")
        else:
            raise AssertionError(f"unexpected root {t, ns, key}")
    return out


def test_every_root_that_keeps_a_record_is_named(oracle, tmp_path):
    """For a kept record, containerd collects it once all the roots that why names are gone, and
    keeps it while any single one of them stays."""
    rng = random.Random(5)
    now = time.time_ns()
    cases, variants = [], []
    while len(cases) < 40:
        model = _random_model(rng, now)
        gen = tmp_path / f"probe{len(cases)}"
        subprocess.run([str(oracle), "write", str(gen)], input=json.dumps([model]).encode(), check=True,
                       capture_output=True, timeout=60)
        with bolt.ContainerdMetadata(bolt.BoltDB(gen / "0" / "meta.db")) as meta:
            run = gc.dry_run(read_metadata(meta), now_ns=now)
        kept = [v for v in run.verdicts if not v.collect and v.kind != "lease"]
        if not kept:
            continue
        v = rng.choice(kept)
        assert run.marks is not None
        roots = [r for r, _chain in run.marks.roots_keeping(gc._TYPE_OF_KIND[v.kind], v.namespace, v.id)]
        assert roots and run.every_chain(v)[0][0] == run.marks.graph.describe(roots[0], None, gc.ROOT)
        keep_one = rng.choice(roots)
        cases.append((v, len(roots)))
        variants += [_without_roots(model, roots, now),
                     _without_roots(model, [r for r in roots if r != keep_one], now)]
    work = tmp_path / "variants"
    subprocess.run([str(oracle), "write", str(work)], input=json.dumps(variants).encode(), check=True,
                   capture_output=True, timeout=300)
    out = subprocess.run([str(oracle), "gc", str(work), str(len(variants))], check=True, capture_output=True,
                         timeout=300)
    left = [r["left"] for r in json.loads(out.stdout)]
    for i, (v, n) in enumerate(cases):
        gone_all = v.id not in left[2 * i].get(v.namespace, {}).get(v.kind, [])
        kept_one = v.id in left[2 * i + 1].get(v.namespace, {}).get(v.kind, [])
        assert gone_all, f"{v.kind} {v.namespace} {v.id} survived without its {n} roots: {variants[2 * i]}"
        assert kept_one, f"{v.kind} {v.namespace} {v.id} was collected though one of its roots stayed"
    assert max(n for _v, n in cases) > 1  # some records have several roots


def test_dry_run_agrees_with_containerds_own_gc(oracle, tmp_path):
    judged = _run_scenarios(oracle, tmp_path, seed=20261207, count=60)
    assert judged > 1000  # the scenarios are not empty


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(5))
def test_dry_run_agrees_with_containerds_own_gc_many(oracle, tmp_path, seed):
    _run_scenarios(oracle, tmp_path, seed=seed, count=200)
