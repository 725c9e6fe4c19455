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
from store.fleet.session import FleetSession, Watch, WatchEvent, Why
from tests.support.images import make_oci_image
from tests.support.sshd import FleetLab, free_port, ssh_clients
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


class Seen:
    """What the watches reported, from their threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reports: list[WatchEvent] = []

    def __call__(self, report: WatchEvent) -> None:
        with self.lock:
            self.reports.append(report)

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
        time.sleep(0.2)  # the subscriptions reach the daemon (a missed event fails the test below)
        digest = put(d, b"written, then deleted", tmp_path)  # a commit: containerd publishes nothing
        with ContainerdStore(d.address) as s:
            s.delete(digest)
        wait_for(lambda: seen, "the /content/delete event")
        stream.cancel()
        quiet.cancel()
        for t in threads:
            t.join(10)
    assert [(e.topic, e.namespace, e.digest) for e in seen] == [(CONTENT_DELETE, "default", digest)]
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
        wait_for(lambda: CONTENT_DELETE in seen.topics(b), "B's /content/delete")
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
        assert ssh_clients(lab.client.config) == []


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
    assert not [x for x in lines if x.get("digest") and x["digest"] != gone]  # a commit printed nothing
