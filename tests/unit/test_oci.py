"""Recognising blobs: media types from magic numbers and JSON shape, and the per-digest cache."""

from __future__ import annotations

import gzip
import json
import sqlite3

import pytest
import zstandard

from store import Digest, errors, oci
from store.oci import Kind
from tests.support.images import make_tar


def dg(c: str) -> str:
    return "sha256:" + c * 64


def desc(mt, c, size=10, **extra):
    return {"mediaType": mt, "digest": dg(c), "size": size, **extra}


class CountingReader:
    """read_at that records how many bytes were asked for, to prove bounded reads."""

    def __init__(self, data: bytes):
        self.data = data
        self.read = 0

    def __call__(self, n, off):
        self.read += n
        return self.data[off:off + n]


def test_empty_blob_is_empty():
    ct = oci.sniff_bytes(b"")
    assert ct.kind == Kind.EMPTY


@pytest.mark.parametrize("compress,media_type", [
    (lambda b: b, oci.OCI_LAYER),
    (gzip.compress, oci.OCI_LAYER_GZIP),
    (lambda b: zstandard.ZstdCompressor().compress(b), oci.OCI_LAYER_ZSTD),
])
def test_layers_by_magic(compress, media_type):
    ct = oci.sniff_bytes(compress(make_tar({"etc/motd": b"hi\n"})))
    assert (ct.kind, ct.media_type) == (Kind.LAYER, media_type)


def test_empty_tar_layer_is_a_layer_even_without_ustar_magic():
    # What `tar cf - -T /dev/null | gzip` gives: zero blocks only (Docker's well-known empty layer).
    assert oci.sniff_bytes(gzip.compress(b"\0" * 1024)).media_type == oci.OCI_LAYER_GZIP
    assert oci.sniff_bytes(b"\0" * 10240).media_type == oci.OCI_LAYER


def test_compressed_non_tar_is_binary_with_a_reason():
    ct = oci.sniff_bytes(gzip.compress(b"just some text, not a tar archive"))
    assert (ct.kind, ct.media_type) == (Kind.BINARY, oci.GZIP)
    assert "tar" in ct.note
    ct = oci.sniff_bytes(zstandard.ZstdCompressor().compress(b"x" * 100))
    assert (ct.kind, ct.media_type) == (Kind.BINARY, oci.ZSTD)


def test_corrupt_gzip_is_binary_not_an_exception():
    data = bytearray(gzip.compress(make_tar({"a": b"a" * 5000})))
    data[12:40] = b"\xff" * 28
    ct = oci.sniff_bytes(bytes(data))
    assert ct.kind == Kind.BINARY and "could not be decompressed" in ct.note


def test_gzip_sniff_reads_only_a_bounded_prefix():
    import os
    big = gzip.compress(make_tar({"big": os.urandom(3 << 20)}), compresslevel=1)
    r = CountingReader(big)
    ct = oci.sniff(r, len(big))
    assert ct.kind == Kind.LAYER
    assert r.read <= 512 + 16384 * 2


def test_oci_index_with_platforms_and_annotations():
    doc = {"schemaVersion": 2, "mediaType": oci.OCI_INDEX, "manifests": [
        desc(oci.OCI_MANIFEST, "a", platform={"os": "linux", "architecture": "amd64"}),
        desc(oci.OCI_MANIFEST, "b", platform={"os": "linux", "architecture": "arm64", "variant": "v8"},
             annotations={"org.opencontainers.image.ref.name": "x:1"}),
    ]}
    ct = oci.sniff_bytes(json.dumps(doc).encode())
    assert (ct.kind, ct.media_type) == (Kind.INDEX, oci.OCI_INDEX)
    assert [d.name for d in ct.descriptors] == ["m.0", "m.1"]
    assert str(ct.descriptors[1].platform) == "linux/arm64/v8"
    assert ct.descriptors[1].annotations["org.opencontainers.image.ref.name"] == "x:1"


def test_docker_manifest_list_and_schema2_manifest():
    ml = {"schemaVersion": 2, "mediaType": oci.DOCKER_MANIFEST_LIST,
          "manifests": [desc(oci.DOCKER_MANIFEST, "a", platform={"os": "linux", "architecture": "s390x"})]}
    assert oci.sniff_bytes(json.dumps(ml).encode()).media_type == oci.DOCKER_MANIFEST_LIST
    m = {"schemaVersion": 2, "mediaType": oci.DOCKER_MANIFEST, "config": desc(oci.DOCKER_CONFIG, "c"),
         "layers": [desc(oci.DOCKER_LAYER_GZIP, "1"), desc(oci.DOCKER_LAYER_GZIP, "2")]}
    ct = oci.sniff_bytes(json.dumps(m).encode())
    assert (ct.kind, ct.media_type, ct.artifact_type) == (Kind.MANIFEST, oci.DOCKER_MANIFEST, "")
    assert [(d.name, d.digest) for d in ct.descriptors] == [("config", dg("c")), ("l.0", dg("1")), ("l.1", dg("2"))]


def test_oci_manifest_without_media_type_field_and_with_subject():
    m = {"schemaVersion": 2, "config": desc(oci.OCI_CONFIG, "c"), "layers": [],
         "subject": desc(oci.OCI_MANIFEST, "f")}
    ct = oci.classify_json(m)
    assert ct.media_type == oci.OCI_MANIFEST
    assert [(d.role, d.digest) for d in ct.descriptors] == [("config", dg("c")), ("subject", dg("f"))]


def test_artifact_manifests():
    sig = {"schemaVersion": 2, "mediaType": oci.OCI_MANIFEST,
           "config": desc("application/vnd.dev.cosign.artifact.sig.v1+json", "c"),
           "layers": [desc("application/vnd.dev.cosign.simplesigning.v1+json", "d")]}
    ct = oci.classify_json(sig)
    assert ct.kind == Kind.MANIFEST and ct.artifact_type == "application/vnd.dev.cosign.artifact.sig.v1+json"
    sbom = {"schemaVersion": 2, "mediaType": oci.OCI_MANIFEST, "artifactType": "application/spdx+json",
            "config": desc(oci.OCI_EMPTY, "4", 2), "layers": [desc("application/spdx+json", "5")]}
    assert oci.classify_json(sbom).artifact_type == "application/spdx+json"
    old = {"mediaType": oci.OCI_ARTIFACT_MANIFEST, "artifactType": "x/y", "blobs": [desc("a/b", "6")],
           "subject": desc(oci.OCI_MANIFEST, "7")}
    ct = oci.classify_json(old)
    assert (ct.media_type, ct.artifact_type) == (oci.OCI_ARTIFACT_MANIFEST, "x/y")
    assert [d.role for d in ct.descriptors] == ["blob", "subject"]


def test_image_config_oci_and_docker():
    oc = {"architecture": "arm64", "os": "linux", "variant": "v8", "rootfs": {"type": "layers", "diff_ids": []}}
    ct = oci.classify_json(oc)
    assert (ct.kind, ct.media_type, str(ct.platform)) == (Kind.CONFIG, oci.OCI_CONFIG, "linux/arm64/v8")
    dc = dict(oc, docker_version="20.10.7", container_config={})
    assert oci.classify_json(dc).media_type == oci.DOCKER_CONFIG


def test_other_json_empty_json_and_non_json_brace():
    assert oci.sniff_bytes(b'{"hello": "world"}').kind == Kind.JSON
    assert oci.sniff_bytes(b"{}").media_type == oci.OCI_EMPTY
    ct = oci.sniff_bytes(b"{ this is not json")
    assert ct.kind == Kind.BINARY and "not valid JSON" in ct.note
    ct = oci.sniff_bytes(b"{\xff\xfe}")
    assert ct.kind == Kind.BINARY
    assert oci.sniff_bytes(b"  \n[1, 2]").kind == Kind.TEXT  # only objects are looked at


def test_malformed_descriptors_are_skipped_with_a_note():
    m = {"schemaVersion": 2, "config": desc(oci.OCI_CONFIG, "c"),
         "layers": [{"digest": "sha256:../../etc/passwd", "size": 1}, "nope", desc(oci.OCI_LAYER, "1")]}
    ct = oci.classify_json(m)
    assert [d.name for d in ct.descriptors] == ["config", "l.2"]
    assert "invalid digest" in ct.note and "not an object" in ct.note


def test_huge_json_is_not_read_beyond_the_head():
    data = b'{"a": "' + b"x" * (oci.JSON_LIMIT + 10) + b'"}'
    r = CountingReader(data)
    ct = oci.sniff(r, len(data))
    assert ct.kind == Kind.JSON and "not parsed" in ct.note
    assert r.read <= 512


def test_json_is_read_once():
    m = {"schemaVersion": 2, "config": desc(oci.OCI_CONFIG, "c"),
         "layers": [desc(oci.OCI_LAYER_GZIP, str(i)) for i in range(10)]}
    data = json.dumps(m).encode()
    assert len(data) > 512
    r = CountingReader(data)
    assert oci.sniff(r, len(data)).kind == Kind.MANIFEST
    assert r.read == len(data)  # the 512-byte head is not asked for a second time


def test_text_and_binary():
    assert oci.sniff_bytes(b"hello world\n").kind == Kind.TEXT
    assert oci.sniff_bytes(bytes(range(256))).kind == Kind.BINARY
    # a multi-byte character cut at the 512-byte head is still text
    assert oci.sniff_bytes(b"a" * 511 + "é".encode() + b"b" * 100).kind == Kind.TEXT


def test_cache_round_trips_and_persists(tmp_path):
    path = tmp_path / "c" / "cache.db"
    idx = oci.classify_json({"manifests": [desc(oci.OCI_MANIFEST, "a", platform={"os": "linux", "architecture": "amd64"})]})
    cfg = oci.classify_json({"architecture": "amd64", "os": "linux", "rootfs": {}})
    with oci.MediaTypeCache(path) as c:
        c.put_many([(dg("1"), idx), (dg("2"), cfg), (dg("3"), oci.sniff_bytes(b"{bad"))])
    with oci.MediaTypeCache(path) as c:
        assert len(c) == 3
        got = c.get_many([dg("1"), dg("2"), dg("9")])
        assert set(got) == {dg("1"), dg("2")}
        assert got[dg("1")] == idx and got[dg("2")] == cfg
        assert c.get(dg("3")).note.startswith("starts with '{'")
        assert set(c.get_many()) == {dg("1"), dg("2"), dg("3")}


def test_cache_prune_drops_answers_for_deleted_blobs(tmp_path):
    with oci.MediaTypeCache(tmp_path / "cache.db") as c:
        c.put_many([(dg("1"), oci.sniff_bytes(b"x")), (dg("2"), oci.sniff_bytes(b""))])
        assert c.prune([dg("2")]) == 1
        assert set(c.get_many()) == {dg("2")}


def test_cache_ignores_answers_of_older_sniffing_rules(tmp_path):
    path = tmp_path / "cache.db"
    with oci.MediaTypeCache(path) as c:
        c.put(dg("1"), oci.sniff_bytes(b"x"))
    db = sqlite3.connect(path)
    db.execute("UPDATE media_types SET version = version - 1")
    db.commit()
    db.close()
    with oci.MediaTypeCache(path) as c:
        assert c.get(dg("1")) is None


def test_cache_on_an_unwritable_place_falls_back_to_memory(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with oci.MediaTypeCache(blocker / "sub" / "cache.db") as c:  # parent is a file: cannot be created
        c.put(dg("1"), oci.sniff_bytes(b"x"))
        assert c.get(dg("1")).kind == Kind.TEXT


def test_the_cache_of_a_deleted_store_does_not_create_the_store_again(tmp_path):
    """A store removed under the window: its media-type pass must not bring the root back."""
    import shutil

    from store import LocalStore
    root = tmp_path / "store"
    store = LocalStore(root)
    with oci.MediaTypeCache.for_store(store) as c:  # the cache lives in the store while it is there
        c.put_many([(f"sha256:{1:064x}", oci.sniff_bytes(b"x"))])
    assert (root / ".blobscope" / "cache.db").is_file()
    shutil.rmtree(root)
    with oci.MediaTypeCache.for_store(store) as c:  # gone: kept in memory, the root stays gone
        c.put_many([(f"sha256:{2:064x}", oci.sniff_bytes(b"y"))])
        assert len(c) == 1
    assert not root.exists()


def test_classify_uses_the_cache_and_reads_nothing_on_a_warm_cache(store, sh, tmp_path):
    s = store
    tar = make_tar({"f": b"x"})
    digests = [sh.write_blob(s, "ref", b"{}"), sh.write_blob(s, "ref", tar), sh.write_blob(s, "ref", b"")]
    cache = oci.MediaTypeCache(tmp_path / "cache.db")
    first = oci.classify(s, list(s.walk()), cache)
    assert {first[d].kind for d in digests} == {Kind.JSON, Kind.LAYER, Kind.EMPTY}

    class NoReads:
        def __init__(self, inner):
            self.inner = inner

        def reader_at(self, d):
            raise AssertionError(f"read {d} although its type was cached")

    again = oci.classify(NoReads(s), list(s.walk()), cache)
    assert again == first


def test_classify_takes_known_types_as_they_are_and_sniffs_only_the_rest(store, sh, tmp_path):
    s = store
    known_blob = sh.write_blob(s, "ref", b'{"a": 1}')
    other = sh.write_blob(s, "ref", make_tar({"f": b"x"}))
    given = {known_blob: oci.ContentType(oci.OCI_EMPTY, Kind.JSON)}  # deliberately not what a sniff says
    cache = oci.MediaTypeCache(tmp_path / "cache.db")
    asked = []
    get_many = cache.get_many
    cache.get_many = lambda digests: asked.extend(digests) or get_many(digests)

    class OnlyReads:
        def __init__(self, inner, allowed):
            self.inner, self.allowed = inner, allowed

        def reader_at(self, d):
            assert d == self.allowed, f"read {d} although its type was given"
            return self.inner.reader_at(d)

    result = oci.classify(OnlyReads(s, other), [known_blob, other], cache, known=given)
    assert result[known_blob] == given[known_blob] and result[other].kind == Kind.LAYER
    assert asked == [other]  # the cache is not asked for what was given


def test_classify_skips_a_blob_that_vanished_and_honours_cancel(store, sh):
    s = store
    d1 = sh.write_blob(s, "ref", b"one")
    infos = list(s.walk())
    s.delete(d1)
    assert oci.classify(s, infos, None) == {}
    sh.write_blob(s, "ref", b"two")
    with pytest.raises(errors.Cancelled):
        oci.classify(s, list(s.walk()), None, cancel=lambda: True)


def test_default_cache_path_is_in_the_root_for_a_writable_store(store):
    assert oci.default_cache_path(store) == store.root / ".blobscope" / "cache.db"


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(
        st.sampled_from(["mediaType", "manifests", "config", "layers", "digest", "size", "platform",
                         "subject", "blobs", "schemaVersion", "fsLayers", "blobSum", "rootfs",
                         "architecture", "os", "annotations", "artifactType", "x"]), kids, max_size=6),
    max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(_json)
def test_any_json_document_is_recognised_without_raising(doc):
    ct = oci.classify_json(doc)
    assert isinstance(ct.kind, Kind) and ct.media_type
    for d in ct.descriptors:  # every descriptor that survived names a valid digest
        assert Digest(d.digest) == d.digest
    cache = oci.MediaTypeCache(None)  # and the cache gives back exactly what went in
    cache.put(dg("1"), ct)
    assert cache.get(dg("1")) == ct
    cache.close()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_any_bytes_are_recognised_without_raising(data):
    ct = oci.sniff_bytes(data)
    assert ct.kind == (Kind.EMPTY if not data else ct.kind)
    for prefix in (b"\x1f\x8b", b"\x28\xb5\x2f\xfd", b"{"):
        assert isinstance(oci.sniff_bytes(prefix + data).kind, Kind)


@pytest.mark.parametrize("compress", [gzip.compress, lambda b: zstandard.ZstdCompressor(level=19).compress(b)])
def test_compression_bombs_cost_a_bounded_read(compress):
    import tracemalloc
    bomb = compress(b"\0" * (64 << 20))  # 64 MiB of zeros: at most 64 KiB compressed
    r = CountingReader(bomb)
    tracemalloc.start()
    try:
        ct = oci.sniff(r, len(bomb))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert ct.kind == Kind.LAYER  # zero blocks: what an empty tar looks like
    assert r.read <= 512 + 256 * 1024 + 16384
    assert peak < 4 << 20


def test_kind_of_media_type():
    assert oci.kind_of_media_type(oci.DOCKER_MANIFEST_LIST) == Kind.INDEX
    assert oci.kind_of_media_type(oci.DOCKER_MANIFEST_V1_SIGNED) == Kind.MANIFEST
    assert oci.kind_of_media_type(oci.DOCKER_CONFIG) == Kind.CONFIG
    assert oci.kind_of_media_type(oci.OCI_LAYER_ZSTD) == Kind.LAYER
    assert oci.kind_of_media_type(oci.JSON) is None and oci.kind_of_media_type("") is None


def test_archive_format_is_what_layers_open_by():
    tar = make_tar({"a": b"x"})
    assert oci.archive_format(tar[:512], len(tar)) == "tar"
    assert oci.archive_format(gzip.compress(tar)[:512], 100) == "gzip"
    assert oci.archive_format(zstandard.ZstdCompressor().compress(tar)[:512], 100) == "zstd"
    assert oci.archive_format(b"\0" * 512, 1024) == "tar"  # an empty layer: zero blocks only
    assert oci.archive_format(b"\0" * 512, 512) is None and oci.archive_format(b"{}", 2) is None
