"""``blobctl -a`` gc/why/leases through a real private daemon, and acting on the prediction.

One daemon (the GC never runs by itself: tests/support/gc_scenarios.py's scheduler) holds an
unpacked image, a deleted unpacked image (collectable blobs and snapshots), a container, a
loose blob, a gc.root blob and a lease holding a blob.  The tests run in file order: first the
read-only comparisons, then the refusals, then the acts (leases rm, gc) that change it.
"""

from __future__ import annotations

import json
import os
import pty
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from store.disk.du import usage_of_many
from store.disk.owners import Ownership
from tests.support.gc_live import differences, live_rows, live_vs_copy
from tests.support.gc_scenarios import (
    GC_ROOT,
    REPO,
    ImageSpec,
    Scenario,
    gc_passes,
    inventory,
    new_daemon,
)

pytestmark = pytest.mark.integration

NS = "live-a"
NS2 = "live-b"
APP = ImageSpec("example.org/live/app:1", ("lbase", "lapp"))
OLD = ImageSpec("example.org/live/old:1", ("lbase", "lold"))


def blobctl(*args: str, stdin=subprocess.DEVNULL) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "store", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=300, stdin=stdin)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gclive")
    d = new_daemon(tmp)
    d.start()
    sc = Scenario(d, tmp / "work")
    sc.workdir.mkdir()
    h: dict = {}
    sc.import_image(NS, APP)
    sc.import_image(NS, OLD)
    h["old"] = sc.image_digests(NS, OLD.name)
    h["old-chain"] = sc.image_chain(NS, OLD.name)
    sc.remove_image(NS, OLD.name)
    sc.create_container(NS, APP.name, "c-app")
    h["loose"] = sc.ingest_blob(NS, b"a loose blob nothing refers to\n" * 100)
    h["rooted"] = sc.ingest_blob(NS, b"a blob labelled gc.root\n")
    sc.label_content(NS, h["rooted"], {GC_ROOT: "by hand"})
    h["leased"] = sc.ingest_blob(NS, b"a blob only a lease keeps\n" * 50)
    sc.create_lease(NS, "hold")
    sc.lease_add(NS, "hold", "content", h["leased"])
    # ingests: one stalled outside a lease (24 h), one under a lease (no expiry of its own)
    sc.stall_ingest(NS, "stalled")
    sc.create_lease(NS, "hold-ingest")
    sc.leased_write(NS, "leased-ingest", b"p" * 3000, 9000, "hold-ingest")
    # a second namespace: the loose blob is kept there by gc.root, so its file stays
    sc.ingest_blob(NS2, b"a loose blob nothing refers to\n" * 100)
    sc.label_content(NS2, h["loose"], {GC_ROOT: "kept in b"})
    h["b-only"] = sc.ingest_blob(NS2, b"collectable in b only\n" * 7)
    yield sc, h
    d.close()


def test_live_dry_run_equals_offline_on_a_copy(world, tmp_path):
    sc, h = world
    copy = tmp_path / "root"
    live, offline = live_vs_copy(sc.daemon, copy)
    assert differences(live, offline) == []
    flipped = [dict(r, collect=not r["collect"]) if r["kind"] == "blob" else r for r in live]
    assert len(differences(flipped, offline)) == sum(1 for r in live if r["kind"] == "blob")  # it can fail
    assert {r["kind"] for r in live} == {"blob", "snapshot", "lease", "ingest"}
    assert {r["namespace"] for r in live} == {NS, NS2}
    # what an offline copy can tell beyond the live one: the snapshot sizes, as du counts them
    gone_snaps = [r for r in offline if r["kind"] == "snapshot" and r["collect"]]
    assert {r["id"] for r in gone_snaps} >= {f"overlayfs/{c}" for c in h["old-chain"][1:]}
    rows = {f"{row.snapshotter}/{row.key}": row for row in Ownership(copy).snapshot_rows() if row.key}
    dirs = [rows[r["id"]].directory for r in gone_snaps]
    du = usage_of_many(dirs)
    assert all(r["bytes"] > 0 for r in gone_snaps)
    assert sum(r["bytes"] for r in gone_snaps) == sum(u.bytes for u in du.values())
    if shutil.which("du"):
        out = subprocess.run(["du", "-sxB1", *map(str, dirs)], capture_output=True, text=True, check=True).stdout
        assert sum(int(line.split()[0]) for line in out.splitlines()) == sum(r["bytes"] for r in gone_snaps)
    # why PATH on the copy: a file of a snapshot's directory names its snapshot
    some = rows[f"overlayfs/{h['old-chain'][-1]}"].directory
    r = blobctl("--root", str(copy), "why", str(some / "fs"), "--json")
    assert r.returncode == 0, r.stderr
    assert h["old-chain"][-1] in r.stdout


def _metrics(text: str) -> dict[str, list[tuple[dict[str, str], int]]]:
    """Prometheus text exposition: each family's HELP and TYPE lines before its samples."""
    families: dict[str, list[tuple[dict[str, str], int]]] = {}
    helped: set[str] = set()
    typed: set[str] = set()
    for line in text.splitlines():
        if m := re.fullmatch(r"# HELP (\w+) \S.*", line):
            helped.add(m.group(1))
            continue
        if m := re.fullmatch(r"# TYPE (\w+) gauge", line):
            assert m.group(1) in helped, line
            typed.add(m.group(1))
            families[m.group(1)] = []
            continue
        m = re.fullmatch(r'(\w+)\{((?:\w+="(?:[^"\\]|\\.)*",?)*)\} (\d+)', line)
        assert m, f"not a sample line: {line!r}"
        assert m.group(1) in typed, f"a sample before its HELP/TYPE: {line!r}"
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2)))
        families[m.group(1)].append((labels, int(m.group(3))))
    return families


def test_live_df_equals_offline_df_of_a_copy(world, tmp_path):
    sc, h = world
    d = sc.daemon
    runs = [blobctl("-a", d.address, "df", *extra) for extra in (["--json"], ["--prometheus"])]
    for r in runs:
        assert r.returncode == 0 and "live" in r.stderr, r.stderr
    live, prom = json.loads(runs[0].stdout), runs[1].stdout
    live_gc, offline_gc = live_vs_copy(d, tmp_path / "root")
    r = blobctl("--root", str(tmp_path / "root"), "df", "--json")
    assert r.returncode == 0, r.stderr
    off = json.loads(r.stdout)
    assert (live["root"], live["address"], live["namespace"]) == (None, d.address, None)
    assert live["metadata"]["bytes"] is None and off["metadata"]["bytes"] > 0
    # content: counts and recorded bytes by state; the states are the offline ones
    for key in ("count", "recorded_bytes"):
        assert live["content"][key] == off["content"][key]
    def states(doc: dict, kind: str, *keys: str) -> dict:
        return {s["state"]: tuple(s[k] for k in keys) for s in doc["states"] if s["kind"] == kind}
    assert states(live, "content", "count", "recorded_bytes") == states(off, "content", "count", "recorded_bytes")
    assert {"image", "lease", "collectable", "other"} <= set(states(live, "content"))
    assert live["content"]["bytes"] == live["content"]["recorded_bytes"]
    # snapshots: the same states (bytes are Usage live, du offline)
    known = {k: v for k, v in states(off, "snapshot", "count").items() if k != "not_understood"}  # a directory
    assert states(live, "snapshot", "count") == known
    assert {"in_use", "image"} <= set(states(live, "snapshot"))
    assert live["snapshots"]["count"] == off["snapshots"]["count"]
    assert [s["name"] for s in live["snapshots"]["snapshotters"]] == \
        [s["name"] for s in off["snapshots"]["snapshotters"] if s["understood"]]
    # leases and ingests
    assert live["leases"] == off["leases"] and live["leases"]["only_bytes"] > 0
    assert live["ingests"]["count"] == off["ingests"]["count"] == 2
    # reclaimable: the same records; only the collected snapshots' bytes are measured apart
    def snap_gone(rows: list[dict]) -> int:
        return sum(x["bytes"] for x in rows if x["kind"] == "snapshot" and x["collect"])
    assert snap_gone(live_gc) > 0
    assert live["reclaimable_bytes"] - snap_gone(live_gc) == off["reclaimable_bytes"] - snap_gone(offline_gc) > 0
    # per image: the same images (with the deleted one, found by its manifest), blobs and snapshots
    def images(doc: dict) -> dict:
        return {(i["namespace"], i["name"]): (i["recorded"], i["blobs"], i["blob_bytes"], i["snapshots"])
                for i in doc["images"]}
    assert images(live) == images(off)
    assert {(ns, rec) for (ns, _), (rec, *_rest) in images(live).items()} == {(NS, True), (NS, False)}
    # --prometheus: the offline metric names, every family with HELP and TYPE, the address as label
    fams = _metrics(prom)
    r = blobctl("--root", str(tmp_path / "root"), "df", "--prometheus")
    assert set(fams) == set(_metrics(r.stdout)) >= {"blobscope_disk_bytes", "blobscope_disk_reclaimable_bytes"}
    got = {(lab["kind"], lab["state"]): v for lab, v in fams["blobscope_disk_items"]}
    assert got[("content", "collectable")] == states(live, "content", "count")["collectable"][0]
    assert all(lab["address"] == d.address for fam in fams.values() for lab, _v in fam)
    assert fams["blobscope_disk_reclaimable_bytes"] == [({"address": d.address}, live["reclaimable_bytes"])]


def test_live_why_names_the_release_action(world):
    sc, h = world
    r = blobctl("-a", sc.daemon.address, "-n", NS, "why", h["leased"])
    assert r.returncode == 0, r.stderr
    assert "lease hold" in r.stdout
    assert "leases rm hold" in r.stdout
    r = blobctl("-a", sc.daemon.address, "-n", NS, "why", h["rooted"])
    assert f"label {h['rooted']} {GC_ROOT}=" in r.stdout


def test_the_label_hint_removes_gc_root_through_the_daemon(world):
    sc, h = world
    addr = sc.daemon.address
    blob = sc.ingest_blob(NS, b"rooted, then released by the hint\n")
    sc.label_content(NS, blob, {GC_ROOT: "by hand"})
    r = blobctl("-a", addr, "-n", NS, "why", blob)
    (hint,) = [line for line in r.stdout.splitlines() if "to release" in line]
    command = hint.split(": ", 2)[2].split()
    assert command[:5] == ["blobctl", "-a", addr, "-n", NS] and command[5] == "label"
    r = blobctl(*command[1:])
    assert r.returncode == 0, r.stderr
    (row,) = [x for x in live_rows(addr, "-n", NS) if x["id"] == blob]
    assert row["collect"] and row["why"] == []


def test_gc_on_a_terminal_answered_no_changes_nothing(world):
    sc, _h = world
    d = sc.daemon
    before, passes = inventory(d).items, gc_passes(d, since_start=False)
    master, slave = pty.openpty()
    try:
        os.write(master, b"n\n")
        r = blobctl("-a", d.address, "gc", stdin=slave)
    finally:
        os.close(master)
        os.close(slave)
    assert r.returncode == 1 and "[y/N]" in r.stderr and "not confirmed" in r.stderr
    assert "predicted to be freed on disk" in r.stdout
    assert inventory(d).items == before
    assert gc_passes(d, since_start=False) == passes


def test_live_leases_ls_has_resources(world):
    sc, h = world
    r = blobctl("-a", sc.daemon.address, "-n", NS, "leases", "ls", "--json")
    assert r.returncode == 0, r.stderr
    (hold,) = [x for x in json.loads(r.stdout) if x["id"] == "hold"]
    assert hold["content"] == 1 and hold["only_records"] == 1 and hold["only_bytes"] == len(b"a blob only a lease keeps\n") * 50


def test_gc_refuses_without_a_terminal_or_yes_and_changes_nothing(world):
    sc, _h = world
    d = sc.daemon
    before, passes = inventory(d).items, gc_passes(d, since_start=False)
    r = blobctl("-a", d.address, "gc")
    assert r.returncode == 1
    assert "nothing was changed" in r.stderr and "--yes" in r.stderr
    assert inventory(d).items == before
    assert gc_passes(d, since_start=False) == passes


def test_gc_without_dry_run_on_a_root_refuses(world, tmp_path):
    sc, _h = world
    r = blobctl("--root", str(sc.daemon.root), "gc")
    assert r.returncode == 1
    assert "--dry-run" in r.stderr
    assert "Traceback" not in r.stderr


def _measured(out: str) -> tuple[int, int]:
    m = re.search(r"bytes of deleted records\s+(\d+)\s+(\d+)", out)
    assert m, out
    return int(m.group(1)), int(m.group(2))


def test_gc_frees_what_was_predicted(world):
    sc, h = world
    d = sc.daemon
    live = {(r["kind"], r["namespace"], r["id"]): r for r in live_rows(d.address)}
    r = blobctl("-a", d.address, "gc", "--yes", "--measure", str(d.root))
    assert r.returncode == 0, r.stderr
    print(r.stdout)
    predicted, measured = _measured(r.stdout)
    assert predicted == measured > 0
    m = re.search(r"disk freed \(du of .*?\)\s+(\d+)\s+(\d+)", r.stdout)
    assert m, r.stdout
    assert int(m.group(2)) >= int(m.group(1))  # du: the records' files, and at least that
    after = inventory(d).items
    for key, row in live.items():
        if row["collect"]:
            assert key not in after, key
        elif key[0] != "lease" or key[2] != "hold":
            assert key in after, key
    assert ("blob", NS, h["loose"]) not in after and ("blob", NS, h["rooted"]) in after


def test_leases_rm_releases_what_the_next_gc_frees(world):
    sc, h = world
    d = sc.daemon
    rows = {(r["kind"], r["id"]): r for r in live_rows(d.address, "-n", NS)}
    assert not rows[("blob", h["leased"])]["collect"]
    r = blobctl("-a", d.address, "-n", NS, "leases", "rm", "hold", "no-such-lease")
    assert r.returncode == 1 and "no-such-lease" in r.stderr
    r = blobctl("-a", d.address, "-n", NS, "leases", "rm", "hold")
    assert r.returncode == 0, r.stderr
    assert "what only it kept: 1 records, 1.3 kB (1300 bytes), freed by the next GC pass" in r.stdout
    rows = {(r["kind"], r["id"]): r for r in live_rows(d.address, "-n", NS)}
    assert rows[("blob", h["leased"])]["collect"]
    r = blobctl("-a", d.address, "gc", "--yes", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    print(json.dumps(out, indent=1))
    size = len(b"a blob only a lease keeps\n") * 50  # the hint-released blob went in the pass before
    assert out["predicted_bytes"] == out["measured_bytes"] == size
    assert out["predicted"]["blob"] == out["measured"]["blob"] == {"records": 1, "bytes": size}
    assert out["deleted_unpredicted"] == out["predicted_not_deleted"] == []
    # no --measure: the daemon's introspection named its root, readable here, so du measured too
    assert Path(out["du_root"]).resolve() == d.root.resolve()
    assert out["du_freed_bytes"] >= size
    assert ("blob", NS, h["leased"]) not in inventory(d).items
    assert os.path.exists(d.root)


def test_rm_orphan_deletes_exactly_the_orphan_dir_of_a_stopped_copy(world, tmp_path):
    sc, _h = world
    d = sc.daemon
    snaps = d.root / "io.containerd.snapshotter.v1.overlayfs" / "snapshots"
    with_record = sorted(p.name for p in snaps.iterdir())[0]
    r = blobctl("--root", str(d.root), "snapshots", "rm-orphan", with_record, "--force")
    assert r.returncode == 1 and "running containerd" in r.stderr  # the live root: refused
    d.stop()
    copy = tmp_path / "root"
    subprocess.run(["cp", "-a", str(d.root), str(copy)], check=True)
    d.start()
    csnaps = copy / "io.containerd.snapshotter.v1.overlayfs" / "snapshots"
    orphan = csnaps / "9999"
    (orphan / "fs").mkdir(parents=True)
    (orphan / "fs" / "data").write_bytes(b"x" * 20000)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("keep")
    (csnaps / "9998").symlink_to(outside)
    before = sorted(p.name for p in csnaps.iterdir())
    r = blobctl("--root", str(copy), "snapshots", "rm-orphan", with_record, "--force")
    assert r.returncode == 1 and "has a record" in r.stderr
    r = blobctl("--root", str(copy), "snapshots", "rm-orphan", "9998", "--force")
    assert r.returncode == 1 and "symbolic link" in r.stderr
    r = blobctl("--root", str(copy), "snapshots", "rm-orphan", "../../x", "--force")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    r = blobctl("--root", str(copy), "snapshots", "rm-orphan", "9999")
    assert r.returncode == 1 and "--force" in r.stderr and "bytes" in r.stderr
    assert sorted(p.name for p in csnaps.iterdir()) == before
    size = usage_of_many([orphan])[str(orphan)].bytes
    r = blobctl("--root", str(copy), "snapshots", "rm-orphan", "overlayfs/9999", "--force")
    assert r.returncode == 0, r.stderr
    assert f"{size} bytes freed" in r.stdout
    assert sorted(p.name for p in csnaps.iterdir()) == [n for n in before if n != "9999"]
    assert (outside / "keep").read_text() == "keep"
