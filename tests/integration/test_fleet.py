"""``blobctl --fleet`` and ``-a ssh://`` against real sshd processes on loopback, each in front of
its own private containerd (tests/support/sshd.py); answers checked against each daemon's own
``ctr content ls``.  The machine's sshd, keys and ~/.ssh are never used."""

from __future__ import annotations

import json
import re

import pytest

from store import Digest
from store.cli import main
from store.containerd import ContainerdStore
from tests.support.sshd import FleetLab, ssh_clients
from tests.support.sshd import put_blob as put

pytestmark = pytest.mark.integration

SHARED, ONLY0, ONLY1 = b"on every node", b"only on node 0", b"only on node 1, and longer"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    base = tmp_path_factory.mktemp("fleet")
    with FleetLab(base, 2) as lab:
        for i, extra in enumerate((ONLY0, ONLY1)):
            put(lab.daemons[i], SHARED, base)
            put(lab.daemons[i], extra, base)
        # an ingest left open on node 1 (a stalled pull)
        with ContainerdStore(lab.daemons[1].address) as s:
            w = s.writer("stalled-pull", total=100)
            w.write(b"0123456789")
            w.close()
        yield lab


def run(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def ssh_processes(lab) -> list[str]:
    return ssh_clients(lab.client.config)


def test_where_ls_df_diff_match_each_daemons_own_listing(lab, tmp_path, capsys):
    fleet = tmp_path / "fleet.txt"
    names = lab.write_fleet(fleet)
    truth = [set(d.content_ls()) for d in lab.daemons]
    cfg = ("--fleet", fleet, "--ssh-config", lab.client.config)

    shared = str(Digest.from_bytes(SHARED))
    only1 = str(Digest.from_bytes(ONLY1))
    rc, out, err = run(capsys, *cfg, "where", only1, "--json")
    assert (rc, err) == (0, "")
    assert json.loads(out) == {"digest": only1, "present": [names[1]], "absent": [names[0]], "failed": {}}
    rc, out, _ = run(capsys, *cfg, "where", shared, "--json")
    assert json.loads(out)["present"] == names
    nowhere = str(Digest.from_bytes(b"on no node"))
    rc, out, err = run(capsys, *cfg, "where", nowhere, "--json")
    assert rc == 1 and err == f"blobctl: no node holds {nowhere}\n"
    assert json.loads(out) == {"digest": nowhere, "present": [], "absent": names, "failed": {}}

    rc, out, err = run(capsys, *cfg, "ls", "--json")
    assert (rc, err) == (0, "")
    listed = json.loads(out)
    assert listed["nodes"] == names and listed["failed"] == {}
    for i, name in enumerate(names):
        assert {b["digest"] for b in listed["blobs"] if name in b["nodes"]} == truth[i]
    sizes = {b["digest"]: b["size"] for b in listed["blobs"]}
    assert sizes[only1] == len(ONLY1) and sizes[shared] == len(SHARED)

    rc, out, err = run(capsys, *cfg, "df", "--json", "--stalled-after", "0")
    assert (rc, err) == (0, "")
    df = json.loads(out)["nodes"]
    assert [r["node"] for r in df] == names
    assert [r["blob_count"] for r in df] == [len(t) for t in truth]
    assert df[0]["blob_bytes"] == len(SHARED) + len(ONLY0)
    assert (df[1]["unique_count"], df[1]["unique_bytes"]) == (1, len(ONLY1))
    assert (df[0]["ingest_count"], df[1]["ingest_count"]) == (0, 1)
    assert [s["ref"] for s in df[1]["stalled_ingests"]] == ["stalled-pull"]
    assert df[1]["stalled_ingests"][0]["offset"] == 10
    rc, out, _ = run(capsys, *cfg, "df", "--json")  # written a moment ago: not stalled yet
    assert json.loads(out)["nodes"][1]["stalled_ingests"] == []

    rc, out, err = run(capsys, *cfg, "diff", "--json")
    assert rc == 0
    drift = {r["digest"]: (r["present"], r["absent"]) for r in json.loads(out)["blobs"]}
    assert drift == {str(Digest.from_bytes(ONLY0)): ([names[0]], [names[1]]),
                     only1: ([names[1]], [names[0]])}

    rc, out, _ = run(capsys, *cfg, "ls")  # the text table names the nodes too
    assert rc == 0 and re.search(rf"2/2\s+{re.escape(names[0])},{re.escape(names[1])}\n", out)
    assert ssh_processes(lab) == []  # every tunnel was torn down


def test_a_single_node_through_ssh_works_like_a_socket(lab, capsys):
    rc, out, err = run(capsys, "-a", lab.address(0), "--ssh-config", lab.client.config, "ls", "--json")
    assert (rc, err) == (0, "")
    assert {b["digest"] for b in json.loads(out)} == set(lab.daemons[0].content_ls())
    rc, out, err = run(capsys, "-a", lab.address(0), "--ssh-config", lab.client.config, "namespaces")
    assert (rc, out.split()) == (0, ["default"])
    assert ssh_processes(lab) == []


def test_unknown_host_key_is_refused_with_its_fingerprint_and_nothing_is_written(lab, tmp_path, capsys):
    fleet = tmp_path / "fleet.txt"
    names = lab.write_fleet(fleet)
    known = lab.client.known_hosts.read_bytes()
    lines = known.decode().splitlines(keepends=True)
    try:
        lab.client.known_hosts.write_text(lines[1])  # node 0's key forgotten
        before = lab.client.known_hosts.read_bytes()
        rc, out, err = run(capsys, "--fleet", fleet, "--ssh-config", lab.client.config, "where",
                           str(Digest.from_bytes(SHARED)), "--json")
        assert rc == 1
        report = json.loads(out)
        assert report["present"] == [names[1]] and report["absent"] == []
        reason = report["failed"][names[0]]
        assert "host key unknown" in reason and lab.servers[0].host_key_fingerprint in reason
        assert err.splitlines()[0] == f"blobctl: {names[0]}: {reason}"
        assert lab.client.known_hosts.read_bytes() == before  # never added
    finally:
        lab.client.known_hosts.write_bytes(known)


def test_wrong_user_is_an_authentication_failure_of_that_node_alone(lab, tmp_path, capsys):
    fleet = tmp_path / "fleet.txt"
    good = lab.address(0)
    wrong = lab.address(1, user="nobody")
    fleet.write_text(f"{good}\n{wrong}\n")
    rc, out, err = run(capsys, "--fleet", fleet, "--ssh-config", lab.client.config, "df", "--json")
    assert rc == 1
    result = json.loads(out)
    assert [r["node"] for r in result["nodes"]] == [good]
    assert result["failed"][wrong].startswith("authentication refused")
    assert err.splitlines() == [f"blobctl: {wrong}: {result['failed'][wrong]}", "blobctl: 1 of 2 nodes failed"]


@pytest.mark.parametrize("line, says", [
    ("ssh://-oProxyCommand=touch${IFS}/tmp/owned", "starts with '-'"),
    ("ssh://root@127.0.0.1:70000", "port '70000'"),
    ("ssh://root@127.0.0.1/relative/../x.sock", "not an absolute, plain path"),
])
def test_a_bad_address_is_one_line_and_runs_nothing(lab, tmp_path, capsys, line, says):
    fleet = tmp_path / "fleet.txt"
    fleet.write_text(f"{lab.address(0)}\n{line}\n")
    rc, out, err = run(capsys, "--fleet", fleet, "--ssh-config", lab.client.config, "ls")
    assert (rc, out) == (1, "")
    assert len(err.splitlines()) == 1 and says in err and "fleet.txt:2" in err
    rc, out, err = run(capsys, "-a", line, "--ssh-config", lab.client.config, "ls")
    assert rc == 1 and says in err and len(err.splitlines()) == 1
    assert ssh_processes(lab) == []


def test_fleet_usage_errors(lab, tmp_path, capsys):
    rc, _, err = run(capsys, "--fleet", tmp_path / "none.txt", "ls")
    assert rc == 1 and "cannot read fleet file" in err
    rc, _, err = run(capsys, "--fleet", tmp_path / "none.txt", "frobnicate", "x")
    assert rc == 2 and "invalid choice" in err
    rc, _, err = run(capsys, "--ssh-config", lab.client.config, "--root", tmp_path, "ls")
    assert rc == 2 and "--ssh-config goes with" in err


def test_ssh_is_never_given_an_option_from_the_address(lab):
    # the argv ssh gets: our options, then '--', then the destination: nothing after it is an option
    from store.fleet import Tunnel, parse
    argv = Tunnel(parse(lab.address(0))).argv("/tmp/x.sock")
    assert argv[-2:] == ["--", "root@127.0.0.1"]
    assert "BatchMode=yes" in argv and "StrictHostKeyChecking=yes" in argv


def test_a_node_with_too_many_blobs_fails_instead_of_filling_memory(lab, tmp_path, capsys):
    fleet = tmp_path / "fleet.txt"
    names = lab.write_fleet(fleet)
    rc, out, err = run(capsys, "--fleet", fleet, "--ssh-config", lab.client.config, "--max-blobs", "1", "ls", "--json")
    assert rc == 1
    failed = json.loads(out)["failed"]
    assert list(failed) == names
    assert all("more than 1 blobs; listing stopped" in reason for reason in failed.values())
    assert ssh_processes(lab) == []


def test_ansible_inventories_name_nodes_by_their_host_names(lab, tmp_path, capsys):
    only0 = str(Digest.from_bytes(ONLY0))
    s0, s1 = lab.servers
    d0, d1 = lab.daemons
    ini = tmp_path / "hosts.ini"
    ini.write_text(f"[nodes]\nnode-a ansible_host=127.0.0.1 ansible_port={s0.port} containerd_socket={d0.address}\n"
                   f"node-b ansible_host=127.0.0.1 ansible_port={s1.port} containerd_socket={d1.address}\n"
                   "[nodes:vars]\nansible_user=root\n")
    yml = tmp_path / "inventory.yml"
    yml.write_text(f"all:\n  vars:\n    ansible_user: root\n    ansible_host: 127.0.0.1\n  hosts:\n"
                   f"    node-a:\n      ansible_port: {s0.port}\n      containerd_socket: {d0.address}\n"
                   f"    node-b:\n      ansible_port: {s1.port}\n      containerd_socket: {d1.address}\n")
    for inventory in (ini, yml):
        rc, out, err = run(capsys, "--fleet", inventory, "--ssh-config", lab.client.config, "where", only0, "--json")
        assert (rc, err) == (0, "")
        assert json.loads(out) == {"digest": only0, "present": ["node-a"], "absent": ["node-b"], "failed": {}}


def test_an_ssh_config_alias_is_resolved_as_ssh_does(lab, tmp_path, capsys):
    config = tmp_path / "ssh_config"
    config.write_text(f"Host node-zero\n  HostName 127.0.0.1\n  Port {lab.servers[0].port}\n  User root\n\n"
                      + lab.client.config.read_text())
    address = f"ssh://node-zero{lab.daemons[0].address}"
    rc, out, err = run(capsys, "-a", address, "--ssh-config", config, "ls", "-q")
    assert (rc, err) == (0, "")
    assert set(out.split()) == set(lab.daemons[0].content_ls())
    # an alias whose key is unknown: the fingerprint still comes from the real host and port (ssh -G)
    known = lab.client.known_hosts.read_bytes()
    try:
        lab.client.known_hosts.write_text("")
        rc, out, err = run(capsys, "-a", address, "--ssh-config", config, "ls", "-q")
        assert rc == 1 and out == ""
        assert "host key unknown" in err and lab.servers[0].host_key_fingerprint in err
        assert len(err.splitlines()) == 1
        assert lab.client.known_hosts.read_text() == ""
    finally:
        lab.client.known_hosts.write_bytes(known)


def test_writes_through_the_tunnel_land_on_the_node(lab, tmp_path, capsys):
    node = ("-a", lab.address(1), "--ssh-config", lab.client.config)
    f = tmp_path / "payload"
    f.write_bytes(b"imported through ssh -L")
    digest = str(Digest.from_bytes(f.read_bytes()))
    rc, out, err = run(capsys, *node, "import", f)
    assert rc == 0 and out.split()[0] == digest, err
    assert lab.daemons[1].content_ls()[digest]["labels"].get("containerd.io/gc.root")
    assert run(capsys, *node, "get", digest)[1] == "imported through ssh -L"
    rc, out, err = run(capsys, *node, "rm", digest)
    assert (rc, out.strip()) == (0, digest), err
    assert digest not in lab.daemons[1].content_ls()
    assert ssh_processes(lab) == []


def test_a_failing_task_or_listener_breaks_no_other_node(lab, tmp_path):
    from store.fleet import FleetRunner, NodeState, SshOptions, read_fleet

    fleet = tmp_path / "fleet.txt"
    names = lab.write_fleet(fleet)

    def task(q):
        if q.node.name == names[0]:
            raise RuntimeError("boom")
        return sorted(i.digest for i in q.store.walk())

    def listener(outcome):
        raise ValueError("a broken GUI slot")

    outcomes = FleetRunner(read_fleet(fleet), task, ssh=SshOptions(config=str(lab.client.config)),
                           on_event=listener).run()
    assert outcomes[0].state is NodeState.FAILED and outcomes[0].reason == "internal error: RuntimeError: boom"
    assert outcomes[1].state is NodeState.DONE
    assert set(outcomes[1].result) == set(lab.daemons[1].content_ls())
    assert ssh_processes(lab) == []
