"""Many nodes at once, each alone (slow): 8 healthy nodes beside a node whose sshd is killed
mid-query, one whose host key changed and one whose containerd is stopped; hosts that hang or
answer garbage; cancelling.  Real sshd and containerd processes on loopback only."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from store.cli import main
from store.fleet import FleetRunner, NodeState, SshOptions, queries, read_fleet
from tests.support.sshd import FleetLab, free_port
from tests.support.sshd import put_blob as put
from tests.support.sshd import ssh_clients as ssh_processes

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
HEALTHY = 8
CHANGED_KEY, STOPPED, KILLED = 8, 9, 10


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    base = tmp_path_factory.mktemp("fleet-slow")
    with FleetLab(base, HEALTHY + 3) as lab:
        for i, d in enumerate(lab.daemons):
            put(d, b"shared by the whole fleet", base)
            put(d, f"node {i} alone".encode(), base)
        yield lab


def test_eight_nodes_answer_while_three_fail_each_with_its_own_reason(lab, tmp_path, capsys):
    fleet = tmp_path / "fleet.txt"
    names = lab.write_fleet(fleet)
    truth = {names[i]: set(lab.daemons[i].content_ls()) for i in range(HEALTHY)}
    old_fp = lab.servers[CHANGED_KEY].host_key_fingerprint
    lab.servers[CHANGED_KEY].new_host_key()
    new_fp = lab.servers[CHANGED_KEY].host_key_fingerprint
    assert old_fp != new_fp
    lab.daemons[STOPPED].stop()
    known_before = lab.client.known_hosts.read_bytes()

    events: dict[str, list[str]] = {n: [] for n in names}
    lock = threading.Lock()

    def on_event(o):
        with lock:
            events[o.node.name].append(o.state.value)
        if o.node.name == names[KILLED] and o.state is NodeState.LISTING and o.count == 0:
            lab.servers[KILLED].kill()  # the tunnel is up and the query has begun: the node dies now

    nodes = read_fleet(fleet)
    outcomes = FleetRunner(nodes, queries.inventory_task(), ssh=SshOptions(config=str(lab.client.config)),
                           workers=4, on_event=on_event).run()
    by_name = {o.node.name: o for o in outcomes}
    for name, digests in truth.items():
        assert by_name[name].state is NodeState.DONE, by_name[name].reason
        assert set(by_name[name].result.blobs) == digests
        assert events[name][0] == "connecting" and events[name][-1] == "done"
    changed = by_name[names[CHANGED_KEY]]
    assert (changed.state, changed.kind) == (NodeState.FAILED, "host-key-changed")
    assert "host key CHANGED" in changed.reason and new_fp in changed.reason
    stopped = by_name[names[STOPPED]]
    assert (stopped.state, stopped.kind) == (NodeState.FAILED, "remote-socket"), stopped.reason
    assert lab.daemons[STOPPED].address in stopped.reason
    killed = by_name[names[KILLED]]
    assert (killed.state, killed.kind) == (NodeState.FAILED, "ssh-ended"), killed.reason
    assert "ended during the query" in killed.reason
    assert lab.client.known_hosts.read_bytes() == known_before
    assert ssh_processes(lab.client.config) == []

    # the same fleet through blobctl: 8 answers, 3 one-line reasons on stderr, exit status 1
    rc = main(["--fleet", str(fleet), "--ssh-config", str(lab.client.config), "df", "--json"])
    out, err = capsys.readouterr()
    assert rc == 1
    result = json.loads(out)
    assert [r["node"] for r in result["nodes"]] == names[:HEALTHY]
    assert list(result["failed"]) == [names[CHANGED_KEY], names[STOPPED], names[KILLED]]
    assert result["failed"][names[KILLED]].startswith("unreachable")  # its sshd is gone for good now
    assert err.splitlines() == [*(f"blobctl: {n}: {r}" for n, r in result["failed"].items()),
                                "blobctl: 3 of 11 nodes failed"]
    lab.servers[KILLED].start(port=lab.servers[KILLED].port)
    lab.servers[CHANGED_KEY].new_host_key()  # whatever: the module ends here
    lab.daemons[STOPPED].start()


# HTTP/2 frames: an empty SETTINGS and a SETTINGS ACK (9-byte headers, stream 0)
_SETTINGS = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
_SETTINGS_ACK = b"\x00\x00\x00\x04\x01\x00\x00\x00\x00"


class _Listener:
    """A hostile 'node' on loopback: accepts connections and never answers, answers garbage, or
    (``http2``) completes the HTTP/2 handshake as a gRPC server would and then never answers a call."""

    def __init__(self, family, address, *, garbage: bool, http2: bool = False):
        self.http2 = http2
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.bind(address)
        self.sock.listen(16)
        self.garbage = garbage
        self.conns: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            if self.http2:
                threading.Thread(target=self._hang_after_handshake, args=(c,), daemon=True).start()
            elif self.garbage:
                try:
                    c.sendall(b"\xff\x00garbage, not HTTP/2\r\n" * 64)
                    c.close()
                except OSError:
                    pass

    @staticmethod
    def _hang_after_handshake(c):
        try:
            c.sendall(_SETTINGS + _SETTINGS_ACK)
            while c.recv(65536):  # read the client's preface, settings and calls; answer nothing
                pass
        except OSError:
            pass

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()


def test_hanging_and_garbage_nodes_fail_alone_and_in_bounded_time(lab, tmp_path):
    port = free_port()
    banner_less = _Listener(socket.AF_INET, ("127.0.0.1", port), garbage=False)  # an sshd that hangs
    hang_sock = str(tmp_path / "hang.sock")
    junk_sock = str(tmp_path / "junk.sock")
    hanging_daemon = _Listener(socket.AF_UNIX, hang_sock, garbage=False, http2=True)  # a daemon that hangs
    junk_daemon = _Listener(socket.AF_UNIX, junk_sock, garbage=True)  # not containerd at all
    try:
        fleet = tmp_path / "fleet.txt"
        healthy = [lab.address(i) for i in range(3)]
        banner, hang, junk = (f"ssh://root@127.0.0.1:{port}/run/x.sock", lab.address(0, socket_path=hang_sock),
                              lab.address(1, socket_path=junk_sock))
        fleet.write_text("\n".join([*healthy, banner, junk]) + "\n")
        ssh = SshOptions(config=str(lab.client.config), connect_timeout=2, open_timeout=6)
        outcomes = FleetRunner(read_fleet(fleet), queries.inventory_task(), ssh=ssh, workers=6).run()
        by_name = {o.node.name: o for o in outcomes}
        assert all(by_name[n].ok for n in healthy)
        assert by_name[banner].kind == "timeout", by_name[banner].reason  # ssh's ConnectTimeout
        assert by_name[junk].state is NodeState.FAILED and by_name[junk].kind == "daemon"
        assert "cannot reach containerd" in by_name[junk].reason

        # a daemon that takes the call and never answers: the watchdog ends it at the node timeout
        fleet.write_text(hang + "\n")
        [hung] = FleetRunner(read_fleet(fleet), queries.inventory_task(), ssh=ssh, node_timeout=3).run()
        assert (hung.state, hung.kind) == (NodeState.FAILED, "timeout"), hung.reason
        assert "within 3 s" in hung.reason
        assert ssh_processes(lab.client.config) == []
    finally:
        for listener in (banner_less, hanging_daemon, junk_daemon):
            listener.close()


def test_cancel_stops_the_run_and_every_tunnel(lab, tmp_path):
    fleet = tmp_path / "fleet.txt"
    lab.write_fleet(fleet)
    runner: FleetRunner = FleetRunner(read_fleet(fleet), queries.inventory_task(),
                                      ssh=SshOptions(config=str(lab.client.config)), workers=2)
    seen = []

    def on_event(o):
        seen.append(o.state)
        if o.state is NodeState.DONE:
            runner.cancel()

    runner.on_event = on_event
    outcomes = runner.run()
    states = [o.state for o in outcomes]
    assert NodeState.DONE in states and NodeState.CANCELLED in states
    assert set(states) <= {NodeState.DONE, NodeState.CANCELLED}
    assert all(o.reason for o in outcomes if o.state is NodeState.CANCELLED)
    assert ssh_processes(lab.client.config) == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_a_killed_blobctl_leaves_no_tunnel_behind(lab, tmp_path, sig):
    hang_sock = str(tmp_path / "hang.sock")
    hanging = _Listener(socket.AF_UNIX, hang_sock, garbage=False, http2=True)
    tmp = Path(tempfile.mkdtemp(prefix="ft-", dir="/tmp"))  # short: the tunnels' sockets go in here
    try:
        fleet = tmp_path / "fleet.txt"
        fleet.write_text(f"{lab.address(0)}\n{lab.address(1, socket_path=hang_sock)}\n")
        proc = subprocess.Popen([sys.executable, "-m", "store", "--fleet", str(fleet), "--ssh-config",
                                 str(lab.client.config), "ls"], cwd=REPO, env={**os.environ, "TMPDIR": str(tmp)},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while not ssh_processes(lab.client.config) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ssh_processes(lab.client.config), "blobctl started no tunnel"
        time.sleep(1.0)  # node 0 has answered, node 1 hangs in its List call
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
        deadline = time.monotonic() + 10
        while ssh_processes(lab.client.config) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ssh_processes(lab.client.config) == []  # SIGKILL too: the kernel's pdeathsig ends ssh
        if sig == signal.SIGTERM:
            assert proc.returncode == 130 and b"interrupted (terminated); every tunnel was closed" in err
            assert list(tmp.iterdir()) == []  # every private socket directory removed
    finally:
        hanging.close()
        shutil.rmtree(tmp, ignore_errors=True)
