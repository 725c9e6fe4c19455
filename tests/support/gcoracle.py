"""A small Go program built from Debian's containerd 1.6 sources (GOPATH mode): it writes models as
real ``meta.db`` files with bbolt in the layout of ``metadata/buckets.go``, and runs containerd's
own ``metadata.DB.GarbageCollect`` on them -- the oracle for store/disk/gc.py.

    gcoracle write DIR < JSON list of models   -> DIR/<i>/meta.db
    gcoracle gc DIR N                           -> JSON list of {"left": {ns: {kind: [ids]}}, "seconds": GC time}

A model is a list of namespaces ``{"name", "images", "containers", "leases", "blobs", "ingests",
"snapshots"}`` (see the Go structs); ``raw`` on a blob, lease or ingest puts hex-encoded bytes
under the given keys of its record as they are (damaged fields for the bad-input tests).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

GO = shutil.which("go") or "/usr/bin/go"
GOCODE = Path("/usr/share/gocode/src/github.com/containerd/containerd/metadata")

GO_SOURCE = r'''
package main

import (
	"context"
	"encoding/binary"
	"encoding/hex"
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
	Raw       map[string]string `json:"raw"`
}
type blob struct {
	Digest string            `json:"digest"`
	Size   int64             `json:"size"`
	Labels map[string]string `json:"labels"`
	Raw    map[string]string `json:"raw"`
}
type ingest struct {
	Ref      string `json:"ref"`
	Bref     string `json:"bref"`
	ExpireAt *int64 `json:"expireat"`
	Expected string            `json:"expected"`
	Raw      map[string]string `json:"raw"`
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

// varint is a fresh slice each time: bbolt keeps the value until the transaction commits.
func varint(n int64) []byte {
	v := make([]byte, binary.MaxVarintLen64)
	return v[:binary.PutVarint(v, n)]
}

func labels(b *bolt.Bucket, l map[string]string) {
	if len(l) == 0 {
		return
	}
	lb := bucket(b, "labels")
	for k, v := range l {
		put(lb, k, []byte(v))
	}
}

func raw(b *bolt.Bucket, r map[string]string) {
	for k, v := range r {
		data, err := hex.DecodeString(v)
		must(err)
		put(b, k, data)
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
		put(top, "version", varint(3))
		for _, ns := range nss {
			nb := bucket(top, ns.Name)
			for _, im := range ns.Images {
				b := bucket(nb, "images", im.Name)
				stamp(b)
				if im.Target != nil {
					t := bucket(b, "target")
					put(t, "digest", []byte(*im.Target))
					put(t, "mediatype", []byte("application/vnd.oci.image.manifest.v1+json"))
					put(t, "size", varint(1))
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
				raw(b, l.Raw)
			}
			for _, bl := range ns.Blobs {
				b := bucket(nb, "content", "blob", bl.Digest)
				stamp(b)
				put(b, "size", varint(bl.Size))
				labels(b, bl.Labels)
				raw(b, bl.Raw)
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
				raw(b, in.Raw)
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
	// gcoracle gc DIR N                            -> JSON list of what is left after containerd's GC, and its time
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
			t := time.Now()
			_, err = metadata.NewDB(db, cs, nil).GarbageCollect(context.Background())
			took := time.Since(t).Seconds()
			must(err)
			must(db.Close())
			out = append(out, map[string]interface{}{"left": left(filepath.Join(p, "meta.db")), "seconds": took})
		}
		must(json.NewEncoder(os.Stdout).Encode(out))
	}
}
'''


def build() -> Path:
    """The program, built once per source version (cached under /tmp across runs).

    Raises RuntimeError naming the package when containerd's Go sources are missing.
    """
    if not GOCODE.is_dir():
        raise RuntimeError(f"{GOCODE} is missing: apt-get install golang-github-containerd-containerd-dev")
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
