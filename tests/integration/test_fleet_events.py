"""A fleet view that stays open: each node's daemon events (through its own tunnel, kept between
refreshes) decide which nodes a refresh lists.  Real sshd processes in front of real private
containerd daemons (tests/support/sshd.py); what is listed is checked against each daemon's own
``ctr content ls`` and against the session's per-node listing counts."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from store import Digest
from store.containerd import ContainerdStore
from store.containerd.events import CONTENT_DELETE, EventsClient, filters
from store.errors import InvalidArgument
from store.fleet import SshOptions, read_fleet
from store.fleet.queries import inventory_task, node_rows
from store.fleet.session import STALE_AFTER_DELETE, FleetSession, Watch, WatchEvent, Why
from tests.support.containerd import ContainerdDaemon
from tests.support.images import make_oci_image
from tests.support.sshd import FleetLab, SshServer, free_port, ssh_clients
from tests.support.sshd import put_blob as put

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


def wait_for(cond, what: str, timeout: float = 20.0) -> None:
    """Wait (bounded) for an asynchronous fact: an event travels daemon -> sshd -> ssh -> us."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"not seen within {timeout} s: {what}")
        time.sleep(0.02)


def until_live(daemon, tmp: Path, seen_digests) -> None:
    """Delete probe blobs on ``daemon`` until one's /content/delete is seen: the subscription has
    reached the daemon (containerd does not acknowledge one, so a sent subscription may still miss
    an event for a moment, docs/fleet.md §9).  ``seen_digests()``: the deleted digests seen so far."""
    for i in range(200):
        probe = put(daemon, f"probe {i} {time.monotonic()}".encode(), tmp)
        with ContainerdStore(daemon.address) as s:
            s.delete(probe)
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            if probe in seen_digests():
                return
            time.sleep(0.02)
    raise AssertionError("no probe delete was ever seen")


class Seen:
    """What the watches reported, from their threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reports: list[WatchEvent] = []

    def __call__(self, report: WatchEvent) -> None:
        with self.lock:
            self.reports.append(report)

    def digests(self, name: str) -> set[str]:
        with self.lock:
            return {r.event.digest for r in self.reports if r.node.name == name and r.event and r.event.digest}

    def topics(self, name: str) -> list[str]:
        with self.lock:
            return [r.event.topic for r in self.reports if r.node.name == name and r.event is not None]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    base = tmp_path_factory.mktemp("fleet-events")
    with FleetLab(base, 3) as lab:
        for i, d in enumerate(lab.daemons):
            put(d, b"on every node", base)
            put(d, f"only on node {i}".encode(), base)
        yield lab


def listing(outcome) -> set[str]:
    assert outcome.ok, outcome.reason
    return set(outcome.result.blobs)


def test_the_events_client_sees_a_delete_in_its_namespace_and_no_commit(lab, tmp_path):
    d = lab.daemons[0]
    seen: list = []
    with EventsClient(d.address, "default") as client, EventsClient(d.address, "elsewhere") as other:
        stream, quiet = client.subscribe(), other.subscribe()
        threads = [threading.Thread(target=lambda s=s, box=box: box.extend(s)) for s, box in
                   ((stream, seen), (quiet, []))]
        for t in threads:
            t.start()
        until_live(d, tmp_path, lambda: {e.digest for e in seen})
        probes = len(seen)
        digest = put(d, b"written, then deleted", tmp_path)  # a commit: containerd publishes nothing
        with ContainerdStore(d.address) as s:
            s.delete(digest)
        wait_for(lambda: len(seen) > probes, "the /content/delete event")
        stream.cancel()
        quiet.cancel()
        for t in threads:
            t.join(10)
    assert [(e.topic, e.namespace, e.digest) for e in seen[probes:]] == [(CONTENT_DELETE, "default", digest)]
    assert not any(t.is_alive() for t in threads)


def test_topic_filters_are_checked_before_any_call():
    assert filters(["/content/"], "default") == ['namespace==default,topic~="^/content/"']
    assert filters(["/images/delete"]) == ['topic=="/images/delete"']
    with pytest.raises(InvalidArgument):
        filters(['/x"y'])
    with pytest.raises(InvalidArgument):
        filters(["/content/"], "not a namespace")


def test_a_refresh_lists_only_what_changed_or_was_asked(lab, tmp_path):
    fleet = tmp_path / "fleet.txt"
    a, b, c = lab.write_fleet(fleet)
    seen = Seen()
    with FleetSession(read_fleet(fleet), ssh=SshOptions(config=str(lab.client.config)), on_watch=seen) as session:
        first = session.refresh()
        assert first.why == {a: Why.NEW, b: Why.NEW, c: Why.NEW}
        for i, o in enumerate(first.outcomes):
            assert listing(o) == set(lab.daemons[i].content_ls())
        wait_for(lambda: all(session.watch_state(n)[0] is Watch.WATCHING for n in (a, b, c)), "three watches up")
        for i in (1, 2):
            until_live(lab.daemons[i], tmp_path, lambda name=(a, b, c)[i]: seen.digests(name))
        session.refresh()  # the probes' deletes applied
        tunnels = sorted(ssh_clients(lab.client.config))
        assert len(tunnels) == 3  # one ssh per node: the watch's tunnel also carried the listing

        # nothing happened: nobody is contacted
        again = session.refresh()
        assert again.unchanged == [a, b, c] and again.listed == []
        assert session.listings == {a: 1, b: 1, c: 1}

        # a blob deleted on B: B's cached listing loses it, still nobody is listed
        gone = str(Digest.from_bytes(b"only on node 1"))
        with ContainerdStore(lab.daemons[1].address) as s:
            s.delete(gone)
        wait_for(lambda: gone in seen.digests(b), "B's /content/delete")
        after_delete = session.refresh()
        assert after_delete.listed == [] and after_delete.applied == {b: [gone]}
        assert listing(after_delete.outcomes[1]) == set(lab.daemons[1].content_ls())
        assert gone not in listing(after_delete.outcomes[1])
        assert session.listings == {a: 1, b: 1, c: 1}

        # an image imported on C: only C is listed again, and its listing is the daemon's
        archive = make_oci_image(tmp_path, name="example.org/fleet/events:1")
        lab.daemons[2].ctr("images", "import", str(archive))
        wait_for(lambda: "/images/create" in seen.topics(c), "C's /images/create")
        lab.daemons[2].wait_for_gc()
        pulled = session.refresh()
        assert pulled.why == {a: Why.UNCHANGED, b: Why.UNCHANGED, c: Why.CHANGED}
        assert session.listings == {a: 1, b: 1, c: 2}
        assert listing(pulled.outcomes[2]) == set(lab.daemons[2].content_ls())

        # a blob written on A publishes no event: A stays unchanged until it is asked for
        quiet = put(lab.daemons[0], b"committed without an event", tmp_path)
        time.sleep(0.3)  # room for an event that must not come
        assert session.refresh().why[a] is Why.UNCHANGED
        assert quiet not in listing(session.cached(a))
        asked = session.refresh([a])
        assert asked.why == {a: Why.ASKED, b: Why.UNCHANGED, c: Why.UNCHANGED}
        assert quiet in listing(asked.outcomes[0])
        assert listing(asked.outcomes[0]) == set(lab.daemons[0].content_ls())
        assert session.listings == {a: 2, b: 1, c: 2}
        everything = session.refresh(everything=True)
        assert set(everything.why.values()) == {Why.ALL} and session.listings == {a: 3, b: 2, c: 3}

        assert sorted(ssh_clients(lab.client.config)) == tunnels  # the same tunnels all along
    assert ssh_clients(lab.client.config) == []


def test_a_delete_applied_from_events_keeps_the_reclaimable_figure_marked_stale(lab, tmp_path):
    fleet = tmp_path / "fleet.txt"
    a, b, c = lab.write_fleet(fleet)
    d = lab.daemons[1]
    seen = Seen()
    with FleetSession(read_fleet(fleet), ssh=SshOptions(config=str(lab.client.config)), on_watch=seen,
                      task=inventory_task(reclaimable=True)) as session:
        first = {o.node.name: o for o in session.refresh().outcomes}
        assert all(o.ok and o.result.reclaimable is not None and o.result.reclaimable_stale is None
                   for o in first.values())
        until_live(d, tmp_path, lambda: seen.digests(b))
        doomed = put(d, b"on node 1 until its figure goes stale", tmp_path)
        with ContainerdStore(d.address) as s:
            s.delete(doomed)
        wait_for(lambda: doomed in seen.digests(b), "the delete on node 1")
        second = session.refresh()
        assert second.why == {a: Why.UNCHANGED, b: Why.UNCHANGED, c: Why.UNCHANGED} and doomed in second.applied[b]
        assert session.listings == {a: 1, b: 1, c: 1}  # nobody listed, no dry run ran again
        now = {o.node.name: o.result for o in second.outcomes}
        assert now[b].reclaimable == first[b].result.reclaimable and now[b].reclaimable_stale == STALE_AFTER_DELETE
        assert now[a].reclaimable_stale is None and now[c].reclaimable_stale is None
        assert set(now[b].blobs) == set(d.content_ls())
        rows = {r["node"]: r for r in node_rows(second.outcomes)}
        assert [rows[n]["reclaimable_stale"] for n in (a, b, c)] == [None, STALE_AFTER_DELETE, None]
        third = {o.node.name: o.result for o in session.refresh([b]).outcomes}  # listed: the dry run again
        assert session.listings == {a: 1, b: 2, c: 1} and third[b].reclaimable_stale is None
        assert third[b].reclaimable is not None and third[b] is not now[b]


def test_a_stopped_daemon_makes_its_node_stale_and_it_is_listed_in_full(tmp_path):
    with FleetLab(tmp_path, 2) as lab:
        fleet = tmp_path / "fleet.txt"
        a, b = lab.write_fleet(fleet)
        seen = Seen()
        with FleetSession(read_fleet(fleet), ssh=SshOptions(config=str(lab.client.config)),
                          on_watch=seen) as session:
            assert all(o.ok for o in session.refresh().outcomes)
            wait_for(lambda: session.watch_state(b)[0] is Watch.WATCHING, "B's watch up")
            lab.daemons[1].stop()
            wait_for(lambda: session.watch_state(b)[0] is Watch.STALE, "B marked stale")
            assert session.watch_state(b)[1]  # the reason, one line
            result = session.refresh()
            assert result.why == {a: Why.UNCHANGED, b: Why.STALE}
            assert result.outcomes[1].state.value == "failed"
            assert "containerd not running" in (result.outcomes[1].reason or "")
            assert session.listings == {a: 1, b: 2}
            # the daemon is back: the failed node is listed again and watched again
            lab.daemons[1].start()
            back = session.refresh()
            assert back.why[b] is Why.FAILED and listing(back.outcomes[1]) == set(lab.daemons[1].content_ls())
            wait_for(lambda: session.watch_state(b)[0] is Watch.WATCHING, "B watched again")
            assert session.refresh().listed == []

            # A's sshd killed: the tunnel ends, A is stale and its listing fails, alone
            port = lab.servers[0].port
            lab.servers[0].kill()
            wait_for(lambda: session.watch_state(a)[0] is Watch.STALE, "A marked stale")
            assert "SSH connection ended" in (session.watch_state(a)[1] or "")
            result = session.refresh()
            assert result.why == {a: Why.STALE, b: Why.UNCHANGED}
            assert result.outcomes[0].kind == "unreachable" and result.outcomes[1].ok
            lab.servers[0].start(port=port)
            back = session.refresh()
            assert back.why == {a: Why.FAILED, b: Why.UNCHANGED}
            assert listing(back.outcomes[0]) == set(lab.daemons[0].content_ls())
            wait_for(lambda: session.watch_state(a)[0] is Watch.WATCHING, "A watched again")
            assert session.listings == {a: 2, b: 3}  # without its sshd, A never got as far as a listing
        assert ssh_clients(lab.client.config) == []


def test_bounds_unwatched_nodes_and_a_daemon_without_events_are_listed_every_time(lab, tmp_path):
    noevents = ContainerdDaemon(tmp_path, name="noev", disabled_plugins=("io.containerd.grpc.v1.events",)).start()
    server = SshServer(tmp_path, lab.client.authorized_keys, name="sshd-noev").start()
    known = lab.client.known_hosts.read_bytes()
    lab.client.trust(server)
    try:
        put(noevents, b"on the node without events", tmp_path)
        fleet = tmp_path / "fleet.txt"
        a, b, c = lab.write_fleet(fleet)
        quiet = f"ssh://root@127.0.0.1:{server.port}{noevents.address}"
        fleet.write_text(fleet.read_text() + quiet + "\n")
        with FleetSession(read_fleet(fleet), ssh=SshOptions(config=str(lab.client.config)), max_watched=2) as session:
            session.refresh()
            wait_for(lambda: session.watch_state(a)[0] is Watch.WATCHING, "A watched")
            assert session.watch_state(c)[0] is Watch.UNWATCHED and session.watch_state(quiet)[0] is Watch.UNWATCHED
            assert len(ssh_clients(lab.client.config)) == 2  # the unwatched nodes' tunnels closed after listing
            again = session.refresh()
            assert again.why == {a: Why.UNCHANGED, b: Why.UNCHANGED, c: Why.UNWATCHED, quiet: Why.UNWATCHED}
        with FleetSession(read_fleet(fleet), ssh=SshOptions(config=str(lab.client.config))) as session:
            first = session.refresh()
            assert all(o.ok for o in first.outcomes)
            wait_for(lambda: session.watch_state(quiet)[0] is Watch.UNSUPPORTED, "no Events service")
            assert "Events" in (session.watch_state(quiet)[1] or "")
            again = session.refresh()
            assert again.why[quiet] is Why.UNSUPPORTED and again.listed == [quiet]
            assert listing(again.outcomes[3]) == set(noevents.content_ls())
    finally:
        lab.client.known_hosts.write_bytes(known)
        server.stop()
        noevents.stop()


def test_blobctl_watch_prints_each_nodes_events_until_ctrl_c(lab, tmp_path):
    fleet = tmp_path / "fleet.txt"
    names = lab.write_fleet(fleet)
    dead = f"ssh://root@127.0.0.1:{free_port()}/run/containerd/containerd.sock"  # nothing listens there
    fleet.write_text(fleet.read_text() + dead + "\n")
    proc = subprocess.Popen([sys.executable, "-m", "store", "--fleet", str(fleet), "--ssh-config",
                             str(lab.client.config), "watch", "--retry", "600"], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[dict] = []
    reader = threading.Thread(target=lambda: lines.extend(json.loads(x) for x in proc.stdout), daemon=True)
    reader.start()
    try:
        wait_for(lambda: {(x["node"], x["watch"]) for x in lines} >= {*((n, "watching") for n in names),
                                                                        (dead, "stale")}, "every stream up or down")
        assert "Connection refused" in next(x["reason"] for x in lines if x["node"] == dead)
        until_live(lab.daemons[2], tmp_path, lambda: {x.get("digest") for x in lines if x["node"] == names[2]})
        probes = {x["digest"] for x in lines if x.get("digest")}
        gone = put(lab.daemons[2], b"to be deleted while watched", tmp_path)
        with ContainerdStore(lab.daemons[2].address) as s:
            s.delete(gone)
        wait_for(lambda: any(x.get("digest") == gone for x in lines), "the delete on node 2")
        event = next(x for x in lines if x.get("digest") == gone)
        assert event["node"] == names[2] and event["topic"] == CONTENT_DELETE and event["namespace"] == "default"
        assert len(ssh_clients(lab.client.config)) == 3
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "interrupted" in err
    wait_for(lambda: ssh_clients(lab.client.config) == [], "every tunnel closed", timeout=10)
    assert not [x for x in lines if x.get("digest") not in (None, gone, *probes)]  # a commit printed nothing


@pytest.mark.parametrize("argv, says", [
    (["--topic", "content/"], "--topic: event topic 'content/' must start with '/'"),
    (["--retry", "0"], "--retry and --max-events must be positive"),
])
def test_blobctl_watch_usage_errors_contact_no_node(tmp_path, capsys, argv, says):
    from store.cli import main
    fleet = tmp_path / "fleet.txt"
    fleet.write_text(f"ssh://root@127.0.0.1:{free_port()}/run/containerd/containerd.sock\n")
    assert main(["--fleet", str(fleet), "watch", *argv]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(f"blobctl: {says}") and err.count("\n") == 1
