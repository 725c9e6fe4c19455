"""A node far away (slow): the first gRPC connection through its tunnel takes longer than a local
socket's, and the node must still answer.

The "distance" is put on the node's side: sshd forwards to a unix socket whose listener waits
0.5 s before it connects to the real containerd and relays bytes both ways, as a node 0.3 s of
round trip away would (ssh's channel open, then containerd's HTTP/2 settings).  gRPC's own connect
deadline with our reconnect options was 0.1 s, which failed every such node with "cannot reach
containerd".  Real sshd and containerd processes on loopback only."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest

from store.cli import main
from store.fleet import FleetRunner, SshOptions, queries, read_fleet
from tests.support.sshd import FleetLab
from tests.support.sshd import put_blob as put

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DELAY = 0.5


class _SlowRelay:
    """A unix socket that waits ``DELAY`` after each accept, then relays to ``target``."""

    def __init__(self, path: str, target: str):
        self.target = target
        self.accepted = 0
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(16)
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            self.conns.append(c)
            threading.Thread(target=self._relay, args=(c,), daemon=True).start()

    def _relay(self, c: socket.socket):
        time.sleep(DELAY)
        u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.conns.append(u)
        try:
            u.connect(self.target)
        except OSError:
            c.close()
            return
        threading.Thread(target=self._pipe, args=(u, c), daemon=True).start()
        self._pipe(c, u)

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket):
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()


@pytest.fixture(scope="module")
def slow_node(tmp_path_factory):
    base = tmp_path_factory.mktemp("fleet-far")
    with FleetLab(base, 1) as lab:
        digest = put(lab.daemons[0], b"a blob on a node far away", base)
        relay = _SlowRelay(str(base / "far.sock"), lab.daemons[0].address)
        try:
            yield lab, lab.address(0, socket_path=str(base / "far.sock")), digest, relay
        finally:
            relay.close()


def test_a_node_whose_first_connection_is_slow_is_listed(slow_node, tmp_path):
    lab, address, digest, relay = slow_node
    fleet = tmp_path / "fleet.txt"
    fleet.write_text(address + "\n")
    before = relay.accepted
    [o] = FleetRunner(read_fleet(fleet), queries.inventory_task(), ssh=SshOptions(config=str(lab.client.config)),
                      node_timeout=30).run()
    assert o.ok, o.reason
    assert set(o.result.blobs) == set(lab.daemons[0].content_digests())
    assert digest in o.result.blobs
    assert relay.accepted > before  # the listing did go through the slow socket


def test_blobctl_on_one_slow_node_answers(slow_node, capsys):
    lab, address, digest, relay = slow_node
    before = relay.accepted
    assert main(["--ssh-config", str(lab.client.config), "-a", address, "ls", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert digest in json.dumps(listed)
    assert relay.accepted > before


def test_a_service_client_of_its_own_through_the_tunnel_connects(slow_node, tmp_path):
    """A client with its own channel (an events stream, a snapshots client) takes the same bound."""
    lab, address, digest, relay = slow_node
    from store.containerd.snapshots import SnapshotsClient
    from store.fleet.address import parse
    from store.fleet.tunnel import CONNECT_TIMEOUT, Tunnel
    with Tunnel(parse(address), SshOptions(config=str(lab.client.config))) as tunnel:
        with SnapshotsClient(tunnel.local_address, connect_timeout=CONNECT_TIMEOUT) as client:
            assert client.has("native")


def test_a_far_nodes_event_stream_comes_up_and_reports_a_delete(slow_node, tmp_path):
    """The fleet view's watch opens its own channel through the tunnel: it takes the same bound,
    else the far node's stream fails at once and the node is re-listed on every refresh."""
    lab, address, digest, relay = slow_node
    from store.containerd import ContainerdStore
    from store.fleet.session import FleetSession, Watch
    from tests.integration.test_fleet_events import Seen, until_live
    fleet = tmp_path / "fleet.txt"
    fleet.write_text(address + "\n")
    [node] = read_fleet(fleet)
    seen = Seen()
    with FleetSession([node], ssh=SshOptions(config=str(lab.client.config)), node_timeout=30,
                      on_watch=seen) as session:
        until_live(lab.daemons[0], tmp_path, lambda: seen.digests(node.name))
        assert session.watch_state(node.name)[0] == Watch.WATCHING
        gone = put(lab.daemons[0], b"deleted on a far node", tmp_path)
        with ContainerdStore(lab.daemons[0].address) as s:
            s.delete(gone)
        deadline = time.monotonic() + 20
        while gone not in seen.digests(node.name):
            assert time.monotonic() < deadline, "the far node's /content/delete never arrived"
            time.sleep(0.02)
        assert session.watch_state(node.name)[0] == Watch.WATCHING
