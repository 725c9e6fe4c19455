"""Images are named by their records, else their annotations, else not at all (store.imagenames):
in the graph (the Images tab's rows), ``blobctl tree``/``du`` and the layers command, on a plain
directory, on a hand-made offline containerd root and on its content directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_graph import Builder  # noqa: E402  (same directory; pytest puts it on sys.path)

from store import LocalStore, cli, oci
from store import graph as G
from store.containerd.offline import OfflineContainerdRoot
from store.disk.image_records import recorded_names
from store.imagenames import IMAGE_NAME, REF_NAME, annotated_name
from tests.support import boltfile

CONTENT = "io.containerd.content.v1.content"
RECORDS = ["example.org/app:1", "example.org/app:latest"]  # two records, one target


def test_the_name_rule():
    assert annotated_name([]) == ""
    assert annotated_name([None, "x", {IMAGE_NAME: "full/ref:1"}, {REF_NAME: "tag"}]) == "full/ref:1"
    assert annotated_name([{IMAGE_NAME: "full/ref:1", REF_NAME: "tag"}]) == "tag"  # ref.name first in one set
    assert annotated_name([{REF_NAME: ""}, {REF_NAME: 7}, {"other": "x"}]) == ""  # empty or not text: no name


def _images(b: Builder):
    """An index whose manifest descriptor carries io.containerd.image.name; a bare manifest; a lone one."""
    m, n, _ = b.image("amd64", [b.layer("x")])
    idx = b.put(json.dumps({"schemaVersion": 2, "mediaType": oci.OCI_INDEX, "manifests": [
        b.desc(oci.OCI_MANIFEST, m, n, annotations={IMAGE_NAME: "example.org/annotated:2"})]}).encode())
    bare, _, _ = b.image("arm64", [b.layer("y")])
    return idx, m, bare


def test_graph_names_images_by_annotations_else_nothing(tmp_path):
    s = LocalStore(tmp_path / "content")
    idx, m, bare = _images(Builder(s))
    g = G.load_graph(s, oci.MediaTypeCache(None))
    assert recorded_names(s) == {}  # a plain directory has no image records
    # the index is named by the descriptor it lists, the manifest by the descriptor listing it
    assert g.image_names(idx) == ("example.org/annotated:2",) and g.image_name(m) == "example.org/annotated:2"
    assert g.image_names(bare) == () and g.image(bare).name == ""
    space = g.image(idx)
    assert space.name == "example.org/annotated:2" and space.names == ("example.org/annotated:2",)
    assert space.to_json()["names"] == ["example.org/annotated:2"]


def test_several_record_names_of_one_digest_are_all_kept(tmp_path):
    s = LocalStore(tmp_path / "content")
    idx, _m, bare = _images(Builder(s))
    g = G.load_graph(s, oci.MediaTypeCache(None), extra_roots={str(idx): list(reversed(RECORDS)), str(bare): "b:1"})
    assert g.image_names(idx) == tuple(reversed(RECORDS))  # records win over the annotation
    assert g.image(idx).name == RECORDS[1] and g.image(bare).names == ("b:1",)
    assert g.roots[idx].reason == f"image {RECORDS[1]}, image {RECORDS[0]}"


@pytest.fixture
def root(tmp_path, monkeypatch) -> tuple[Path, dict]:
    """An offline containerd root: two records name the index, none the bare manifest."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    root = tmp_path / "root"
    s = LocalStore(root / CONTENT)
    idx, m, bare = _images(Builder(s))
    blobs = {str(i.digest).encode(): {b"size": boltfile.varint(i.size),
                                      **({b"labels": {k.encode(): v.encode() for k, v in i.labels.items()}}
                                         if i.labels else {})}
             for i in s.walk()}
    target = {b"digest": str(idx).encode(), b"size": boltfile.varint(s.info(idx).size),
              b"mediatype": oci.OCI_INDEX.encode()}
    (root / "io.containerd.metadata.v1.bolt").mkdir()
    boltfile.write(root / "io.containerd.metadata.v1.bolt" / "meta.db", {b"version": b"\x06", b"v1": {b"default": {
        b"images": {name.encode(): {b"target": target} for name in RECORDS},
        b"content": {b"blob": blobs}}}})
    return root, {"idx": str(idx), "m": str(m), "bare": str(bare)}


def test_record_names_win_on_an_offline_root_and_its_content_directory(root):
    path, d = root
    with OfflineContainerdRoot(path) as r:
        store = r.store("default")
        assert recorded_names(store) == {d["idx"]: RECORDS}
        g = G.load_graph(store, oci.MediaTypeCache(None), extra_roots=recorded_names(store))
    assert g.image(d["idx"]).names == tuple(RECORDS) and g.image(d["idx"]).name == RECORDS[0]
    assert g.image(d["bare"]).name == ""
    # the content directory alone: the root's meta.db is read all the same
    assert recorded_names(LocalStore(path / CONTENT, writable=False)) == {d["idx"]: RECORDS}


def test_cli_tree_and_du_show_the_names(root, capsys):
    path, d = root
    assert cli.main(["--root", str(path), "tree"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert next(x for x in lines if x.startswith(d["idx"])).endswith(f"[{', '.join(RECORDS)}]")
    assert not next(x for x in lines if x.startswith(d["bare"])).endswith("]")
    assert cli.main(["--root", str(path), "tree", "--json"]) == 0
    doc = {t["digest"]: t for t in json.loads(capsys.readouterr().out)}
    assert doc[d["idx"]]["image"] == RECORDS[0] and doc[d["idx"]]["names"] == RECORDS
    assert doc[d["bare"]]["image"] == "" and doc[d["bare"]]["names"] == []
    assert cli.main(["--root", str(path), "du", "--json"]) == 0
    rows = {i["digest"]: i for i in json.loads(capsys.readouterr().out)["images"]}
    assert rows[d["idx"]]["name"] == RECORDS[0] and rows[d["idx"]]["names"] == RECORDS
    assert cli.main(["--root", str(path), "du"]) == 0
    assert ", ".join(RECORDS) in capsys.readouterr().out
    # a record's name finds the image for `blobctl layers` too
    assert cli.main(["--root", str(path), "layers", RECORDS[1], "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["image"] == d["idx"]


def test_an_index_named_by_its_own_annotation_also_from_the_cache(tmp_path):
    s = LocalStore(tmp_path / "content")
    b = Builder(s)
    m, n, _ = b.image("amd64", [b.layer("x")])
    idx = b.put(json.dumps({"schemaVersion": 2, "mediaType": oci.OCI_INDEX, "manifests": [
        b.desc(oci.OCI_MANIFEST, m, n)], "annotations": {REF_NAME: "docker.io/library/own:1"}}).encode())
    cache = oci.MediaTypeCache(tmp_path / "cache.db")
    try:
        first = G.load_graph(s, cache)
        assert cache.get(idx) is not None and cache.get(idx).name == "docker.io/library/own:1"
        again = G.load_graph(s, cache)  # every type from the cache now
    finally:
        cache.close()
    for g in (first, again):
        assert g.image(idx).names == ("docker.io/library/own:1",)
        assert g.image_name(m) == ""  # a manifest is not named by the index listing it
