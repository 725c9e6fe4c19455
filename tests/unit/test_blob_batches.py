"""``LocalStore.walk_batches``: the same blobs as ``walk``, as columns, in directory order."""

from __future__ import annotations

import hashlib
import os

from store import Digest, LocalStore


def _fill(root, n: int, labelled=(), alg: str = "sha256") -> LocalStore:
    store = LocalStore(root)
    d = root / "blobs" / alg
    d.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        data = f"blob {i}".encode()
        (d / hashlib.new(alg, data).hexdigest()).write_bytes(data)
    for i in labelled:
        digest = Digest(f"{alg}:" + hashlib.new(alg, f"blob {i}".encode()).hexdigest())
        store.labels.set(digest, {"containerd.io/gc.root": "now", "index": str(i)})
    return store


def _as_walk(store: LocalStore, **kw) -> list[tuple]:
    out = []
    for batch in store.walk_batches(**kw):
        for i, name in enumerate(batch.names):
            out.append((f"{batch.alg}:{name}", batch.sizes[i], batch.created_ns[i], batch.updated_ns[i],
                        batch.labels.get(i, {})))
    return out


def _walk(store: LocalStore) -> list[tuple]:
    return [(str(i.digest), i.size, i.created_ns, i.updated_ns, i.labels) for i in store.walk()]


def test_batches_hold_exactly_what_walk_lists(tmp_path):
    store = _fill(tmp_path / "s", 1234, labelled=range(0, 1234, 97))
    _fill(tmp_path / "s", 5, labelled=[2], alg="sha512")
    got = _as_walk(store, first=10, size=100)
    assert len(got) == 1239 and len({g[0] for g in got}) == 1239
    assert sorted(got) == _walk(store)
    assert sum(1 for g in got if g[4]) == 13 + 1


def test_first_batch_is_small_and_later_ones_bounded(tmp_path):
    store = _fill(tmp_path / "s", 450)
    sizes = [len(b) for b in store.walk_batches(first=7, size=100)]
    assert sizes[0] == 7 and max(sizes) == 100 and sum(sizes) == 450


def test_iterating_a_batch_gives_walk_records(tmp_path):
    store = _fill(tmp_path / "s", 30, labelled=[3])
    infos = [info for batch in store.walk_batches(first=4, size=8) for info in batch]
    assert sorted(infos, key=lambda i: str(i.digest)) == list(store.walk())


def test_strays_are_skipped_as_walk_skips_them(tmp_path):
    store = _fill(tmp_path / "s", 20)
    d = tmp_path / "s" / "blobs" / "sha256"
    (d / "not-a-digest").write_bytes(b"x")
    (d / ("A" * 64)).write_bytes(b"upper case")
    os.mkdir(d / ("0" * 64))
    os.symlink(next(iter(os.listdir(d))), d / ("1" * 64))
    strays: list = []
    want = [(str(i.digest), i.size) for i in store.walk(strays=strays)]
    assert len(want) == 20 and len(strays) == 4
    assert sorted((g[0], g[1]) for g in _as_walk(store, first=3, size=5)) == want


def test_a_store_without_blobs_yields_nothing(tmp_path):
    assert list(LocalStore(tmp_path / "fresh").walk_batches()) == []
    (tmp_path / "empty" / "blobs" / "sha256").mkdir(parents=True)
    assert list(LocalStore(tmp_path / "empty").walk_batches()) == []
