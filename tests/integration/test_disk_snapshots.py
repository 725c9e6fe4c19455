"""Snapshots as a source, against a real daemon's overlayfs snapshots.

One private daemon for the module: two umoci-built images sharing their busybox layer are
imported (``ctr images import`` unpacks them) in namespace ``default`` and one of them again in
``other``; a container is created from image a; an active snapshot is prepared with ``ctr
snapshots`` (ctr labels it ``gc.root``; a view it would not label, and GC may take it at once).  What ``ctr snapshots ls`` / ``usage -b`` say is captured live, then
the daemon is stopped and ``blobctl --root`` reads the root: the records, kinds, parents and
sizes must equal ctr's, the snapshot names must be the chain IDs of the configs' diff IDs, and
the owners must be the images, containers and layers that really made them.  Orphans are
made on a copy of the stopped root.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from store.cli.app import main
from store.disk.du import disk_usage, usage_of_many
from store.disk.owners import chain_ids
from tests.support.images import (
    MANIFEST_MEDIA_TYPE,
    REF_NAME,
    describe_layout,
    make_oci_image,
    make_tar,
    oci_archive,
)

pytestmark = pytest.mark.integration

OVL = "io.containerd.snapshotter.v1.overlayfs"
A, B = "example.org/fixture/a:1.0", "example.org/fixture/b:1.0"


def blobctl(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def ctr_ls(daemon, ns: str, sn: str) -> dict[str, tuple[str, str]]:
    """``ctr snapshots ls``: key -> (parent, kind)."""
    rows = {}
    for line in daemon.ctr("snapshots", "--snapshotter", sn, "ls", namespace=ns).stdout.splitlines()[1:]:
        parts = line.split()
        if parts:
            key, kind = parts[0], parts[-1].lower()
            rows[key] = (parts[1] if len(parts) == 3 else "", kind)
    return rows


def ctr_usage(daemon, ns: str, sn: str) -> dict[str, int]:
    out = daemon.ctr("snapshots", "--snapshotter", sn, "usage", "-b", namespace=ns).stdout.splitlines()[1:]
    return {p[0]: int(p[1]) for p in (line.split() for line in out) if p}


def derive(layout_a: Path, out: Path, name: str, motd: bytes) -> Path:
    """An image ``name`` with A's first layer and a top layer of its own (an oci-archive)."""
    layout = out / "layout"
    shutil.copytree(layout_a, layout)
    desc = describe_layout(layout)
    arch = next(iter(desc.manifests))
    blobs = layout / "blobs" / "sha256"

    def put(data: bytes) -> dict:
        hexd = hashlib.sha256(data).hexdigest()
        (blobs / hexd).write_bytes(data)
        return {"digest": f"sha256:{hexd}", "size": len(data)}

    top = make_tar({"etc/motd": motd})
    config = config_of(layout_a)
    config["rootfs"]["diff_ids"][1] = put(top)["digest"]  # uncompressed: blob digest = diff ID
    manifest = json.loads((blobs / desc.manifests[arch].split(":", 1)[1]).read_bytes())
    manifest["config"].update(put(json.dumps(config).encode()))
    manifest["layers"][1] = {"mediaType": "application/vnd.oci.image.layer.v1.tar", **put(top)}
    mdesc = {"mediaType": MANIFEST_MEDIA_TYPE, **put(json.dumps(manifest).encode()),
             "annotations": {REF_NAME: name}}
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [mdesc]}))
    return oci_archive(layout, out / "image.oci.tar")


def config_of(layout: Path) -> dict:
    desc = describe_layout(layout)
    digest = next(iter(desc.configs.values()))
    return json.loads((layout / "blobs" / "sha256" / digest.split(":", 1)[1]).read_bytes())


@pytest.fixture(scope="module")
def world(daemon, tmp_path_factory):
    work = tmp_path_factory.mktemp("images")
    a = make_oci_image(work / "a", A, motd="a\n")
    b = derive(a.parent / "layout", work / "b", B, b"b\n")
    daemon.ctr("images", "import", str(a))
    daemon.ctr("images", "import", str(b))
    daemon.ctr("images", "import", str(b), namespace="other")
    daemon.ctr("images", "import", "--snapshotter", "native", str(a), namespace="nat")
    # in "nat" the image record goes, a gc.root label keeps its blobs and (through them) its snapshots
    manifest_a = next(iter(describe_layout(a.parent / "layout").manifests.values()))
    daemon.ctr("content", "label", manifest_a, "containerd.io/gc.root=keep", namespace="nat")
    daemon.ctr("images", "rm", A, namespace="nat")
    daemon.ctr("containers", "create", A, "c1")
    layouts = {A: a.parent / "layout", B: b.parent / "layout"}
    chains = {name: chain_ids(config_of(layout)["rootfs"]["diff_ids"]) for name, layout in layouts.items()}
    daemon.ctr("snapshots", "prepare", "scratch", chains[A][-1])
    live = {(ns, sn): (ctr_ls(daemon, ns, sn), ctr_usage(daemon, ns, sn))
            for ns, sn in (("default", "overlayfs"), ("other", "overlayfs"), ("nat", "native"))}
    through = {}
    for ns in ("default", "other", "nat"):
        code, out, err = blobctl("-a", daemon.address, "-n", ns, "snapshots", "ls", "--json")
        assert code == 0, err
        through[ns] = json.loads(out)
    code, out, err = blobctl("-a", daemon.address, "-n", "default", "df", "--json")
    assert code == 0, err
    live_df = json.loads(out)
    live_blobs = len(daemon.content_digests("default"))
    code, _out, err = blobctl("--root", str(daemon.root), "snapshots", "ls")
    refused = (code, err)
    daemon.stop()
    code, out, err = blobctl("--root", str(daemon.root), "snapshots", "ls", "--json")
    assert code == 0, err
    rows = json.loads(out)
    return {"root": daemon.root, "layouts": layouts, "chains": chains, "live": live, "rows": rows,
            "refused": refused, "work": work, "through": through, "live_df": (live_df, live_blobs)}


def test_a_running_daemons_root_is_refused(world):
    code, err = world["refused"]
    assert code == 1 and "running" in err and err.count("\n") == 1


def test_records_equal_ctr_snapshots_ls(world):
    rows = [r for r in world["rows"] if r["kind"] != "orphan"]
    by_backend = {r["key"]: r for r in rows}
    for (ns, sn), (ls, _usage) in world["live"].items():
        ours = {}
        for r in rows:
            if (r["namespace"], r["snapshotter"]) != (ns, sn):
                continue
            parent = by_backend[r["parent"]]["name"] if r["parent"] else ""
            ours[r["name"]] = (parent, r["kind"])
        assert ours == ls and ls, (ns, sn)
    assert all(r["flags"] == [] for r in rows if r["name"] != "scratch")
    assert {f for r in rows if r["name"] == "scratch" for f in r["flags"]} == {"active-unheld"}
    scratch = next(r for r in rows if r["name"] == "scratch")
    assert "containerd.io/gc.root" in scratch["labels"]  # ctr's label, from meta.db
    assert all(Path(r["directory"]).parent == world["root"] / f"io.containerd.snapshotter.v1.{r['snapshotter']}"
               / "snapshots" for r in rows)


def test_sizes_equal_ctr_usage_and_gnu_du(world):
    rows = [r for r in world["rows"] if r["kind"] != "orphan"]
    for r in rows:
        ns_usage = world["live"][(r["namespace"], r["snapshotter"])][1]
        # what containerd's usage counts is overlayfs' fs/ (the upper directory), native's whole directory
        upper = Path(r["directory"]) / "fs" if r["snapshotter"] == "overlayfs" else Path(r["directory"])
        if r["kind"] != "view":  # a view records 0
            assert disk_usage(upper).bytes == ns_usage[r["name"]], r["name"]
        if r["kind"] == "committed":
            assert r["recorded_size"] == ns_usage[r["name"]]
        du = subprocess.run(["du", "-sxB1", r["directory"]], capture_output=True, text=True, check=True)
        assert r["bytes"] == int(du.stdout.split()[0])
    # the Python walk counts what GNU du (the default engine here) counted
    python = usage_of_many([r["directory"] for r in rows], engine="python")
    assert {r["directory"]: r["bytes"] for r in rows} == {p: u.bytes for p, u in python.items()}
    by_backend = {r["key"]: r for r in rows}
    for r in rows:
        chain, at = 0, r
        while at is not None:
            chain += at["bytes"]
            at = by_backend.get(at["parent"]) if at["parent"] else None
        assert r["chain_bytes"] == chain


def test_chain_ids_and_owners(world):
    rows = {(r["namespace"], r["name"]): r for r in world["rows"] if r["kind"] != "orphan"}
    ca, cb = world["chains"][A], world["chains"][B]
    assert ca[0] == cb[0] and ca[1] != cb[1]  # the busybox layer is shared
    # chain IDs by hand, as the OCI image spec defines them
    diff = config_of(world["layouts"][A])["rootfs"]["diff_ids"]
    assert ca[1] == "sha256:" + hashlib.sha256(f"{diff[0]} {diff[1]}".encode()).hexdigest()
    base = rows[("default", ca[0])]
    assert base["images"] == [f"default/{A}", f"default/{B}"] and base["state"] == "in_use"
    assert rows[("default", ca[1])]["images"] == [f"default/{A}"]
    assert rows[("default", cb[1])]["images"] == [f"default/{B}"] and rows[("default", cb[1])]["state"] == "image"
    assert rows[("other", cb[1])]["images"] == [f"other/{B}"]
    assert rows[("other", ca[0])]["images"] == [f"other/{B}"]
    # no record names the image in "nat" any more: its manifest does, by digest
    manifest_a = next(iter(describe_layout(world["layouts"][A]).manifests.values()))
    assert rows[("nat", ca[1])]["images"] == [f"nat/{manifest_a} (no image record)"]
    assert rows[("nat", ca[0])]["images"] == [f"nat/{manifest_a} (no image record)"]
    assert rows[("nat", ca[1])]["snapshotter"] == "native" and rows[("nat", ca[1])]["state"] == "image"
    assert rows[("default", "c1")]["containers"] == ["default/c1"] and rows[("default", "c1")]["images"] == []
    assert rows[("default", "c1")]["state"] == "in_use"
    layer = rows[("default", ca[1])]["layer"]
    desc = describe_layout(world["layouts"][A])
    assert layer["index"] == 1 and layer["blob"] == next(iter(desc.layers.values()))[1]
    assert layer["diff_id"] == diff[1] and layer["chain_id"] == ca[1]


def test_owner_of_a_host_path(world):
    rows = {(r["namespace"], r["name"]): r for r in world["rows"] if r["kind"] != "orphan"}
    top = rows[("default", world["chains"][A][1])]
    motd = Path(top["directory"]) / "fs" / "etc" / "motd"
    assert motd.read_text() == "a\n"
    code, out, err = blobctl("--root", str(world["root"]), "owner", str(motd), "--json")
    assert code == 0, err
    doc = json.loads(out)
    desc = describe_layout(world["layouts"][A])
    assert doc["what"] == "snapshot" and doc["inside"] == "fs/etc/motd"
    assert doc["blob"] == next(iter(desc.layers.values()))[1]
    assert doc["images"] == [f"default/{A}"] and doc["snapshot"]["id"] == top["id"]
    # the daemon labelled that blob with the diff ID it was unpacked to
    code, out, err = blobctl("--root", str(world["root"]), "-n", "default", "ls", "--json")
    assert code == 0, err
    labels = {b["digest"]: b.get("labels", {}) for b in json.loads(out)}
    assert labels[doc["blob"]]["containerd.io/uncompressed"] == doc["diff_id"]
    config = desc.configs[next(iter(desc.configs))]
    assert labels[config]["containerd.io/gc.ref.snapshot.overlayfs"] == world["chains"][A][-1]
    # a path in the container's snapshot names the container and its image
    c1 = rows[("default", "c1")]
    code, out, err = blobctl("--root", str(world["root"]), "owner", str(Path(c1["directory"]) / "fs" / "new"))
    assert code == 0 and "container default/c1" in out and f"image     default/{A}" in out, out + err
    code, out, err = blobctl("--root", str(world["root"]), "owner", "/usr/bin/env")
    assert code == 1 and "not under the containerd root" in err


def test_orphans_on_a_stopped_copy(world):
    copy = world["work"] / "copy"
    shutil.copytree(world["root"], copy, symlinks=True)
    rows = {(r["namespace"], r["name"]): r for r in world["rows"] if r["kind"] != "orphan"}
    gone = rows[("other", world["chains"][B][1])]
    base = copy / OVL / "snapshots"
    shutil.rmtree(base / gone["id"])
    (base / "999" / "fs").mkdir(parents=True)
    (base / "999" / "fs" / "left").write_bytes(os.urandom(20000))
    code, out, err = blobctl("--root", str(copy), "snapshots", "ls", "--json")
    assert code == 0, err
    got = {r["id"]: r for r in json.loads(out)}
    assert got["999"]["kind"] == "orphan" and got["999"]["flags"] == ["orphan-dir"]
    assert got["999"]["bytes"] >= 20000
    assert "missing-dir" in got[gone["id"]]["flags"] and got[gone["id"]]["state"] == "orphan"
    code, out, err = blobctl("--root", str(copy), "df", "--json")
    assert code == 0 and err == "", err  # no warning: every config's gc.ref.snapshot label is its chain ID
    doc = json.loads(out)
    states = {(s["kind"], s["state"]): s for s in doc["states"]}
    assert states[("snapshot", "orphan")]["count"] == 2
    assert states[("snapshot", "orphan")]["bytes"] >= 20000
    names = {(i["namespace"], i["name"]): i for i in doc["images"]}
    manifest_a = next(iter(describe_layout(world["layouts"][A]).manifests.values()))
    assert set(names) == {("default", A), ("default", B), ("other", B), ("nat", f"{manifest_a} (no image record)")}
    assert [i["recorded"] for i in names.values()] == [i["namespace"] != "nat" for i in names.values()]
    for i in names.values():
        assert i["total_bytes"] == i["shared_bytes"] + i["unique_bytes"] and i["shared_bytes"] > 0
    blobs = {p.name for p in (copy / "io.containerd.content.v1.content" / "blobs" / "sha256").iterdir()}
    assert doc["content"]["count"] == len(blobs)
    code, out, err = blobctl("--root", str(copy), "df", "--prometheus")
    assert code == 0, err
    assert "# TYPE blobscope_disk_bytes gauge" in out
    assert f'blobscope_disk_bytes{{root="{copy}",kind="snapshot",state="orphan"}} ' \
           f'{states[("snapshot", "orphan")]["bytes"]}' in out



def test_through_the_daemon_the_same_rows(world):
    offline = {(r["namespace"], r["snapshotter"], r["name"]): r for r in world["rows"] if r["kind"] != "orphan"}
    by_backend = {r["key"]: r for r in world["rows"] if r["kind"] != "orphan"}
    seen = set()
    for ns, rows in world["through"].items():
        for r in rows:
            ls, usage = world["live"][(ns, r["snapshotter"])]
            assert (r["parent"] or "", r["kind"]) == ls[r["name"]]
            assert r["bytes"] == usage[r["name"]]
            off = offline[(ns, r["snapshotter"], r["name"])]
            parent = by_backend[off["parent"]]["name"] if off["parent"] else None
            assert (r["kind"], r["parent"], r["labels"], r["created"]) == \
                (off["kind"], parent, off["labels"], off["created"])
            # owners through the API are the offline ones (an image without a record has none live)
            assert r["containers"] == off["containers"] and r["layer"] == (off["layer"] if ns != "nat" else None)
            assert r["images"] == (off["images"] if ns != "nat" else [])
            assert r["state"] == (off["state"] if off["state"] in ("in_use", "image") and ns != "nat" else None)
            seen.add((ns, r["snapshotter"], r["name"]))
    assert seen == set(offline)


def test_df_through_the_daemon(world):
    doc, blobs = world["live_df"]
    assert doc["namespace"] == "default" and doc["content"]["count"] == blobs
    ls, usage = world["live"][("default", "overlayfs")]
    (ovl,) = [s for s in doc["snapshots"]["snapshotters"] if s["name"] == "overlayfs"]
    assert ovl["count"] == len(ls) and ovl["bytes"] == sum(usage.values())
    # -n default: that namespace's figures, states as offline (c1's chain is in use, b's top an image's)
    states = {(s["kind"], s["state"]): s["count"] for s in doc["states"]}
    assert states[("snapshot", "in_use")] == 3 and states[("snapshot", "image")] == 1
    assert states[("content", "image")] == blobs
    assert {(i["namespace"], i["name"]) for i in doc["images"]} == {("default", A), ("default", B)}
    assert doc["leases"]["count"] == 0 and doc["metadata"]["bytes"] is None
