"""``blobctl --fleet FILE df``'s per-node snapshot figures against real sshd + containerd nodes
(tests/support/sshd.py): on a node where an image was unpacked they equal the sum of that daemon's
own ``ctr snapshots usage``, on a node with none they are 0, and in a namespace a daemon never
used they are 0 too -- asked through each node's tunnel, read back from each daemon's socket.  A
daemon that does not serve the Snapshots service gives null, and its node does not fail."""

from __future__ import annotations

import json

import pytest

from store.cli import main
from tests.support.containerd import ContainerdDaemon
from tests.support.images import make_oci_image
from tests.support.sshd import FleetLab, SshServer

pytestmark = pytest.mark.integration


def ctr_usage(daemon, sn: str, ns: str = "default") -> dict[str, int]:
    out = daemon.ctr("snapshots", "--snapshotter", sn, "usage", "-b", namespace=ns).stdout.splitlines()[1:]
    return {p[0]: int(p[1]) for p in (line.split() for line in out) if p}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    base = tmp_path_factory.mktemp("fleet-df")
    with FleetLab(base, 2) as lab:
        image = make_oci_image(base / "img", motd="fleet df\n")
        lab.daemons[0].ctr("images", "import", str(image))  # unpacks into overlayfs snapshots
        chain = list(ctr_usage(lab.daemons[0], "overlayfs"))
        lab.daemons[0].ctr("snapshots", "prepare", "scratch", chain[-1])  # an active one as well
        yield lab


def df(lab, fleet, capsys, *extra) -> dict:
    rc = main(["--fleet", str(fleet), "--ssh-config", str(lab.client.config), *extra, "df", "--json"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    return json.loads(out)


def test_df_snapshot_bytes_per_node_equal_ctr_snapshots_usage(lab, tmp_path, capsys):
    fleet = tmp_path / "fleet.txt"
    names = lab.write_fleet(fleet)
    usage = [{sn: ctr_usage(d, sn) for sn in ("overlayfs", "native")} for d in lab.daemons]
    assert len(usage[0]["overlayfs"]) >= 2 and usage[1] == {"overlayfs": {}, "native": {}}
    doc = df(lab, fleet, capsys)
    assert doc["failed"] == {}
    rows = {r["node"]: r for r in doc["nodes"]}
    for name, u in zip(names, usage):
        assert rows[name]["snapshot_count"] == sum(len(v) for v in u.values())
        assert rows[name]["snapshot_bytes"] == sum(sum(v.values()) for v in u.values())
    assert rows[names[0]]["snapshot_bytes"] > 0 and rows[names[1]]["snapshot_bytes"] == 0

    rc = main(["--fleet", str(fleet), "--ssh-config", str(lab.client.config), "df"])
    out, _err = capsys.readouterr()
    assert rc == 0 and "SNAPSHOTS" in out.splitlines()[0]

    other = {r["node"]: r for r in df(lab, fleet, capsys, "-n", "elsewhere")["nodes"]}
    assert [(other[n]["snapshot_count"], other[n]["snapshot_bytes"]) for n in names] == [(0, 0), (0, 0)]


def test_a_daemon_without_the_snapshots_service_gives_null_and_does_not_fail(lab, tmp_path, capsys):
    daemon = ContainerdDaemon(tmp_path, name="nosnap", disabled_plugins=("io.containerd.grpc.v1.snapshots",)).start()
    server = SshServer(tmp_path, lab.client.authorized_keys, name="sshd-nosnap").start()
    known = lab.client.known_hosts.read_bytes()
    lab.client.trust(server)
    try:
        assert daemon.ctr("snapshots", "ls", check=False).returncode != 0  # really not served
        fleet = tmp_path / "fleet.txt"
        node = f"ssh://root@127.0.0.1:{server.port}{daemon.address}"
        fleet.write_text(lab.address(1) + "\n" + node + "\n")
        doc = df(lab, fleet, capsys)
        assert doc["failed"] == {}
        rows = {r["node"]: r for r in doc["nodes"]}
        assert (rows[node]["snapshot_count"], rows[node]["snapshot_bytes"]) == (None, None)
        # no snapshots seen, no GC dry run: unknown with the reason, never a made-up 0
        assert rows[node]["reclaimable_bytes"] is None
        assert rows[node]["reclaimable_error"].startswith("the GC dry run cannot run: ")
        assert rows[lab.address(1)]["reclaimable_bytes"] is not None
        assert rows[lab.address(1)]["reclaimable_error"] is None
        assert rows[node]["blob_count"] == len(daemon.content_ls())
        assert (rows[lab.address(1)]["snapshot_count"], rows[lab.address(1)]["snapshot_bytes"]) == (0, 0)
        rc = main(["--fleet", str(fleet), "--ssh-config", str(lab.client.config), "df"])
        out, err = capsys.readouterr()
        lines = out.splitlines()
        assert rc == 0 and lines[2].startswith(node) and lines[1].startswith(lab.address(1))
        # "-" in RECLAIMABLE, SNAPSHOTS and STALLED for the node without the service, only in STALLED for the other
        assert lines[2].split().count("-") == 3 and lines[1].split().count("-") == 1
        assert err == f"blobctl: {node}: reclaimable bytes unknown: {rows[node]['reclaimable_error']}\n"
    finally:
        lab.client.known_hosts.write_bytes(known)
        server.stop()
        daemon.stop()
