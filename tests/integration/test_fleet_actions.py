"""``blobctl --fleet FILE rm|import|abort|leases rm`` against real sshd processes on loopback, each in
front of its own private containerd (tests/support/sshd.py).  What each command changed, and what it
left alone, is read back from each daemon directly (``ctr`` on its socket, or a ContainerdStore on
it), never through the tunnel that made the change."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from store import Digest
from store.cli import main
from store.containerd import ContainerdStore
from tests.support.sshd import FleetLab, ssh_clients

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def put(daemon, data: bytes, tmp: Path, **kw) -> str:
    f = tmp / Digest.from_bytes(data).encoded
    f.write_bytes(data)
    with ContainerdStore(daemon.address, **kw) as s:
        return str(s.import_file(f, **({"gc_root": False} if kw.get("lease") not in (None, "auto") else {})).digest)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    base = tmp_path_factory.mktemp("fleet-actions")
    with FleetLab(base, 3) as lab:
        yield lab


@pytest.fixture
def fleet(lab, tmp_path):
    path = tmp_path / "fleet.txt"
    names = lab.write_fleet(path)
    return path, names


def run(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def cfg(lab, path):
    return ("--fleet", path, "--ssh-config", lab.client.config)


def ssh_processes(lab) -> list[str]:
    return ssh_clients(lab.client.config)


def test_rm_on_a_selection_deletes_on_exactly_those_nodes(lab, fleet, tmp_path, capsys):
    path, names = fleet
    everywhere = [put(d, b"rm: on every node", tmp_path) for d in lab.daemons][0]
    only0 = put(lab.daemons[0], b"rm: only on node 0, a bit longer", tmp_path)

    rc, out, err = run(capsys, *cfg(lab, path), "rm", everywhere, only0, "--nodes", f"{names[0]},{names[2]}",
                       "--dry-run", "--json")
    assert (rc, err) == (0, "")
    plan = {n["node"]: n for n in json.loads(out)["nodes"]}
    assert list(plan) == [names[0], names[2]]  # the other node is not even asked
    assert plan[names[0]]["bytes"] == len(b"rm: on every node") + len(b"rm: only on node 0, a bit longer")
    assert plan[names[2]]["skipped"] == [{"target": only0, "reason": "not present"}]
    assert all(everywhere in d.content_digests() for d in lab.daemons)  # a dry run changes nothing

    rc, out, err = run(capsys, *cfg(lab, path), "rm", everywhere, only0, "--nodes", f"{names[0]},{names[2]}",
                       "--yes", "--json")
    assert (rc, err) == (0, "")
    result = json.loads(out)
    assert result["failed"] == {} and result["action"] == "rm"
    states = {n["node"]: (n["state"], [(s["target"], s["state"]) for s in n["steps"]]) for n in result["nodes"]}
    assert states == {names[0]: ("done", [(everywhere, "done"), (only0, "done")]),
                      names[2]: ("done", [(everywhere, "done")])}
    assert [everywhere in d.content_digests() for d in lab.daemons] == [False, True, False]
    assert only0 not in lab.daemons[0].content_digests()
    assert ssh_processes(lab) == []

    # again: nothing left to delete on the selection, every node skipped, still success
    rc, out, err = run(capsys, *cfg(lab, path), "rm", everywhere, "--nodes", f"{names[0]},{names[2]}", "--yes")
    assert rc == 0 and "nothing to change" in err
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["skipped", "skipped"]


def test_import_lands_on_every_node_and_survives_a_synchronous_gc(lab, fleet, tmp_path, capsys):
    path, names = fleet
    data = b"imported on the whole fleet " * 1000
    f = tmp_path / "payload.bin"
    f.write_bytes(data)
    digest = str(Digest.from_bytes(data))
    rc, out, err = run(capsys, *cfg(lab, path), "import", f, "--label", "team=fleet", "--yes", "--json")
    assert (rc, err) == (0, "")
    result = json.loads(out)
    assert [(n["node"], n["state"], n["bytes"]) for n in result["nodes"]] == [(n, "done", len(data)) for n in names]

    for d in lab.daemons:  # a throwaway lease deleted with --sync runs the daemon's GC to its end
        d.ctr("leases", "create", "--id", "throwaway")
        d.ctr("leases", "delete", "--sync", "throwaway")
        listed = d.content_ls()
        assert digest in listed
        assert listed[digest]["labels"].get("team") == "fleet"
        assert "containerd.io/gc.root" in listed[digest]["labels"]
        assert d.ctr("leases", "ls", "-q").stdout.split() == []  # the import's lease was ended

    # importing again: every node has it with the label, nothing is sent
    rc, out, err = run(capsys, *cfg(lab, path), "import", f, "--label", "team=fleet", "--dry-run", "--json")
    assert rc == 0
    assert [(n["state"], n["bytes"]) for n in json.loads(out)["nodes"]] == [("nothing", 0)] * 3


def age_ingest(daemon, ref: str, by: timedelta) -> None:
    """Make the daemon's ingest ``ref`` look idle for ``by``: its updatedat file and data mtime
    (containerd reports the later of the two) moved back."""
    for d in (daemon.content_root / "ingest").iterdir():
        if (d / "ref").read_text().split("/", 2)[-1] == ref:  # the daemon keeps "<namespace>/<n>/<ref>"
            when = datetime.now(timezone.utc) - by
            (d / "updatedat").write_text(when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
            os.utime(d / "data", (when.timestamp(), when.timestamp()))
            return
    raise AssertionError(f"no ingest {ref} on {daemon.address}")


def refs(daemon) -> set[str]:
    with ContainerdStore(daemon.address) as s:
        return {st.ref for st in s.list_statuses()}


def test_abort_stalled_aborts_only_the_stalled_ingests(lab, fleet, capsys):
    path, names = fleet
    for i, ref in ((1, "old-pull"), (1, "fresh-pull"), (2, "fresh-pull")):
        with ContainerdStore(lab.daemons[i].address, lease=None) as s:
            w = s.writer(ref, total=1000)
            w.write(b"x" * (100 if ref == "old-pull" else 7))
            w.close()
    age_ingest(lab.daemons[1], "old-pull", timedelta(hours=3))

    rc, out, err = run(capsys, *cfg(lab, path), "abort", "--stalled", "--older-than", "1h", "--yes", "--json")
    assert (rc, err) == (0, "")
    result = {n["node"]: n for n in json.loads(out)["nodes"]}
    assert result[names[1]]["state"] == "done" and result[names[1]]["bytes"] == 100
    assert [s["target"] for s in result[names[1]]["steps"]] == ["old-pull"]
    assert result[names[0]]["state"] == result[names[2]]["state"] == "skipped"
    assert refs(lab.daemons[1]) == {"fresh-pull"} and refs(lab.daemons[2]) == {"fresh-pull"}

    rc, _, err = run(capsys, *cfg(lab, path), "abort", "--older-than", "1h", "--yes")
    assert rc == 2 and "--stalled" in err
    rc, _, err = run(capsys, *cfg(lab, path), "abort", "--stalled", "--older-than", "soon", "--yes")
    assert rc == 2 and "not a duration" in err
    for i in (1, 2):
        with ContainerdStore(lab.daemons[i].address) as s:
            s.abort("fresh-pull")


def test_leases_rm_removes_the_lease_and_what_it_kept_goes_at_the_next_gc(lab, fleet, tmp_path, capsys):
    path, names = fleet
    for d in lab.daemons[:2]:
        d.ctr("leases", "create", "--id", "fleet-test-lease")
    kept = put(lab.daemons[0], b"kept only by the lease", tmp_path, lease="fleet-test-lease")

    rc, out, err = run(capsys, *cfg(lab, path), "leases", "rm", "fleet-test-lease", "--dry-run", "--json")
    assert rc == 0
    plan = {n["node"]: n for n in json.loads(out)["nodes"]}
    assert plan[names[0]]["steps"][0]["bytes"] == len(b"kept only by the lease")
    assert "1 content" in plan[names[0]]["steps"][0]["detail"]
    assert plan[names[2]]["skipped"] == [{"target": "fleet-test-lease", "reason": "no such lease"}]

    rc, out, err = run(capsys, *cfg(lab, path), "leases", "rm", "fleet-test-lease", "--yes", "--json")
    assert (rc, err) == (0, "")
    assert [n["state"] for n in json.loads(out)["nodes"]] == ["done", "done", "skipped"]
    for d in lab.daemons:
        assert "fleet-test-lease" not in d.ctr("leases", "ls", "-q").stdout.split()
    d = lab.daemons[0]
    d.ctr("leases", "create", "--id", "throwaway")
    d.ctr("leases", "delete", "--sync", "throwaway")
    assert kept not in d.content_digests()


def test_a_node_whose_host_key_changed_fails_in_the_plan_and_is_not_touched(lab, fleet, tmp_path, capsys):
    path, names = fleet
    digest = [put(d, b"on every node, to be deleted", tmp_path) for d in lab.daemons][0]
    server = lab.servers[2]
    known = lab.client.known_hosts.read_bytes()
    server.new_host_key()
    try:
        rc, out, err = run(capsys, *cfg(lab, path), "rm", digest, "--yes", "--json")
        assert rc == 1
        result = json.loads(out)
        reason = result["failed"][names[2]]
        assert "CHANGED" in reason and server.host_key_fingerprint in reason
        assert reason.startswith("not changed: ")
        assert [n["state"] for n in result["nodes"]] == ["done", "done", "failed"]
        assert result["nodes"][2]["steps"] == []
        assert err.splitlines()[-1] == "blobctl: 1 of 3 nodes failed"
        # node 2's daemon, asked through its own socket: the blob is still there
        assert [digest in d.content_digests() for d in lab.daemons] == [False, False, True]
        assert lab.client.known_hosts.read_bytes() == known
    finally:
        lab.client.known_hosts.write_text("".join(s.known_hosts_line() for s in lab.servers))
    with ContainerdStore(lab.daemons[2].address) as s:
        s.delete(digest)


def test_without_a_terminal_and_without_yes_it_refuses_and_changes_nothing(lab, fleet, tmp_path, capsys):
    path, names = fleet
    digest = [put(d, b"nobody confirmed", tmp_path) for d in lab.daemons][0]
    rc, out, err = run(capsys, *cfg(lab, path), "rm", digest)
    assert (rc, out) == (2, "")
    assert err == ("blobctl: refusing to change nodes without a confirmation: standard input is not a terminal; "
                   "pass --yes to proceed, or --dry-run to see the plan\n")
    assert all(digest in d.content_digests() for d in lab.daemons)
    assert ssh_processes(lab) == []  # no node was even contacted
    rc, _, err = run(capsys, *cfg(lab, path), "rm", digest, "--nodes", "no-such-node", "--yes")
    assert rc == 2 and "not in the fleet file: no-such-node" in err
    rc, _, err = run(capsys, *cfg(lab, path), "import", tmp_path / "missing", "--yes")
    assert rc == 1 and "cannot open" in err
    assert all(digest in d.content_digests() for d in lab.daemons)


def _converse(argv, answer: bytes, timeout: float = 60.0) -> tuple[int, str]:
    """Run blobctl with a pseudo-terminal as stdin and stderr; answer its question; (status, what it wrote)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "store.cli", *map(str, argv)], stdin=slave, stderr=slave,
                            stdout=subprocess.PIPE, cwd=REPO)
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + timeout
    answered = False
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                seen += chunk
                if not answered and b"[y/N]" in seen:
                    os.write(master, answer + b"\n")
                    answered = True
            elif proc.poll() is not None:
                break
        proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return proc.returncode, seen.decode(errors="replace")


def test_on_a_terminal_it_asks_once_and_no_means_nothing_changes(lab, fleet, tmp_path):
    path, names = fleet
    digest = [put(d, b"asked on a terminal", tmp_path) for d in lab.daemons][0]
    rc, said = _converse([*cfg(lab, path), "rm", digest], b"n")
    assert rc == 1 and said.count("[y/N]") == 1 and "nothing was changed" in said
    for name in names:
        assert name in said  # every node is listed in the one confirmation
    assert all(digest in d.content_digests() for d in lab.daemons)
    rc, said = _converse([*cfg(lab, path), "rm", digest, "--nodes", names[1]], b"y")
    assert rc == 0 and said.count("[y/N]") == 1
    assert [digest in d.content_digests() for d in lab.daemons] == [True, False, True]
