"""store.bolt against files written by the real bbolt (Debian's go.etcd.io/bbolt, built here in GOPATH mode).

A small Go program builds databases with every page kind the reader must handle (branch
pages, overflow pages, inline and nested buckets, sequences, freed pages), then reads them
back with bbolt and prints the tree as JSON: that print is the oracle for our reader.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from store import bolt, errors

GO = shutil.which("go") or "/usr/bin/go"
GOCODE = Path("/usr/share/gocode/src/go.etcd.io/bbolt")

GO_SOURCE = r'''
package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"strconv"

	bolt "go.etcd.io/bbolt"
)

type node struct {
	Seq   uint64        `json:"seq"`
	Items [][2]interface{} `json:"items"`
}

func dumpBucket(b *bolt.Bucket) node {
	n := node{Seq: b.Sequence(), Items: [][2]interface{}{}}
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if v == nil {
			n.Items = append(n.Items, [2]interface{}{hex.EncodeToString(k), dumpBucket(b.Bucket(k))})
		} else {
			n.Items = append(n.Items, [2]interface{}{hex.EncodeToString(k), map[string]string{"value": hex.EncodeToString(v)}})
		}
	}
	return n
}

func dump(db *bolt.DB) {
	root := node{Items: [][2]interface{}{}}
	must(db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			root.Items = append(root.Items, [2]interface{}{hex.EncodeToString(name), dumpBucket(b)})
			return nil
		})
	}))
	out, _ := json.Marshal(map[string]interface{}{"txid": db.Stats().TxN, "tree": root})
	fmt.Println(string(out))
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func main() {
	path := os.Args[1]
	seed, _ := strconv.Atoi(os.Args[2])
	r := rand.New(rand.NewSource(int64(seed)))
	randBytes := func(n int) []byte { b := make([]byte, n); r.Read(b); return b }
	db, err := bolt.Open(path, 0600, nil)
	must(err)
	must(db.Update(func(tx *bolt.Tx) error {
		small, _ := tx.CreateBucket([]byte("small"))
		small.Put([]byte("a"), []byte("1"))
		small.Put([]byte("b"), []byte{})
		small.SetSequence(7)
		tx.CreateBucket([]byte("empty"))
		many, _ := tx.CreateBucket([]byte("many"))
		for i := 0; i < 3000; i++ {
			many.Put([]byte(fmt.Sprintf("key-%06d", i)), randBytes(r.Intn(200)))
		}
		big, _ := tx.CreateBucket([]byte("big"))
		big.Put([]byte("overflow"), randBytes(20000))
		big.Put(randBytes(3000), randBytes(9000))
		a, _ := tx.CreateBucket([]byte("a"))
		b, _ := a.CreateBucket([]byte("b"))
		c, _ := b.CreateBucket([]byte("c"))
		c.Put([]byte("deep"), []byte("value"))
		c.NextSequence()
		c.NextSequence()
		a.Put([]byte("sibling"), []byte("v"))
		mixed, _ := tx.CreateBucket([]byte("mixed"))
		for i := 0; i < 200; i++ {
			sub, _ := mixed.CreateBucket([]byte(fmt.Sprintf("sub-%04d", i)))
			for j := 0; j < r.Intn(40); j++ {
				sub.Put(randBytes(1+r.Intn(30)), randBytes(r.Intn(100)))
			}
			mixed.Put([]byte(fmt.Sprintf("val-%04d", i)), randBytes(r.Intn(50)))
		}
		return nil
	}))
	// Free pages and rewrite: later transactions reuse what earlier ones released.
	must(db.Update(func(tx *bolt.Tx) error {
		many := tx.Bucket([]byte("many"))
		for i := 0; i < 3000; i += 3 {
			many.Delete([]byte(fmt.Sprintf("key-%06d", i)))
		}
		return tx.DeleteBucket([]byte("empty"))
	}))
	must(db.Close())
	db, err = bolt.Open(path, 0600, &bolt.Options{ReadOnly: true})
	must(err)
	dump(db)
	must(db.Close())
	db, err = bolt.Open(path, 0600, nil)
	must(err)
	must(db.Update(func(tx *bolt.Tx) error {
		b, _ := tx.CreateBucketIfNotExists([]byte("last"))
		return b.Put([]byte("k"), []byte("written by the newest transaction"))
	}))
	must(db.Close())
	db, err = bolt.Open(path, 0600, &bolt.Options{ReadOnly: true})
	must(err)
	dump(db)
	must(db.Close())
}
'''


@pytest.fixture(scope="session")
def boltgen(tmp_path_factory) -> Path:
    """The Go generator, built once per source version (cached under /tmp across runs)."""
    if not GOCODE.is_dir():
        pytest.fail(f"{GOCODE} is missing: apt-get install golang-go.etcd.io-bbolt-dev (pulled in by "
                    "golang-github-containerd-containerd-dev)")
    key = hashlib.sha256(GO_SOURCE.encode()).hexdigest()[:16]
    cache = Path("/tmp/blobscope-boltgen") / key
    exe = cache / "boltgen"
    if not exe.exists():
        src = cache / "src" / "boltgen"
        src.mkdir(parents=True, exist_ok=True)
        (src / "main.go").write_text(GO_SOURCE)
        env = dict(os.environ, GO111MODULE="off", GOPATH=f"{cache / 'gopath'}:/usr/share/gocode", GOFLAGS="",
                   GOCACHE=str(cache / "gocache"))
        subprocess.run([GO, "build", "-o", str(exe) + ".tmp", "."], cwd=src, env=env, check=True,
                       capture_output=True, timeout=240)
        os.replace(str(exe) + ".tmp", exe)
    return exe


def _ours(bucket: bolt.Bucket) -> dict:
    items = []
    for key, value in bucket.items():
        if isinstance(value, bolt.Bucket):
            items.append([key.hex(), _ours(value)])
        else:
            items.append([key.hex(), {"value": value.hex()}])
    return {"seq": bucket.sequence, "items": items}


@pytest.fixture(scope="module")
def generated(boltgen, tmp_path_factory):
    path = tmp_path_factory.mktemp("bolt") / "gen.db"
    out = subprocess.run([str(boltgen), str(path), "42"], check=True, capture_output=True, text=True, timeout=120)
    before, after = (json.loads(line) for line in out.stdout.splitlines())
    return path, before, after


def test_reader_sees_exactly_what_bbolt_sees(generated):
    path, _before, after = generated
    with bolt.BoltDB(path) as db:
        tree = _ours(db.root)
    expected = after["tree"]
    assert [k for k, _ in tree["items"]] == [k for k, _ in expected["items"]]
    for (name, ours), (_, theirs) in zip(tree["items"], expected["items"]):
        assert ours == theirs, bytes.fromhex(name)


def test_fixture_has_the_page_kinds_it_claims(generated):
    """Guard the oracle: branch pages, overflow pages and inline buckets really occur in the file."""
    path, _, _ = generated
    with bolt.BoltDB(path) as db:
        many = db.root.bucket(b"many")
        small = db.root.bucket(b"small")
        big = db.root.bucket(b"big")
        assert small._root == 0 and small.sequence == 7  # inline
        _page, flags, _count = db.page(many._root)
        assert flags & bolt.BRANCH_PAGE
        overflow_pages = 0
        for pgid in range(2, db.meta.pgid):
            _id, _flags, _count, overflow = bolt.PAGE_HEADER.unpack_from(db._map, pgid * db.page_size)
            overflow_pages += overflow if _id == pgid else 0
        assert overflow_pages > 0
        assert len(big.get(b"overflow")) == 20000
        assert db.root.bucket(b"a", b"b", b"c").get(b"deep") == b"value"
        assert db.root.bucket(b"a", b"b", b"c").sequence == 2
        assert db.root.bucket(b"empty") is None  # deleted in the second transaction


def _check_lookups(bucket: bolt.Bucket, oracle: dict) -> int:
    """get/bucket of every key bbolt listed (and of keys around them that it did not) agree with bbolt."""
    keys = {bytes.fromhex(k) for k, _ in oracle["items"]}
    checked = 0
    for hexkey, item in oracle["items"]:
        key = bytes.fromhex(hexkey)
        if "value" in item:
            assert bucket.get(key) == bytes.fromhex(item["value"]) and bucket.bucket(key) is None, key
        else:
            sub = bucket.bucket(key)
            assert bucket.get(key) is None and sub is not None and sub.sequence == item["seq"], key
            checked += _check_lookups(sub, item)
        for absent in (key + b"\0", key[:-1]):
            if absent not in keys:
                assert bucket.get(absent) is None and bucket.bucket(absent) is None, absent
        checked += 1
    for absent in (b"", b"\xff" * 9):
        if absent not in keys:
            assert bucket.get(absent) is None and bucket.bucket(absent) is None
    return checked


def test_lookups_by_key_find_what_bbolt_lists(generated):
    """get and bucket descend branch pages by key: every key (thousands, over many pages) is found."""
    path, _, after = generated
    with bolt.BoltDB(path) as db:
        assert _check_lookups(db.root, after["tree"]) > 3000


def _meta_offset(db: bolt.BoltDB, newest: bool) -> int:
    m0 = bolt._parse_meta(db._map, 0)
    m1 = bolt._parse_meta(db._map, db.page_size)
    pick = 0 if (m0.txid > m1.txid) == newest else 1
    return pick * db.page_size


def test_a_torn_newest_meta_falls_back_to_the_previous_transaction(generated, tmp_path):
    path, before, after = generated
    damaged = tmp_path / "torn.db"
    shutil.copyfile(path, damaged)
    with bolt.BoltDB(damaged) as db:
        newest_txid = db.meta.txid
        at = _meta_offset(db, newest=True)
    with open(damaged, "r+b") as f:  # flip one byte of the newest meta's txid: its checksum no longer matches
        f.seek(at + bolt.PAGE_HEADER.size + 48)
        b = f.read(1)
        f.seek(at + bolt.PAGE_HEADER.size + 48)
        f.write(bytes([b[0] ^ 0xFF]))
    with bolt.BoltDB(damaged) as db:
        assert db.meta.txid == newest_txid - 1
        tree = _ours(db.root)
    assert tree == before["tree"]
    assert "last".encode().hex() not in [k for k, _ in tree["items"]]
    assert "last".encode().hex() in [k for k, _ in after["tree"]["items"]]


def test_both_metas_damaged_is_a_clear_error(generated, tmp_path):
    path, _, _ = generated
    damaged = tmp_path / "dead.db"
    data = bytearray(path.read_bytes())
    with bolt.BoltDB(path) as db:
        ps = db.page_size
    for at in (0, ps):
        data[at + 16] ^= 0xFF  # the magic
    damaged.write_bytes(bytes(data))
    with pytest.raises(bolt.BoltError, match="both of its meta pages are damaged"):
        bolt.BoltDB(damaged)


def test_truncated_copy_fails_with_a_sentence_not_garbage(generated, tmp_path):
    path, _, _ = generated
    cut = tmp_path / "cut.db"
    cut.write_bytes(path.read_bytes()[: 6 * 4096])
    with pytest.raises(bolt.BoltError, match="is truncated"):
        bolt.BoltDB(cut)


def test_not_a_bolt_file(tmp_path):
    p = tmp_path / "x.db"
    p.write_bytes(b"SQLite format 3\0" + bytes(8192))
    with pytest.raises(bolt.BoltError, match="not a bolt database"):
        bolt.BoltDB(p)
    tiny = tmp_path / "tiny.db"
    tiny.write_bytes(b"abc")
    with pytest.raises(bolt.BoltError, match="only 3 bytes"):
        bolt.BoltDB(tiny)


def test_open_copy_never_maps_the_original_and_removes_its_copy(generated):
    path, _, after = generated
    before_stat = path.stat()
    db = bolt.open_copy(path)
    try:
        assert db.path != path and db.path.exists()
        assert _ours(db.root) == after["tree"]
        copy_dir = db.path.parent
    finally:
        db.close()
    assert not copy_dir.exists()
    assert path.stat().st_mtime_ns == before_stat.st_mtime_ns


def test_a_locked_database_is_refused_and_the_holder_named(generated):
    path, _, _ = generated
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # what bbolt (the daemon) holds while open
        with pytest.raises(bolt.DatabaseLocked) as exc:
            bolt.open_copy(path)
        assert exc.value.holder_pid == os.getpid()
        assert f"locked by process {os.getpid()}" in str(exc.value)
        assert "--address" in str(exc.value)
        assert isinstance(exc.value, errors.FailedPrecondition)
        # The caller may insist (a forensic copy), and still gets a readable database.
        with bolt.open_copy(path, allow_locked=True) as db:
            assert db.root.bucket(b"small").get(b"a") == b"1"
    finally:
        os.close(fd)
    with bolt.open_copy(path) as db:  # lock gone: fine again
        assert db.meta.txid > 0


def test_missing_file_is_not_found(tmp_path):
    with pytest.raises(errors.NotFound, match="no bolt database"):
        bolt.open_copy(tmp_path / "nope.db")


# -- Go encodings ---------------------------------------------------------------------------


def _go_marshal_time(unix_ns: int, offset_min: int = -1) -> bytes:
    sec, nsec = divmod(unix_ns, 1_000_000_000)
    return bytes([1]) + struct.pack(">qih", sec + 62135596800, nsec, offset_min)


@pytest.mark.parametrize("ns", [0, 1, 1_795_820_425_146_132_545, -1_000_000_001, 253402300799_999999999])
def test_go_time_round_trips_nanoseconds(ns):
    assert bolt.go_time(_go_marshal_time(ns)).ns == ns


def test_go_time_from_containerds_file():
    # createdat bytes from a meta.db written by containerd 1.6.20 (containerd-store.md §6.3 layout, UTC = -1)
    raw = bytes.fromhex("010000000ee29c02ee1a75410bffff")
    t = bolt.go_time(raw)
    assert t.isoformat_ns() == "2026-11-27T23:02:06.443891979Z"


def test_go_time_rejects_garbage():
    with pytest.raises(bolt.BoltError):
        bolt.go_time(b"\x07" + bytes(14))
    with pytest.raises(bolt.BoltError):
        bolt.go_time(b"\x01\x00")


# Values and encodings as Go's binary.PutVarint prints them.
@pytest.mark.parametrize("value, encoded", [(0, "00"), (12, "18"), (-1, "01"), (1, "02"), (64, "8001"),
                                            (500_000_000, "8094ebdc03"), (-(1 << 62), "ffffffffffffffff7f")])
def test_go_varint_is_zigzag(value, encoded):
    assert bolt.go_varint(bytes.fromhex(encoded)) == value


def test_go_varint_rejects_trailing_bytes_and_overlong():
    with pytest.raises(bolt.BoltError):
        bolt.go_varint(bytes.fromhex("1800"))
    with pytest.raises(bolt.BoltError):
        bolt.go_varint(b"\xff" * 11)


def test_a_copy_is_removed_even_when_nobody_closes_it(generated):
    import gc

    path, _, _ = generated
    db = bolt.open_copy(path)
    copy_dir = db.path.parent
    assert copy_dir.exists()
    del db
    gc.collect()
    assert not copy_dir.exists()
