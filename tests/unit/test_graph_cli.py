"""``blobctl tree``, ``blobctl refs`` and the graph figures of ``blobctl du`` (text and --json)."""

from __future__ import annotations

import json

import pytest
from test_graph import Builder  # noqa: E402  (same directory; pytest puts it on sys.path)

from store import Digest, LocalStore, cli
from store.cli import graph as cli_graph


@pytest.fixture
def populated(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    s = LocalStore(tmp_path / "content")
    b = Builder(s)
    base, amd = b.layer("base"), b.layer("amd")
    m1, n1, c1 = b.image("amd64", [base, amd])
    m2, n2, c2 = b.image("arm64", [base, (b.put(b"not really a layer"), 18)])
    idx = b.index([(m1, n1, "amd64"), (m2, n2, "arm64")])
    solo, _, _ = b.image("amd64", [base, (Digest.from_bytes(b"never stored"), 24)])
    s.delete(b.put(b"deleted later"))
    stray = b.put(b"stray bytes")
    return {"store": s, "root": str(s.root), "idx": idx, "m1": m1, "m2": m2, "c1": c1, "base": base[0],
            "amd": amd[0], "solo": solo, "stray": stray}


@pytest.fixture
def run(capsys):
    def run(*argv) -> tuple[int, str]:
        rc = cli.main(list(argv))
        out, err = capsys.readouterr()
        run.err = err
        return rc, out
    return run


def test_tree_prints_every_image_indented(populated, run):
    p = populated
    rc, text = run("--root", p["root"], "tree")
    assert rc == 0
    lines = text.splitlines()
    top = [line for line in lines if not line.startswith(("├", "└", "│", " "))]
    assert {line.split()[0] for line in top} == {p["idx"], p["solo"]}
    i = lines.index(next(line for line in lines if line.startswith(p["idx"])))
    assert lines[i + 1].startswith(f"├── m.0  linux/amd64  {p['m1']}  manifest")
    assert lines[i + 2].startswith(f"│   ├── config  {p['c1']}  config  application/vnd.oci.image.config.v1+json")
    assert lines[i + 3].startswith(f"│   ├── l.0  {p['base']}  layer  application/vnd.oci.image.layer.v1.tar+gzip")
    assert "B" in lines[i + 3].split()[-1] or "KiB" in lines[i + 3]


def test_tree_of_one_digest_by_prefix_and_json(populated, run):
    p = populated
    rc, text = run("--root", p["root"], "tree", p["m1"].encoded[:10])
    assert rc == 0 and text.splitlines()[0].startswith(p["m1"])
    assert len(text.splitlines()) == 4  # manifest, config, two layers
    rc, text = run("--root", p["root"], "tree", "--json")
    doc = json.loads(text)
    assert {t["digest"] for t in doc} == {p["idx"], p["solo"]}
    idx = next(t for t in doc if t["digest"] == p["idx"])
    assert [c["platform"] for c in idx["children"]] == ["linux/amd64", "linux/arm64"]
    assert [c["name"] for c in idx["children"][0]["children"]] == ["config", "l.0", "l.1"]


def test_refs_text_and_json(populated, run):
    p = populated
    rc, text = run("--root", p["root"], "refs", p["base"])
    assert rc == 0
    assert "state: reachable" in text
    assert f"l.0 of  {p['m1']}" in text and "via descriptor+label" in text
    assert f"{p['idx']}  top-level index" in text and f"{p['solo']}  top-level manifest" in text
    rc, text = run("--root", p["root"], "refs", "--json", p["stray"])
    doc = json.loads(text)
    assert doc["reclaimable"] and doc["parents"] == [] and doc["roots"] == []


def test_du_figures(populated, run):
    p = populated
    rc, text = run("--root", p["root"], "du", "--json")
    doc = json.loads(text)
    sizes = {i.digest: i.size for i in p["store"].walk()}
    assert doc["blob_count"] == len(sizes)
    assert doc["reclaimable_count"] == 1
    assert doc["reclaimable_bytes"] == sizes[p["stray"]]
    assert doc["referenced_bytes"] == sum(sizes.values()) - sizes[p["stray"]]
    assert doc["image_count"] == 2 and doc["image_shared_bytes"] == sizes[p["base"]]
    imgs = {i["digest"]: i for i in doc["images"]}
    assert imgs[p["solo"]]["shared"] == sizes[p["base"]]  # the base layer is in both images
    assert imgs[p["solo"]]["unique"] == imgs[p["solo"]]["total"] - sizes[p["base"]]
    assert imgs[p["solo"]]["missing"] == 1
    assert imgs[p["idx"]]["platforms"] == ["linux/amd64", "linux/arm64"]
    rc, text = run("--root", p["root"], "du")
    assert rc == 0
    assert "reclaimable count: 1" in text and "reclaimable bytes:" in text
    assert "SHARED" in text and "UNIQUE" in text
    row = next(line for line in text.splitlines() if line.startswith(p["solo"].short(12)))
    assert "(1 missing)" in row


def test_errors_are_sentences_with_exit_status_1(populated, run):
    p = populated
    assert run("--root", p["root"], "refs", "zz")[0] == 1
    assert "neither a digest nor a hex prefix" in run.err
    assert run("--root", p["root"], "refs", "sha256:" + "e" * 64)[0] == 1
    assert "not in the store and nothing references it" in run.err
    assert run("--root", p["root"], "refs", "ffffffff")[0] == 1
    assert "no blob in this store has a digest starting with" in run.err


def test_media_type_cache_lives_in_a_writable_root_and_outside_a_read_only_one(populated, run, tmp_path):
    p = populated
    run("--root", p["root"], "tree")
    assert (p["store"].root / ".blobscope" / "cache.db").is_file()
    ro = LocalStore(p["root"], writable=False)
    g = cli_graph.open_graph(ro)
    assert p["idx"] in g.sizes
    [cache] = (tmp_path / "xdg" / "blobscope").glob("mediatypes-*.db")
    assert cache.stat().st_size > 0
