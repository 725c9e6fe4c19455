"""The GC dry run against containerd 1.6's own garbage collector, run offline on random meta.db files.

A small Go program built from Debian's containerd sources (GOPATH mode) writes each random
model as a real ``meta.db`` with bbolt, in the bucket layout of ``metadata/buckets.go``; our
reader (store/disk/metadata.py) reads it back and our engine predicts; then the same program
runs ``metadata.DB.GarbageCollect`` -- containerd's own code, the one the daemon runs -- on the
file and lists what is left.  Every record predicted collectable must be gone, every other
one still there.  (The daemon-level proof, with real images and snapshots, is the gcproof suite.)
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from store import bolt
from store.disk import gc
from store.disk.metadata import read_metadata

GO = shutil.which("go") or "/usr/bin/go"
GOCODE = Path("/usr/share/gocode/src/github.com/containerd/containerd/metadata")

GO_SOURCE = r'''
package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/containerd/containerd/content/local"
	"github.com/containerd/containerd/metadata"
	bolt "go.etcd.io/bbolt"
)

type image struct {
	Name   string            `json:"name"`
	Target *string           `json:"target"`
	Labels map[string]string `json:"labels"`
}
type container struct {
	ID          string            `json:"id"`
	Snapshotter string            `json:"snapshotter"`
	Key         string            `json:"key"`
	Labels      map[string]string `json:"labels"`
}
type lease struct {
	ID        string            `json:"id"`
	Labels    map[string]string `json:"labels"`
	Content   []string          `json:"content"`
	Snapshots [][2]string       `json:"snapshots"`
	Ingests   []string          `json:"ingests"`
}
type blob struct {
	Digest string            `json:"digest"`
	Size   int64             `json:"size"`
	Labels map[string]string `json:"labels"`
}
type ingest struct {
	Ref      string `json:"ref"`
	Bref     string `json:"bref"`
	ExpireAt *int64 `json:"expireat"`
	Expected string `json:"expected"`
}
type snapshot struct {
	Snapshotter string            `json:"snapshotter"`
	Key         string            `json:"key"`
	Name        string            `json:"name"`
	Parent      string            `json:"parent"`
	Labels      map[string]string `json:"labels"`
}
type namespace struct {
	Name       string      `json:"name"`
	Images     []image     `json:"images"`
	Containers []container `json:"containers"`
	Leases     []lease     `json:"leases"`
	Blobs      []blob      `json:"blobs"`
	Ingests    []ingest    `json:"ingests"`
	Snapshots  []snapshot  `json:"snapshots"`
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func bucket(b *bolt.Bucket, keys ...string) *bolt.Bucket {
	for _, k := range keys {
		n, err := b.CreateBucketIfNotExists([]byte(k))
		must(err)
		b = n
	}
	return b
}

func put(b *bolt.Bucket, k string, v []byte) { must(b.Put([]byte(k), v)) }

func labels(b *bolt.Bucket, l map[string]string) {
	if len(l) == 0 {
		return
	}
	lb := bucket(b, "labels")
	for k, v := range l {
		put(lb, k, []byte(v))
	}
}

func stamp(b *bolt.Bucket) {
	t, err := time.Unix(1700000000, 123).UTC().MarshalBinary()
	must(err)
	put(b, "createdat", t)
	put(b, "updatedat", t)
}

func write(path string, nss []namespace) {
	db, err := bolt.Open(path, 0600, nil)
	must(err)
	must(db.Update(func(tx *bolt.Tx) error {
		top, err := tx.CreateBucketIfNotExists([]byte("v1"))
		must(err)
		v := make([]byte, binary.MaxVarintLen64)
		put(top, "version", v[:binary.PutVarint(v, 3)])
		for _, ns := range nss {
			nb := bucket(top, ns.Name)
			for _, im := range ns.Images {
				b := bucket(nb, "images", im.Name)
				stamp(b)
				if im.Target != nil {
					t := bucket(b, "target")
					put(t, "digest", []byte(*im.Target))
					put(t, "mediatype", []byte("application/vnd.oci.image.manifest.v1+json"))
					put(t, "size", v[:binary.PutVarint(v, 1)])
				}
				labels(b, im.Labels)
			}
			for _, c := range ns.Containers {
				b := bucket(nb, "containers", c.ID)
				stamp(b)
				put(b, "image", []byte("img"))
				if c.Snapshotter != "" {
					put(b, "snapshotter", []byte(c.Snapshotter))
					put(b, "snapshotKey", []byte(c.Key))
				}
				labels(b, c.Labels)
			}
			for _, l := range ns.Leases {
				b := bucket(nb, "leases", l.ID)
				stamp(b)
				labels(b, l.Labels)
				for _, d := range l.Content {
					put(bucket(b, "content"), d, nil)
				}
				for _, s := range l.Snapshots {
					put(bucket(b, "snapshots", s[0]), s[1], nil)
				}
				for _, r := range l.Ingests {
					put(bucket(b, "ingests"), r, nil)
				}
			}
			for _, bl := range ns.Blobs {
				b := bucket(nb, "content", "blob", bl.Digest)
				stamp(b)
				put(b, "size", v[:binary.PutVarint(v, bl.Size)])
				labels(b, bl.Labels)
			}
			for _, in := range ns.Ingests {
				b := bucket(nb, "content", "ingests", in.Ref)
				put(b, "ref", []byte(in.Bref))
				if in.ExpireAt != nil {
					t, err := time.Unix(0, *in.ExpireAt).UTC().MarshalBinary()
					must(err)
					put(b, "expireat", t)
				}
				if in.Expected != "" {
					put(b, "expected", []byte(in.Expected))
				}
			}
			for _, s := range ns.Snapshots {
				b := bucket(nb, "snapshots", s.Snapshotter, s.Key)
				stamp(b)
				put(b, "name", []byte(s.Name))
				if s.Parent != "" {
					put(b, "parent", []byte(s.Parent))
				}
				labels(b, s.Labels)
			}
		}
		return nil
	}))
	must(db.Close())
}

func left(path string) map[string]map[string][]string {
	db, err := bolt.Open(path, 0600, nil)
	must(err)
	defer db.Close()
	out := map[string]map[string][]string{}
	must(db.View(func(tx *bolt.Tx) error {
		top := tx.Bucket([]byte("v1"))
		return top.ForEach(func(ns, v []byte) error {
			if v != nil {
				return nil
			}
			got := map[string][]string{"blob": {}, "snapshot": {}, "lease": {}, "ingest": {}}
			nb := top.Bucket(ns)
			each := func(b *bolt.Bucket, kind, prefix string) {
				if b == nil {
					return
				}
				b.ForEach(func(k, v []byte) error {
					if v == nil {
						got[kind] = append(got[kind], prefix+string(k))
					}
					return nil
				})
			}
			if cb := nb.Bucket([]byte("content")); cb != nil {
				each(cb.Bucket([]byte("blob")), "blob", "")
				each(cb.Bucket([]byte("ingests")), "ingest", "")
			}
			each(nb.Bucket([]byte("leases")), "lease", "")
			if sb := nb.Bucket([]byte("snapshots")); sb != nil {
				sb.ForEach(func(sn, v []byte) error {
					if v == nil {
						each(sb.Bucket(sn), "snapshot", string(sn)+"/")
					}
					return nil
				})
			}
			out[string(ns)] = got
			return nil
		})
	}))
	return out
}

func main() {
	// gcoracle write DIR < [[namespace...]...]   -> DIR/<i>/meta.db
	// gcoracle gc DIR N                            -> JSON list of what is left after containerd's GC
	dir := os.Args[2]
	switch os.Args[1] {
	case "write":
		var models [][]namespace
		must(json.NewDecoder(os.Stdin).Decode(&models))
		for i, m := range models {
			p := filepath.Join(dir, fmt.Sprint(i))
			must(os.MkdirAll(p, 0700))
			write(filepath.Join(p, "meta.db"), m)
		}
	case "gc":
		var n int
		fmt.Sscan(os.Args[3], &n)
		var out []interface{}
		for i := 0; i < n; i++ {
			p := filepath.Join(dir, fmt.Sprint(i))
			db, err := bolt.Open(filepath.Join(p, "meta.db"), 0600, nil)
			must(err)
			cs, err := local.NewStore(filepath.Join(p, "content"))
			must(err)
			_, err = metadata.NewDB(db, cs, nil).GarbageCollect(context.Background())
			must(err)
			must(db.Close())
			out = append(out, left(filepath.Join(p, "meta.db")))
		}
		must(json.NewEncoder(os.Stdout).Encode(out))
	}
}
'''


@pytest.fixture(scope="session")
def oracle() -> Path:
    """The Go program, built once per source version (cached under /tmp across runs)."""
    if not GOCODE.is_dir():
        pytest.fail(f"{GOCODE} is missing: apt-get install golang-github-containerd-containerd-dev")
    key = hashlib.sha256(GO_SOURCE.encode()).hexdigest()[:16]
    cache = Path("/tmp/blobscope-gcoracle") / key
    exe = cache / "gcoracle"
    if not exe.exists():
        src = cache / "src" / "gcoracle"
        src.mkdir(parents=True, exist_ok=True)
        (src / "main.go").write_text(GO_SOURCE)
        env = dict(os.environ, GO111MODULE="off", GOPATH=f"{cache / 'gopath'}:/usr/share/gocode", GOFLAGS="",
                   GOCACHE=str(cache / "gocache"))
        subprocess.run([GO, "build", "-o", str(exe) + ".tmp", "."], cwd=src, env=env, check=True,
                       capture_output=True, timeout=600)
        os.replace(str(exe) + ".tmp", exe)
    return exe


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
    left = json.loads(out.stdout)
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


def test_dry_run_agrees_with_containerds_own_gc(oracle, tmp_path):
    judged = _run_scenarios(oracle, tmp_path, seed=20261207, count=60)
    assert judged > 1000  # the scenarios are not empty


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(5))
def test_dry_run_agrees_with_containerds_own_gc_many(oracle, tmp_path, seed):
    _run_scenarios(oracle, tmp_path, seed=seed, count=200)
