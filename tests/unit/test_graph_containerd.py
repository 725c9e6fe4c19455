"""The graph of content that a real containerd imported (``ctr images import``), read through
the daemon's gRPC API (ContainerdStore) and, once it is stopped, from its root (labels from meta.db).

These are real-daemon tests (marker ``integration``); they live here because they test
store/graph.py and store/oci.py.
"""

from __future__ import annotations

import json

import pytest

from store import graph as G
from store import layers, oci
from store.containerd import ContainerdStore
from store.containerd.offline import OfflineContainerdRoot
from tests.support.containerd import ContainerdDaemon
from tests.support.images import describe_layout, make_oci_image

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

NAME = "example.org/fixture/graph:1.0"


def _check(g: G.Graph, want) -> None:
    # containerd put the labels: index -> m.<i>, manifests -> config + l.<i>; the graph reads both.
    assert [r.digest for r in g.image_roots()] == [want.index]
    assert [(e.name, e.child) for e in g.children(want.index)] == [
        ("m.0", want.manifests["amd64"]), ("m.1", want.manifests["arm64"])]
    for arch in ("amd64", "arm64"):
        kids = g.children(want.manifests[arch])
        assert [(e.name, e.child) for e in kids] == [
            ("config", want.configs[arch]), *((f"l.{i}", d) for i, d in enumerate(want.layers[arch]))]
        assert all(set(e.sources) == {G.FROM_LABEL, G.FROM_MANIFEST} for e in kids)
        layer_refs = g.refs(want.layers[arch][0])
        assert layer_refs.reachable and [r.digest for r in layer_refs.roots] == [want.index]
    assert g.reclaimable() == [] and g.missing() == []
    t = g.tree(want.index)
    assert [str(c.platform) for c in t.children] == ["linux/amd64", "linux/arm64"]
    assert t.children[1].children[1].media_type == oci.OCI_LAYER_GZIP
    [img] = g.images()
    assert img.blob_count == 1 + 2 + 2 + len(set(want.layers["amd64"]) | set(want.layers["arm64"]))
    assert img.unique == img.total == sum(g.sizes.values())


def test_ctr_images_import_live_and_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    archive = make_oci_image(tmp_path / "img", NAME, platforms=("amd64", "arm64"))
    want = describe_layout(archive.parent / "layout")
    with ContainerdDaemon(tmp_path) as daemon:
        daemon.ctr("images", "import", "--all-platforms", str(archive))
        with ContainerdStore(daemon.address) as live:
            cache = oci.MediaTypeCache.for_store(live)  # no root directory: a per-user cache file
            g = G.load_graph(live, cache)
            cache.close()
            _check(g, want)
            # a second build reads the types from the cache: not one blob is read again
            calls = []
            real = live.reader_at
            monkeypatch.setattr(live, "reader_at", lambda d: calls.append(d) or real(d))
            with oci.MediaTypeCache.for_store(live) as cache:
                _check(G.load_graph(live, cache), want)
            assert calls == []
            # a layer lists and previews through the daemon's Read API as well
            monkeypatch.setattr(live, "reader_at", real)
            motd = layers.read_layer_file(live, want.layers["arm64"][1], "etc/motd")
            assert motd.text() == "hello\n"
            entries, _ = layers.list_layer(live, want.layers["arm64"][0])
            assert {"bin/busybox", "bin/sh"} <= {e.path for e in entries}
        daemon.stop()
        with OfflineContainerdRoot(daemon.root) as offline:
            store = offline.store("default")
            _check(G.load_graph(store, oci.MediaTypeCache(None)), want)


def test_blobctl_tree_names_images_as_ctr_images_ls(tmp_path, monkeypatch, capsys):
    """Two records (an import and a ``ctr images tag``) name one index: ``tree --json`` lists both,
    through the daemon and from its stopped root; ``du --json`` too."""
    from store import cli
    from store.disk.image_records import recorded_names
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("CONTAINERD_NAMESPACE", raising=False)
    archive = make_oci_image(tmp_path / "img", NAME, platforms=("amd64", "arm64"))
    want = describe_layout(archive.parent / "layout")
    with ContainerdDaemon(tmp_path) as daemon:
        daemon.ctr("images", "import", "--all-platforms", str(archive))
        daemon.ctr("images", "tag", NAME, "example.org/fixture/graph:latest")
        names = sorted(daemon.ctr("images", "ls", "-q").stdout.split())
        assert len(names) == 2
        with ContainerdStore(daemon.address) as live:
            assert recorded_names(live) == {want.index: names}
        for where in (["-a", daemon.address], ["--root", str(daemon.root)]):
            if where[0] == "--root":
                daemon.stop()
            assert cli.main([*where, "tree", "--json"]) == 0
            [doc] = json.loads(capsys.readouterr().out)
            assert (doc["digest"], doc["image"], doc["names"]) == (want.index, names[0], names)
            assert cli.main([*where, "du", "--json"]) == 0
            [row] = json.loads(capsys.readouterr().out)["images"]
            assert (row["name"], row["names"]) == (names[0], names)
