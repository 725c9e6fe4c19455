"""Bad input at the fleet's edges (issue 11, "Bad input"), against real sshd processes on loopback:
a key the node refuses, and a 'containerd' behind a real sshd that answers a million blobs and more
(a real gRPC server streaming the Content service's List): the listing stops at ``--max-blobs``,
and a cancel ends it at once, while the server is still sending.  No key material is ever printed
or logged.  (Unreachable hosts, wrong users, sockets that are not containerd, garbage and hanging
daemons: test_fleet.py, test_fleet_slow.py, tests/gui/test_fleet_gui.py.)"""

from __future__ import annotations

import json
import logging
import threading
from concurrent import futures

import grpc
import pytest

from store.cli import main
from store.containerd._pb import content_pb2
from store.fleet import FleetRunner, NodeState, SshOptions, queries, read_fleet
from tests.support.sshd import FleetLab, keygen, ssh_clients
from tests.support.sshd import put_blob as put

pytestmark = pytest.mark.integration

MILLION = 1_000_000
BATCH = 1000


class EndlessContent:
    """A gRPC server on a unix socket whose Content.List streams ``total`` blobs (made-up digests) in
    batches of 1,000, noting how many it sent and whether the client went away before the end."""

    def __init__(self, path: str, total: int = MILLION):
        self.total = total
        self.sent = 0
        self.client_left = threading.Event()
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        handler = grpc.method_handlers_generic_handler("containerd.services.content.v1.Content", {
            "List": grpc.unary_stream_rpc_method_handler(
                self._list, request_deserializer=content_pb2.ListContentRequest.FromString,
                response_serializer=content_pb2.ListContentResponse.SerializeToString)})
        self.server.add_generic_rpc_handlers((handler,))
        self.server.add_insecure_port(f"unix:{path}")
        self.server.start()

    def _list(self, request, context):
        context.add_callback(self.client_left.set)  # the call ended: read to the end, or dropped
        for start in range(0, self.total, BATCH):
            if not context.is_active():
                return
            yield content_pb2.ListContentResponse(info=[
                content_pb2.Info(digest=f"sha256:{i:064x}", size=i) for i in range(start, start + BATCH)])
            self.sent = start + BATCH

    def close(self):
        self.server.stop(grace=None)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    base = tmp_path_factory.mktemp("fleet-bad")
    with FleetLab(base, 2) as lab:
        put(lab.daemons[0], b"a blob on node 0", base)
        yield lab


@pytest.fixture
def endless(lab, tmp_path):
    server = EndlessContent(str(tmp_path / "million.sock"))
    yield server, lab.address(1, socket_path=str(tmp_path / "million.sock"))
    server.close()


def test_a_refused_key_fails_that_node_alone_and_no_key_material_is_shown(lab, tmp_path, capsys, caplog):
    stranger = keygen(tmp_path / "id_stranger")  # a key no node's authorized_keys lists
    config = tmp_path / "ssh_config"
    config.write_text(lab.client.config.read_text().replace(str(lab.client.key), str(stranger)))
    # node 0, through an alias, may also offer the accepted key; node 1 only the stranger
    good = tmp_path / "good_config"
    good.write_text(f"Host good-node\n  HostName 127.0.0.1\n  Port {lab.servers[0].port}\n  User root\n"
                    f"  IdentityFile {lab.client.key}\n\n" + config.read_text())
    names = [f"ssh://good-node{lab.daemons[0].address}", lab.address(1)]
    fleet = tmp_path / "fleet.txt"
    fleet.write_text("\n".join(names) + "\n")
    known = lab.client.known_hosts.read_bytes()
    caplog.set_level(logging.DEBUG)
    rc = main(["--fleet", str(fleet), "--ssh-config", str(good), "-vv", "df", "--json"])
    out, err = capsys.readouterr()
    assert rc == 1
    doc = json.loads(out)
    assert [r["node"] for r in doc["nodes"]] == [names[0]]
    assert list(doc["failed"]) == [names[1]] and doc["failed"][names[1]].startswith("authentication refused")
    assert lab.client.known_hosts.read_bytes() == known
    secrets = [k.read_text().split("\n", 1)[1].splitlines()[0] for k in (stranger, lab.client.key)]
    for text in (out, err, caplog.text):  # the private keys' bytes, never; not even their first line
        assert "PRIVATE KEY" not in text and not any(s in text for s in secrets)
    assert ssh_clients(lab.client.config) == [] and ssh_clients(good) == []


def test_a_million_blobs_stop_at_the_limit(lab, endless, tmp_path, capsys):
    server, node = endless
    fleet = tmp_path / "fleet.txt"
    fleet.write_text(f"{lab.address(0)}\n{node}\n")
    rc = main(["--fleet", str(fleet), "--ssh-config", str(lab.client.config), "--max-blobs", "50000", "ls",
               "--json"])
    out, err = capsys.readouterr()
    assert rc == 1
    doc = json.loads(out)
    assert doc["nodes"] == [lab.address(0)]  # the other node answered in full
    assert "more than 50,000 blobs; listing stopped" in doc["failed"][node]
    assert err.splitlines()[0] == f"blobctl: {node}: {doc['failed'][node]}"
    assert server.client_left.wait(30)  # the stream was dropped, not read to its end
    assert 50_000 < server.sent < MILLION
    assert ssh_clients(lab.client.config) == []


def test_a_million_blob_listing_is_cancelled_while_it_streams(lab, endless):
    server, node = endless
    runner: FleetRunner = FleetRunner(read_fleet_text(node), queries.inventory_task(),
                                      ssh=SshOptions(config=str(lab.client.config)))
    counts: list[int] = []

    def on_event(o):
        if o.state is NodeState.LISTING and o.count:
            counts.append(o.count)
            if o.count >= 20_000:
                runner.cancel()

    runner.on_event = on_event
    [outcome] = runner.run()
    assert outcome.state is NodeState.CANCELLED and outcome.result is None, outcome.reason
    assert counts and 20_000 <= counts[-1] < MILLION
    assert server.client_left.wait(30) and server.sent < MILLION
    assert ssh_clients(lab.client.config) == []


def read_fleet_text(line: str):
    import tempfile
    from pathlib import Path
    with tempfile.TemporaryDirectory() as d:
        p = Path(d, "fleet.txt")
        p.write_text(line + "\n")
        return read_fleet(p)


def test_a_grpc_server_that_is_not_containerd_fails_that_node_with_one_line(lab, tmp_path):
    """A remote socket that speaks gRPC, but serves none of containerd's services."""
    path = str(tmp_path / "other.sock")
    other = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    other.add_insecure_port(f"unix:{path}")
    other.start()
    try:
        fleet = tmp_path / "fleet.txt"
        stranger = lab.address(1, socket_path=path)
        fleet.write_text(f"{lab.address(0)}\n{stranger}\n")
        outcomes = FleetRunner(read_fleet(fleet), queries.inventory_task(images=True, reclaimable=True),
                               ssh=SshOptions(config=str(lab.client.config))).run()
        assert outcomes[0].ok and outcomes[0].result.reclaimable is not None
        failed = outcomes[1]
        assert (failed.state, failed.kind) == (NodeState.FAILED, "daemon"), failed.reason
        assert failed.reason.startswith("the remote socket answers gRPC but is not containerd's (no content "
                                        "service: "), failed.reason
        assert "\n" not in failed.reason
    finally:
        other.stop(grace=None)
    assert ssh_clients(lab.client.config) == []


def test_the_dry_run_is_bounded_too_over_every_namespace(lab, tmp_path):
    """The inventory reads one namespace; the GC dry run reads all: --max-blobs bounds both."""
    from store.containerd import ContainerdStore
    f = tmp_path / "elsewhere.bin"
    f.write_bytes(b"a blob in another namespace of node 0")
    with ContainerdStore(lab.daemons[0].address, "elsewhere") as s:
        s.import_file(f)
    fleet = tmp_path / "fleet.txt"
    fleet.write_text(lab.address(0) + "\n")
    ssh = SshOptions(config=str(lab.client.config))
    [small] = FleetRunner(read_fleet(fleet), queries.inventory_task(max_blobs=1, reclaimable=True), ssh=ssh).run()
    assert small.ok and len(small.result.blobs) == 1  # the default namespace fits
    assert small.result.reclaimable is None
    assert "more than 1 content records over all namespaces" in small.result.reclaimable_error
    [enough] = FleetRunner(read_fleet(fleet), queries.inventory_task(max_blobs=2, reclaimable=True), ssh=ssh).run()
    assert enough.ok and enough.result.reclaimable == 0 and enough.result.reclaimable_error is None
