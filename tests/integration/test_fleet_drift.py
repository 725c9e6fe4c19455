"""``blobctl --fleet FILE df`` reclaimable bytes and ``diff``/``ls`` image names, against real sshd +
containerd nodes on loopback (tests/support/sshd.py).

Each node's reclaimable figure (the live GC dry run, asked through its tunnel) is checked against
what a real GC pass then frees on that daemon (``blobctl -a SOCKET gc --yes --json``, measured by
the records that disappear); image drift against each daemon's own ``ctr images ls``.  The
daemons' GC never runs by itself (tests/support/gc_scenarios.py's scheduler)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from store.cli import main
from tests.support.gc_scenarios import DEBUG_CONFIG, REPO, SCHEDULER, ImageSpec, Scenario
from tests.support.sshd import FleetLab, put_blob, ssh_clients

pytestmark = pytest.mark.integration

APP1 = ImageSpec("example.org/fleet/app:1", ("fbase", "fapp-one"))
APP2 = ImageSpec("example.org/fleet/app:1", ("fbase", "fapp-two"))  # the same name, other bytes
TOOL = ImageSpec("example.org/fleet/tool:1", ("fbase", "ftool"))
OLD = ImageSpec("example.org/fleet/old:1", ("fbase", "fold"))
LOOSE = b"a blob nothing keeps: the next GC pass takes it\n" * 40


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    base = tmp_path_factory.mktemp("fleet-drift")
    with FleetLab(base, 3, daemon_options={"gc_scheduler": SCHEDULER, "extra_config": DEBUG_CONFIG}) as lab:
        scenes = []
        for i, d in enumerate(lab.daemons):
            work = base / f"work{i}"
            work.mkdir()
            scenes.append(Scenario(d, work))
        for sc in scenes:
            sc.import_image("default", TOOL, unpack=False)
        scenes[0].import_image("default", APP1, unpack=False)
        scenes[1].import_image("default", APP2, unpack=False)
        scenes[0].import_image("default", OLD)  # unpacked, then removed: blobs and snapshots to collect
        scenes[0].remove_image("default", OLD.name)
        scenes[0].ingest_blob("default", LOOSE)
        yield lab


def run(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def ctr_images(daemon) -> dict[str, str]:
    lines = daemon.ctr("images", "ls").stdout.splitlines()[1:]
    return {p[0]: p[2] for p in (line.split() for line in lines) if p}


def test_image_drift_by_name_matches_each_daemons_own_image_list(lab, tmp_path, capsys):
    fleet = tmp_path / "fleet.txt"
    names = lab.write_fleet(fleet)
    truth = [ctr_images(d) for d in lab.daemons]
    assert truth[0][APP1.name] != truth[1][APP2.name] and APP1.name not in truth[2]
    cfg = ("--fleet", fleet, "--ssh-config", lab.client.config)

    rc, out, err = run(capsys, *cfg, "diff", "--json")
    assert (rc, err) == (0, ""), err
    doc = json.loads(out)
    assert set(doc) >= {"nodes", "failed", "blobs"}  # the digest diff's keys stay
    assert doc["images_failed"] == {} and doc["failed"] == {}
    expected = []
    for name in sorted(set().union(*truth)):
        targets = {n: t[name] for n, t in zip(names, truth) if name in t}
        if len(targets) < len(names) or len(set(targets.values())) > 1:
            expected.append({"name": name, "present": list(targets), "absent": [n for n in names if n not in targets],
                             "targets": targets, "same_target": len(set(targets.values())) == 1})
    assert doc["images"] == expected
    app = next(r for r in doc["images"] if r["name"] == APP1.name)
    assert app["present"] == names[:2] and app["absent"] == [names[2]] and not app["same_target"]
    assert TOOL.name not in {r["name"] for r in doc["images"]}  # the same digest everywhere: no drift
    # the digest diff still works beside it: the blobs of app:1 differ between nodes
    blob_drift = {r["digest"] for r in doc["blobs"]}
    assert truth[0][APP1.name] in blob_drift and truth[1][APP2.name] in blob_drift

    rc, out, _ = run(capsys, *cfg, "diff")  # the text form names both digests of app:1
    assert rc == 0 and f"{names[0]}={truth[0][APP1.name]}" in out and f"{names[1]}={truth[1][APP2.name]}" in out

    rc, out, err = run(capsys, *cfg, "ls", "--json")
    assert (rc, err) == (0, "")
    listed = {r["name"]: r for r in json.loads(out)["images"]}
    assert listed[TOOL.name]["present"] == names and listed[TOOL.name]["same_target"]

    # unique vs shared: one command each, checked against the daemons' own listings
    content = [set(d.content_ls()) for d in lab.daemons]
    rc, out, _ = run(capsys, *cfg, "ls", "--shared", "--json")
    assert rc == 0 and {r["digest"] for r in json.loads(out)["blobs"]} == content[0] & content[1] & content[2]
    rc, out, _ = run(capsys, *cfg, "ls", "--unique", "--json")
    once = {d for d in set().union(*content) if sum(d in c for c in content) == 1}
    assert rc == 0 and {r["digest"] for r in json.loads(out)["blobs"]} == once and once
    assert ssh_clients(lab.client.config) == []


def test_reclaimable_bytes_per_node_are_what_the_next_gc_pass_frees(lab, tmp_path, capsys):
    fleet = tmp_path / "fleet.txt"
    names = lab.write_fleet(fleet)
    cfg = ("--fleet", fleet, "--ssh-config", lab.client.config)
    rc, out, err = run(capsys, *cfg, "df", "--json")
    assert (rc, err) == (0, ""), err
    rows = {r["node"]: r for r in json.loads(out)["nodes"]}
    assert all(rows[n]["reclaimable_error"] is None for n in names)
    assert rows[names[0]]["reclaimable_bytes"] > len(LOOSE)  # the loose blob, old:1's layer and snapshots

    rc, out, err = run(capsys, *cfg, "df", "--no-reclaimable", "--json")
    assert rc == 0 and [r["reclaimable_bytes"] for r in json.loads(out)["nodes"]] == [None] * 3

    rc, out, _ = run(capsys, *cfg, "df")
    assert rc == 0 and "RECLAIMABLE" in out.splitlines()[0]

    for name, daemon in zip(names, lab.daemons):  # a real pass on each daemon, through its own socket
        r = subprocess.run([sys.executable, "-m", "store", "-a", daemon.address, "gc", "--yes", "--json"], cwd=REPO,
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        freed = json.loads(r.stdout)
        assert freed["deleted_unpredicted"] == freed["predicted_not_deleted"] == []
        assert rows[name]["reclaimable_bytes"] == freed["measured_bytes"], name
    rc, out, _ = run(capsys, *cfg, "df", "--json")  # after the passes, nothing is left to collect
    assert [r["reclaimable_bytes"] for r in json.loads(out)["nodes"]] == [0, 0, 0]
    assert ssh_clients(lab.client.config) == []


def test_a_daemon_without_the_images_service_is_left_out_of_image_drift_and_said_so(lab, tmp_path, capsys):
    from tests.support.containerd import ContainerdDaemon
    from tests.support.sshd import SshServer

    daemon = ContainerdDaemon(tmp_path, name="noimages", disabled_plugins=("io.containerd.grpc.v1.images",)).start()
    server = SshServer(tmp_path, lab.client.authorized_keys, name="sshd-noimages").start()
    known = lab.client.known_hosts.read_bytes()
    lab.client.trust(server)
    try:
        assert daemon.ctr("images", "ls", check=False).returncode != 0  # really not served
        put_blob(daemon, LOOSE, tmp_path)  # a namespace with something in it for the dry run to read
        fleet = tmp_path / "fleet.txt"
        names = lab.write_fleet(fleet)
        blind = f"ssh://root@127.0.0.1:{server.port}{daemon.address}"
        fleet.write_text(fleet.read_text() + blind + "\n")
        cfg = ("--fleet", fleet, "--ssh-config", lab.client.config)
        rc, out, err = run(capsys, *cfg, "diff", "--json")
        assert (rc, err) == (0, ""), err
        doc = json.loads(out)
        assert doc["failed"] == {} and doc["nodes"] == [*names, blind]  # answered: its blobs are compared
        assert list(doc["images_failed"]) == [blind] and doc["images_failed"][blind]
        app = next(r for r in doc["images"] if r["name"] == APP1.name)
        assert app["absent"] == [names[2]]  # not the blind node: it could not tell
        assert all(blind not in r["present"] + r["absent"] for r in doc["images"])
        rc, out, err = run(capsys, *cfg, "diff")
        assert rc == 0 and f"blobctl: {blind}: images not compared: " in err
        # its GC dry run needs the image records too: unknown, with the reason, not 0
        rc, out, err = run(capsys, *cfg, "df", "--json")
        row = next(r for r in json.loads(out)["nodes"] if r["node"] == blind)
        assert rc == 0 and row["reclaimable_bytes"] is None and row["reclaimable_error"]
    finally:
        lab.client.known_hosts.write_bytes(known)
        server.stop()
        daemon.stop()
