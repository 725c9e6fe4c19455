"""The parts of fleet actions that need no node: durations, ``--nodes``, checks before any connection,
and the result of a node that failed in the plan (never executed).  The nodes themselves are in
tests/integration/test_fleet_actions.py."""

from __future__ import annotations

from datetime import timedelta

import pytest

from store import errors
from store.cli.common import UsageError
from store.cli.fleet import select_nodes
from store.cli.fleet_actions import parse_duration
from store.fleet import actions, parse_fleet
from store.fleet.runner import NodeOutcome, NodeState


@pytest.mark.parametrize("text, seconds", [("90", 90), ("90s", 90), ("15m", 900), ("2h", 7200), ("1d", 86400),
                                           ("1h30m", 5400), ("0.5", 0.5), ("0", 0)])
def test_durations(text, seconds):
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "soon", "1x", "h", "1h 30m", "30m1", "-5"])
def test_bad_durations_are_usage_errors(text):
    with pytest.raises(UsageError):
        parse_duration(text)


INI = """
[web]
web1 ansible_host=10.0.0.1
web2 ansible_host=10.0.0.2
[db]
db1 ansible_host=10.0.0.3
"""


def test_nodes_are_selected_by_name_or_group_in_file_order():
    nodes = parse_fleet(INI, source="hosts.ini")
    assert [n.name for n in select_nodes(nodes, "db1,web1")] == ["web1", "db1"]
    assert [n.name for n in select_nodes(nodes, "web")] == ["web1", "web2"]
    assert select_nodes(nodes, None) == nodes
    with pytest.raises(UsageError, match="not in the fleet file: web3"):
        select_nodes(nodes, "web1,web3")
    with pytest.raises(UsageError, match="names no node"):
        select_nodes(nodes, " , ")


def test_bad_arguments_fail_before_any_node(tmp_path):
    with pytest.raises(errors.InvalidArgument):
        actions.DeleteBlobs(["sha256:nothex"])
    with pytest.raises(errors.InvalidArgument, match="not a regular file"):
        actions.ImportFile(tmp_path)
    with pytest.raises(errors.InvalidArgument):
        actions.ImportFile(tmp_path / "missing")
    f = tmp_path / "f"
    f.write_bytes(b"x")
    with pytest.raises(errors.InvalidArgument):
        actions.ImportFile(f, labels={"": "v"})
    with pytest.raises(errors.InvalidArgument):
        actions.RemoveLeases([""])
    with pytest.raises(errors.InvalidArgument):
        actions.AbortIngests([])


def test_a_node_failed_in_the_plan_is_not_executed_and_fails_in_the_results():
    a, b = parse_fleet("ssh://root@127.0.0.1:1\nssh://root@127.0.0.1:2\n", source="f")
    action = actions.DeleteBlobs(["sha256:" + "a" * 64])
    plan = actions.plan_from(action, [
        NodeOutcome(a, NodeState.FAILED, reason="host key CHANGED: ...", kind="host-key-changed"),
        NodeOutcome(b, NodeState.DONE, result=([], [actions.Skip("sha256:" + "a" * 64, "not present")])),
    ])
    assert plan.ready == [] and plan.failed == {a.name: "host key CHANGED: ..."}
    execution = actions.Execution(plan)
    assert execution.runner.nodes == []  # nobody to contact
    results = execution.run()
    assert [(r.state, r.reason) for r in results] == [("failed", "not changed: host key CHANGED: ..."),
                                                     ("skipped", "not present")]
    assert actions.results_json(action, results)["failed"] == {a.name: "not changed: host key CHANGED: ..."}
