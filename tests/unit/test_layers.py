"""Layer file lists and file previews, read streaming from plain, gzip and zstd layers."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
import tracemalloc

import pytest
import zstandard

from store import errors, layers
from tests.support.images import make_tar


def add_file(t, name, data: bytes, mode=0o644):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mode = mode
    ti.mtime = 1700000000
    t.addfile(ti, io.BytesIO(data))


def add_special(t, name, type_, linkname=""):
    ti = tarfile.TarInfo(name)
    ti.type = type_
    ti.linkname = linkname
    ti.mode = 0o755
    t.addfile(ti)


def sample_tar() -> bytes:
    def add(t):
        add_special(t, "./etc", tarfile.DIRTYPE)
        add_file(t, "./etc/motd", b"hello from the layer\n")
        add_file(t, "./bin/busybox", b"\x7fELF" + b"\0" * 2000, 0o755)
        add_special(t, "./bin/sh", tarfile.SYMTYPE, "busybox")
        add_special(t, "./bin/ash", tarfile.LNKTYPE, "./bin/busybox")
        add_special(t, "./etc/.wh.old.conf", tarfile.REGTYPE)
        add_file(t, "./etc/hostname.link.target", b"x")
        add_special(t, "./etc/hostname", tarfile.LNKTYPE, "etc/hostname.link.target")
    return make_tar(add=add)


COMPRESSORS = {
    "tar": lambda b: b,
    "gzip": lambda b: gzip.compress(b, mtime=0),
    "zstd": lambda b: zstandard.ZstdCompressor().compress(b),
}


@pytest.fixture
def put(store, sh):
    """Commit bytes to the test's store (conftest's ``store`` and ``write_blob``); returns the digest."""
    return lambda data: sh.write_blob(store, "layer", data)


@pytest.mark.parametrize("compression", sorted(COMPRESSORS))
def test_list_entries_of_each_compression(store, compression, put):
    d = put(COMPRESSORS[compression](sample_tar()))
    entries, cut = layers.list_layer(store, d)
    assert not cut
    by_path = {e.path: e for e in entries}
    assert list(by_path)[:4] == ["etc", "etc/motd", "bin/busybox", "bin/sh"]
    assert by_path["etc"].type == "dir"
    assert (by_path["etc/motd"].type, by_path["etc/motd"].size) == ("file", 21)
    assert by_path["bin/busybox"].mode == 0o755 and by_path["bin/busybox"].mtime == 1700000000
    assert (by_path["bin/sh"].type, by_path["bin/sh"].linkname) == ("symlink", "busybox")
    assert by_path["bin/ash"].type == "hardlink"
    assert by_path["etc/.wh.old.conf"].whiteout
    assert not by_path["etc/motd"].whiteout


@pytest.mark.parametrize("compression", sorted(COMPRESSORS))
def test_read_a_file_and_follow_a_hard_link(store, compression, put):
    d = put(COMPRESSORS[compression](sample_tar()))
    f = layers.read_layer_file(store, d, "/etc/motd")
    assert (f.data, f.size, f.truncated, f.is_text) == (b"hello from the layer\n", 21, False, True)
    assert f.text() == "hello from the layer\n"
    # ./bin/ash is a hard link to an earlier member: a second pass reads the target
    ash = layers.read_layer_file(store, d, "bin/ash")
    assert ash.data.startswith(b"\x7fELF") and not ash.is_text
    # a hard link whose target comes earlier under another spelling
    assert layers.read_layer_file(store, d, "etc/hostname").data == b"x"


def test_preview_is_bounded(store, put):
    d = put(gzip.compress(make_tar({"big.txt": b"line\n" * 100000})))
    f = layers.read_layer_file(store, d, "big.txt", max_bytes=1000)
    assert len(f.data) == 1000 and f.truncated and f.size == 500000


def test_missing_file_and_non_file_are_not_found(store, put):
    d = put(sample_tar())
    with pytest.raises(errors.NotFound, match="has no file 'nope'"):
        layers.read_layer_file(store, d, "nope")
    with pytest.raises(errors.NotFound, match="is a dir"):
        layers.read_layer_file(store, d, "etc")
    with pytest.raises(errors.NotFound, match="is a symlink"):
        layers.read_layer_file(store, d, "bin/sh")


def test_not_a_layer(store, put):
    d = put(b'{"not": "a layer"}')
    with pytest.raises(layers.NotALayer, match="is not a layer"):
        layers.list_layer(store, d)
    gz = put(gzip.compress(b"plain text, not tar " * 50))
    with pytest.raises(layers.NotALayer):
        layers.list_layer(store, gz)


def test_truncated_layer_yields_what_it_could_then_fails(store, put):
    full = gzip.compress(make_tar({f"f{i}": os.urandom(4096) for i in range(50)}))
    d = put(full[: len(full) // 2])
    got = []
    with pytest.raises(layers.NotALayer, match="damaged"):
        for e in layers.iter_layer(store, d):
            got.append(e.path)
    assert 5 < len(got) < 50
    # looking for a file past the damage says how far the read got, as the listing does
    with pytest.raises(layers.NotALayer, match=f"damaged after {len(got)} entries"):
        layers.read_layer_file(store, d, "f49")


def test_limit_and_cancel(store, put):
    d = put(make_tar({f"f{i}": b"x" for i in range(100)}))
    entries, cut = layers.list_layer(store, d, limit=10)
    assert len(entries) == 10 and cut
    calls = []
    with pytest.raises(errors.Cancelled):
        layers.list_layer(store, d, cancel=lambda: calls.append(1) or len(calls) > 1)


def test_listing_streams_without_holding_the_layer_in_memory(store, tmp_path, put):
    # ~48 MiB of incompressible file data in a zstd layer; the listing must not buffer it.
    data = zstandard.ZstdCompressor(level=1).compress(make_tar({f"blob{i}": os.urandom(8 << 20) for i in range(6)}))
    d = put(data)
    del data
    tracemalloc.start()
    try:
        entries, _ = layers.list_layer(store, d)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [e.size for e in entries] == [8 << 20] * 6
    assert peak < 16 << 20, f"peak {peak} bytes while listing a 48 MiB layer"


def test_normalise():
    assert layers.normalise("./a/b/") == "a/b"
    assert layers.normalise("/../etc/passwd") == "etc/passwd"
    assert layers.normalise("./") == ""


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_layers_in_several_frames_or_members(store, compression, put):
    """zstd:chunked-style layers are many zstd frames; some gzip writers emit several members."""
    tar = make_tar({f"f{i}": os.urandom(3000) for i in range(20)})
    cuts = [0, 7001, 30000, len(tar)]
    data = b"".join(COMPRESSORS[compression](tar[a:b]) for a, b in zip(cuts, cuts[1:]))
    d = put(data)
    entries, _ = layers.list_layer(store, d)
    assert [e.path for e in entries] == [f"f{i}" for i in range(20)]
    assert len(layers.read_layer_file(store, d, "f19").data) == 3000
