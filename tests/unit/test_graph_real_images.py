"""The graph, media types and layer lists on images made by real tools: umoci, and skopeo copies.

The layouts' blobs are imported into a LocalStore with the labels ``ctr images import`` puts on
content (index -> ``m.<i>``, manifest -> ``config`` + ``l.<i>``).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from store import LocalStore, layers, oci
from store import graph as G
from store.oci import Kind
from tests.support.images import describe_layout, import_layout, make_oci_layout

NAME = "example.org/fixture/busybox:1.0"


def skopeo_copy(src: Path, dst: Path, *extra: str) -> Path:
    subprocess.run(["skopeo", "copy", "--quiet", *extra, f"oci:{src}:{NAME}", f"oci:{dst}:{NAME}"],
                   check=True, capture_output=True, text=True, timeout=120)
    return dst


@pytest.fixture(scope="module")
def layouts(tmp_path_factory):
    """One umoci image for two platforms, and skopeo copies of it (as is, and recompressed to zstd)."""
    base = tmp_path_factory.mktemp("images")
    umoci = make_oci_layout(base, NAME, platforms=("amd64", "arm64"), motd="hello from umoci\n")
    plain = skopeo_copy(umoci, base / "copy", "--all")
    zstd = skopeo_copy(umoci, base / "zstd", "--all", "--dest-compress", "--dest-compress-format", "zstd")
    return {"umoci": umoci, "copy": plain, "zstd": zstd}


def test_umoci_image_tree_media_types_and_labels(tmp_path, layouts):
    store = LocalStore(tmp_path / "content")
    import_layout(store, layouts["umoci"])
    want = describe_layout(layouts["umoci"])
    cache = oci.MediaTypeCache(tmp_path / "cache.db")
    g = G.load_graph(store, cache)

    assert [r.digest for r in g.image_roots()] == [want.index]
    types = g.blob_types()
    assert types[want.index] == (oci.OCI_INDEX, "index")
    for arch in ("amd64", "arm64"):
        assert types[want.manifests[arch]] == (oci.OCI_MANIFEST, "manifest")
        assert types[want.configs[arch]] == (oci.OCI_CONFIG, "config")
        for layer in want.layers[arch]:
            assert types[layer] == (oci.OCI_LAYER_GZIP, "layer")
            assert cache.get(layer).kind == Kind.LAYER  # sniffed from the bytes too, not only declared

    t = g.tree(want.index)
    assert [(c.name, str(c.platform), c.digest) for c in t.children] == [
        ("m.0", "linux/amd64", want.manifests["amd64"]), ("m.1", "linux/arm64", want.manifests["arm64"])]
    amd = t.children[0]
    assert [c.digest for c in amd.children] == [want.configs["amd64"], *want.layers["amd64"]]
    assert str(amd.children[0].platform) == "linux/amd64"  # from the config itself
    for e in g.children(want.manifests["arm64"]):
        assert set(e.sources) == {G.FROM_LABEL, G.FROM_MANIFEST}
    assert g.reclaimable() == [] and g.missing() == [] and g.cycles() == []
    [img] = g.images()
    assert img.total == sum(i.size for i in store.walk()) and img.unique == img.total


def test_umoci_layers_list_and_preview(tmp_path, layouts):
    store = LocalStore(tmp_path / "content")
    import_layout(store, layouts["umoci"])
    want = describe_layout(layouts["umoci"])
    busybox_layer, motd_layer = want.layers["amd64"]
    entries, _ = layers.list_layer(store, busybox_layer)
    by_path = {e.path: e for e in entries}
    assert by_path["bin/sh"].type == "symlink" and by_path["bin/sh"].linkname == "busybox"
    assert by_path["bin/busybox"].size > 100_000
    assert layers.read_layer_file(store, motd_layer, "etc/motd").text() == "hello from umoci\n"
    assert not layers.read_layer_file(store, busybox_layer, "bin/busybox", max_bytes=64).is_text


def test_skopeo_copy_keeps_the_graph(tmp_path, layouts):
    store = LocalStore(tmp_path / "content")
    import_layout(store, layouts["copy"])
    want = describe_layout(layouts["copy"])
    g = G.load_graph(store, oci.MediaTypeCache(None))
    assert [r.digest for r in g.image_roots()] == [want.index]
    assert {c.digest for c in g.tree(want.index).children} == set(want.manifests.values())


def test_skopeo_zstd_copy_shares_configs_with_the_gzip_image(tmp_path, layouts):
    store = LocalStore(tmp_path / "content")
    gzip_blobs = import_layout(store, layouts["umoci"])
    import_layout(store, layouts["zstd"], skip=gzip_blobs.keys())  # the configs both hold
    gz, zs = describe_layout(layouts["umoci"]), describe_layout(layouts["zstd"])
    g = G.load_graph(store, oci.MediaTypeCache(None))
    assert {r.digest for r in g.image_roots()} == {gz.index, zs.index}
    for layer in zs.layers["amd64"]:
        assert g.blob_types()[layer] == (oci.OCI_LAYER_ZSTD, "layer")
    # recompression changes layers and manifests; the configs (diff IDs) stay and are shared
    assert set(gz.configs.values()) == set(zs.configs.values())
    sizes = {i.digest: i.size for i in store.walk()}
    config_bytes = sum(sizes[c] for c in gz.configs.values())
    imgs = {i.digest: i for i in g.images()}
    assert imgs[gz.index].shared == imgs[zs.index].shared == config_bytes
    assert imgs[zs.index].unique == imgs[zs.index].total - config_bytes
    assert g.space().image_shared_bytes == config_bytes
    # the zstd layer streams like the gzip one
    motd = zs.layers["amd64"][1]
    assert layers.read_layer_file(store, motd, "/etc/motd").data == b"hello from umoci\n"


def test_image_whose_layer_was_not_imported(tmp_path, layouts):
    store = LocalStore(tmp_path / "content")
    want = describe_layout(layouts["umoci"])
    absent = want.layers["amd64"][0]
    import_layout(store, layouts["umoci"], skip={absent})
    g = G.load_graph(store, oci.MediaTypeCache(None))
    assert {(e.child, e.name) for e in g.missing()} == {(absent, "l.0")}
    assert {e.parent for e in g.missing()} == set(want.manifests.values())
    [img] = g.images()
    assert img.missing == 1
    node = g.tree(want.manifests["amd64"]).children[1]
    assert not node.present and node.size > 0 and node.kind == "layer"
