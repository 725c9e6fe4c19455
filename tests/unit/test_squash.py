"""Layers stacked as dive shows them (store.squash, store.imagepick) and ``blobctl layers``.

The real-parts check: an image built with umoci (added, modified, whited-out files, an opaque
directory, a hard link), squashed from its blobs, against the rootfs ``umoci unpack`` makes.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile

import pytest

from store import LocalStore, cli, errors, imagepick, squash
from tests.support.images import import_layout
from tests.support.layered import SQUASHED, TOTAL, WASTED, make_layered_layout, manifest_of, unpacked_paths

MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_LAYER = "application/vnd.oci.image.layer.v1.tar"


@pytest.fixture(scope="module")
def layered(tmp_path_factory):
    """The umoci image of tests/support/layered.py in a store, and its unpacked rootfs."""
    tmp = tmp_path_factory.mktemp("layered")
    layout = make_layered_layout(tmp)
    store = LocalStore(tmp / "content")
    import_layout(store, layout)
    return store, manifest_of(layout), unpacked_paths(layout, tmp / "bundle")


def test_squashed_fs_is_what_umoci_unpack_makes(layered):
    store, manifest, rootfs = layered
    a = squash.analyse(store, imagepick.resolve(store, manifest))
    ours = {p: ("file" if n.type in ("file", "hardlink") else n.type, n.size if n.type in ("file", "hardlink") else 0)
            for p, n in a.files()}
    assert ours == rootfs
    assert set(rootfs) == {"a", "d", "d/n", "keep", "keep/z", "keep/hl"}  # b and d/x, d/y are gone


def test_hand_computed_changes_wasted_bytes_and_efficiency(layered):
    store, manifest, _ = layered
    a = squash.analyse(store, imagepick.resolve(store, manifest))
    assert (a.total_bytes, a.squashed_bytes, a.wasted_bytes) == (TOTAL, SQUASHED, WASTED)
    assert a.efficiency == pytest.approx(1 - 2000 / 4120)
    assert a.complete and a.problem_count == 0
    counts = [(x.added, x.added_bytes, x.modified, x.modified_bytes, x.deleted, x.deleted_bytes) for x in a.layers]
    assert counts == [(7, 1550, 0, 0, 0, 0),       # a, d, d/x, d/y, keep, keep/z, keep/hl
                      (1, 500, 1, 2000, 0, 0),     # b added, a modified
                      (0, 0, 0, 0, 1, 500),        # .wh.b
                      (1, 70, 0, 0, 2, 500)]       # d made opaque: d/x, d/y hidden; d/n added
    changes = {(c.path, c.change) for c in a.layers[3].changes}
    assert changes == {("d/x", "deleted"), ("d/y", "deleted"), ("d/n", "added")}
    assert a.find("/a").layer == 1 and a.find("d/n").layer == 3 and a.find("b") is None
    # dive's rules: versions per path (a: 1000, 2000; b: 500 and its whiteout, 0; d/x 300, d/y 200,
    # keep/hl 50, keep/z 0 (a hard link), d/n 70; the opaque marker ignored):
    # smallest 1000+300+200+50+0+0+70 = 1620 of 4120; wasted every version of a and b: 3000 + 500
    assert a.dive_efficiency == pytest.approx(1620 / 4120) and a.dive_wasted_bytes == 3500


# --- hand-made layers: the odd cases ------------------------------------------------------------

def tar_of(*entries) -> bytes:
    """``(name, bytes)`` files, ``(name, "dir")``, ``(name, "link", target)`` hard links."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for e in entries:
            ti = tarfile.TarInfo(e[0])
            if e[1] == "dir":
                ti.type = tarfile.DIRTYPE
                tar.addfile(ti)
            elif e[1] == "link":
                ti.type, ti.linkname = tarfile.LNKTYPE, e[2]
                tar.addfile(ti)
            else:
                ti.size = len(e[1])
                tar.addfile(ti, io.BytesIO(e[1]))
    return buf.getvalue()


def put(store, data: bytes) -> str:
    import hashlib
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    try:
        store.info(d)
        return d
    except errors.NotFound:
        pass
    with store.writer(f"t-{d}") as w:
        w.write(data)
        return str(w.commit(len(data)))


def image(store, *layers: bytes, missing: int = 0) -> str:
    config = put(store, b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}')
    descs = [{"mediaType": MT_LAYER, "digest": put(store, x), "size": len(x)} for x in layers]
    for i in range(missing):
        descs.append({"mediaType": MT_LAYER, "digest": "sha256:" + f"{i:064x}", "size": 10})
    m = {"schemaVersion": 2, "mediaType": MT_MANIFEST,
         "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": 80},
         "layers": descs}
    return put(store, json.dumps(m).encode())


def test_whiteouts_of_nothing_unsafe_names_and_replaced_directories(store):
    m = image(store,
              tar_of(("etc", "dir"), ("etc/a", b"A" * 10), ("etc/sub/b", b"B" * 20), ("bin", b"F" * 5)),
              tar_of(("etc/.wh.never", b""), ("/abs", b"x" * 3), ("../../up", b"y" * 4),
                     ("etc", b"now a file" * 2), ("bin/tool", b"T" * 7), ("hl", "link", "nowhere")))
    a = squash.analyse(store, imagepick.resolve(store, m))
    paths = {p: (n.type, n.size) for p, n in a.files()}
    assert paths == {"abs": ("file", 3), "up": ("file", 4), "etc": ("file", 20), "bin": ("dir", 0),
                     "bin/tool": ("file", 7), "hl": ("hardlink", 0)}
    # etc/a, etc/sub/b went with the directory a file replaced; the file "bin" with the directory
    assert a.wasted_bytes == 10 + 20 + 5 == a.total_bytes - a.squashed_bytes
    text = " | ".join(a.problems)
    assert "whiteout /etc/.wh.never deletes /etc/never, which no layer below has" in text
    assert text.count("climbs out of the root or is absolute") == 2
    assert "hard link /hl names /nowhere" in text and a.problem_count == 4
    assert a.complete  # problems in entries are flagged; every layer was read whole


def test_whiteout_of_a_directory_hides_its_bytes_and_same_layer_entries_survive(store):
    m = image(store, tar_of(("d/x", b"1" * 100), ("d/y/z", b"2" * 50), ("keep", b"k")),
              tar_of(("d/new", b"3" * 9), ("d/.wh..wh..opq", b""), ("d/.wh.x", b""), (".wh.keep", b""),
                     ("keep", b"K" * 2)))
    a = squash.analyse(store, imagepick.resolve(store, m))
    assert {p for p, _ in a.files()} == {"d", "d/new", "keep"}
    assert a.layers[1].deleted == 3 and a.layers[1].deleted_bytes == 151
    assert a.wasted_bytes == 151 and a.find("keep").size == 2
    assert a.problem_count == 0  # a whiteout inside the opaque directory deletes from below too
    assert {(c.path, c.change) for c in a.layers[1].changes} >= {("d/x", "deleted"), ("d/y", "deleted"),
                                                                  ("keep", "deleted"), ("keep", "modified")}


def test_a_damaged_or_missing_layer_is_flagged_and_the_rest_still_counts(store):
    good = tar_of(("f", b"f" * 4000), ("g", b"g" * 10))
    damaged = gzip.compress(tar_of(*((f"many/{i}", b"m" * 700) for i in range(40))), mtime=0)
    m = image(store, good, damaged[:len(damaged) // 2], tar_of(("f", b"F")), missing=1)
    a = squash.analyse(store, imagepick.resolve(store, m))
    assert not a.complete
    assert "damaged" in a.layers[1].error and 0 < a.layers[1].entries < 40
    assert a.layers[3].error == "the layer blob is not in the store"
    assert a.find("f").size == 1 and a.find("g").size == 10
    assert a.wasted_bytes == 4000 and a.total_bytes == a.squashed_bytes + a.wasted_bytes


def test_an_index_resolves_to_the_asked_platform_else_the_first(store):
    m_amd = image(store, tar_of(("amd", b"1")))
    m_arm = image(store, tar_of(("arm", b"22")))
    idx = put(store, json.dumps({"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": [
        {"mediaType": MT_MANIFEST, "digest": m_arm, "size": 1, "platform": {"os": "linux", "architecture": "arm64"}},
        {"mediaType": MT_MANIFEST, "digest": m_amd, "size": 1, "platform": {"os": "linux", "architecture": "amd64"}},
    ]}).encode())
    assert imagepick.resolve(store, idx, platform="linux/amd64").manifest == m_amd
    assert imagepick.resolve(store, idx, platform="linux/arm64").platform == "linux/arm64"
    with pytest.raises(errors.NotFound, match="no manifest for linux/s390x"):
        imagepick.resolve(store, idx, platform="linux/s390x")
    host = imagepick.resolve(store, idx).manifest
    assert host == (m_amd if imagepick.host_platform() == "linux/amd64" else m_arm)
    with pytest.raises(errors.InvalidArgument, match="is not an image"):
        imagepick.resolve(store, put(store, tar_of(("x", b"x"))))


# --- blobctl layers --------------------------------------------------------------------------------

@pytest.fixture
def run(capsys):
    def run(*argv) -> tuple[int, str, str]:
        rc = cli.main(list(argv))
        out, err = capsys.readouterr()
        return rc, out, err
    return run


def test_cli_json_and_text(layered, run, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    store, manifest, _ = layered
    rc, out, err = run("--root", str(store.root), "layers", manifest, "--json", "--changes")
    assert rc == 0, err
    doc = json.loads(out)
    assert (doc["total_bytes"], doc["squashed_bytes"], doc["wasted_bytes"]) == (TOTAL, SQUASHED, WASTED)
    assert doc["efficiency"] == pytest.approx(0.514563) and doc["complete"] and doc["squashed_paths"] == 6
    assert [x["deleted"] for x in doc["layers"]] == [0, 0, 1, 2]
    assert {"path": "b", "change": "deleted", "type": "file", "size": 500} in doc["layers"][2]["changes"]
    assert "files" not in doc and "ci" not in doc
    rc, out, _ = run("--root", str(store.root), "layers", manifest[7:19])  # a hex prefix, text
    assert rc == 0
    assert "wasted:              2 kB\n" in out and "efficiency:          51.46 %\n" in out
    rc, out, err = run("--root", str(store.root), "layers", "no-such-image")
    assert rc == 1 and err.count("\n") == 1 and "no image is named 'no-such-image'" in err


def test_cli_ci_exit_code_like_dive(layered, run):
    store, manifest, _ = layered
    root = str(store.root)
    rc, out, err = run("--root", root, "layers", manifest, "--ci", "--lowest-efficiency", "0.9")
    assert rc == 1 and "CI: FAIL" in out
    assert err.strip() == "blobctl: ci: FAIL: efficiency 0.5146 is below the lowest allowed, 0.9"
    rc, out, err = run("--root", root, "layers", manifest, "--ci", "--lowest-efficiency", "0.5", "--json")
    assert rc == 0 and json.loads(out)["ci"] == {"pass": True, "reason": "", "lowest_efficiency": 0.5,
                                                  "highest_wasted_bytes": None, "figures": "blobscope"}
    assert json.loads(out)["dive"] == {"efficiency": 0.393204, "wasted_bytes": 3500}
    rc, out, err = run("--root", root, "layers", manifest, "--ci", "--lowest-efficiency", "0.5", "--dive-figures")
    assert rc == 1 and err.strip() == "blobctl: ci: FAIL: dive's efficiency 0.3932 is below the lowest allowed, 0.5"
    rc, _, err = run("--root", root, "layers", manifest, "--ci", "--lowest-efficiency", "0.5",
                     "--highest-wasted-bytes", "1KB")
    assert rc == 1 and "wasted bytes 2000" in err and "above the highest allowed, 1000" in err
    rc, _, err = run("--root", root, "layers", manifest, "--ci", "--lowest-efficiency", "1.5")
    assert rc == 1 and "between 0 and 1" in err
    rc, _, err = run("--root", root, "layers", manifest, "--ci", "--highest-wasted-bytes", "lots")
    assert rc == 1 and "is not a size" in err


def test_memory_holds_paths_and_sizes_not_file_contents(store):
    import os
    import tracemalloc
    big = tar_of(*((f"big/{i}", os.urandom(8 << 20)) for i in range(4)))  # 32 MiB of incompressible files
    m = image(store, gzip.compress(big, compresslevel=1, mtime=0), tar_of(("big/.wh.0", b"")))
    del big
    resolved = imagepick.resolve(store, m)
    tracemalloc.start()
    try:
        a = squash.analyse(store, resolved)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (a.total_bytes, a.wasted_bytes) == (32 << 20, 8 << 20)
    assert peak < 4 << 20, f"peak {peak} bytes while reading 32 MiB of files"
