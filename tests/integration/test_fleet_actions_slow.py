"""Acting on many nodes when things change between the plan and the execution (slow): a host key that
changes, an sshd that dies, a daemon that stops, an ingest written to, a cancelled import.  Real
sshd and containerd processes on loopback; every check reads the daemon through its own socket."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from store.containerd import ContainerdStore
from store.fleet import NodeState, SshOptions, actions, read_fleet
from tests.support.sshd import FleetLab
from tests.support.sshd import put_blob as put

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def lab(tmp_path):
    with FleetLab(tmp_path, 3) as lab:
        yield lab


@pytest.fixture
def nodes(lab, tmp_path):
    path = tmp_path / "fleet.txt"
    lab.write_fleet(path)
    return read_fleet(path)


def opts(lab) -> dict:
    return {"ssh": SshOptions(config=str(lab.client.config)), "workers": 4, "node_timeout": 60}


def test_a_host_key_that_changes_after_the_plan_stops_the_write_on_that_node(lab, nodes, tmp_path):
    digest = [put(d, b"planned everywhere", tmp_path) for d in lab.daemons][0]
    plan = actions.make_plan(nodes, actions.DeleteBlobs([digest]), **opts(lab))
    assert [p.node for p in plan.ready] == nodes  # every node answered the plan
    lab.servers[1].new_host_key()  # someone in between, after the confirmation
    results = actions.execute(plan, **opts(lab))
    assert [r.state for r in results] == ["done", "failed", "done"]
    assert results[1].kind == "host-key-changed" and lab.servers[1].host_key_fingerprint in results[1].reason
    assert [s.state for s in results[1].steps] == ["failed"] and results[1].steps[0].reason == "not attempted"
    assert [digest in d.content_digests() for d in lab.daemons] == [False, True, False]


def test_a_dead_sshd_or_a_stopped_daemon_is_that_nodes_failure_alone(lab, nodes, tmp_path):
    digest = [put(d, b"dead nodes", tmp_path) for d in lab.daemons][0]
    lab.daemons[2].stop()
    plan = actions.make_plan(nodes, actions.DeleteBlobs([digest]), **opts(lab))
    assert [p.node.name for p in plan.ready] == [nodes[0].name, nodes[1].name]
    assert plan.nodes[2].kind in ("remote-socket", "daemon")
    lab.servers[1].kill()  # between the plan and the execution
    results = actions.execute(plan, **opts(lab))
    assert [r.state for r in results] == ["done", "failed", "failed"]
    assert results[1].kind in ("unreachable", "ssh", "ssh-ended")
    assert results[2].reason.startswith("not changed: ")
    assert digest not in lab.daemons[0].content_digests()
    assert digest in lab.daemons[1].content_digests()


def test_an_ingest_written_to_after_the_plan_is_not_aborted(lab, nodes):
    writers = []
    for d in lab.daemons:
        s = ContainerdStore(d.address, lease=None)
        w = s.writer("slow-pull", total=1000)
        w.write(b"first bytes")
        writers.append((s, w))
    try:
        plan = actions.make_plan(nodes, actions.AbortIngests(older_than=timedelta(0)), **opts(lab))
        assert [[s.target for s in p.steps] for p in plan.nodes] == [["slow-pull"]] * 3
        writers[0][1].write(b" and more")  # node 0's pull is alive after all
        writers[0][1].close()
        results = actions.execute(plan, **opts(lab))
        assert [r.state for r in results] == ["skipped", "done", "done"]
        assert results[0].steps[0].reason == "written to since the plan: not stalled"
        with ContainerdStore(lab.daemons[0].address) as s:
            assert s.status("slow-pull").offset == len(b"first bytes and more")
        for d in lab.daemons[1:]:
            with ContainerdStore(d.address) as s:
                assert s.list_statuses() == []
    finally:
        for s, w in writers:
            w.close()
            s.close()


def test_a_cancelled_import_leaves_nothing_on_any_node(lab, nodes, tmp_path):
    f = tmp_path / "big.bin"
    f.write_bytes(bytes(range(256)) * (64 << 12))  # 64 MiB: still sending when cancelled
    action = actions.ImportFile(f)
    plan = actions.make_plan(nodes, action, **opts(lab))
    assert [p.bytes for p in plan.nodes] == [f.stat().st_size] * 3
    execution: actions.Execution | None = None
    started = threading.Event()

    def on_event(o):
        if o.state is NodeState.LISTING and o.count > 0:
            started.set()
            assert execution is not None
            execution.cancel()

    execution = actions.Execution(plan, on_event=on_event, **opts(lab))
    results = execution.run()
    assert started.is_set()
    assert all(r.state == "failed" for r in results)
    for d in lab.daemons:
        d.ctr("leases", "create", "--id", "throwaway")
        d.ctr("leases", "delete", "--sync", "throwaway")
        assert str(action.digest) not in d.content_digests()
        with ContainerdStore(d.address) as s:
            assert s.list_statuses() == []
