"""An open fleet view: one tunnel and one event subscription per node, and refreshes that list only
the nodes whose daemon said something changed.

While a :class:`FleetSession` is open, every watched node has one long-lived thread that opens the
node's tunnel (``ssh -L``, kept open between refreshes) and listens to its daemon's Events service
(``store.containerd.events``).  An event marks the node *changed*, except ``/content/delete``, whose
digest is taken out of the node's cached listing at the next refresh without asking the node; the
listing's reclaimable bytes (the GC dry run, when the task runs it) are then kept but marked stale
(``NodeInventory.reclaimable_stale``): running the dry run again costs about as much as listing the
node, so a current figure takes a listing (asked for, or ``everything``).
:meth:`FleetSession.refresh` then lists (through the same tunnels) only:

* nodes never listed, or whose last listing failed;
* nodes whose stream reported a change since their last listing started;
* nodes whose stream is down (*stale*: the daemon or the connection went; its watch is restarted),
  whose daemon has no Events service (*unsupported*), or that are not watched (*unwatched*: past
  ``max_watched``, or watching turned off);
* nodes the caller asked for, or all of them (``everything``).

Every other node is *unchanged*: it is not contacted and keeps its cached listing.  containerd
publishes no event when a blob is written (a content commit, a pull's layers before the image
record) or when its garbage collector removes blobs, so a node can change without saying so:
callers offer "refresh all" and per-node refresh for that (docs/fleet.md §9 says what is and is
not seen).  An event published in the moment between the subscription being sent and the daemon
registering it can be missed; the first listing of a node starts after its subscription was sent.

Bounds: at most ``max_watched`` nodes are watched (one thread, one ssh and one stream each); the
deletes kept per node between refreshes are bounded (past ``MAX_PENDING_DELETES`` the node is
simply re-listed).  Tunnels are opened on each node's own watch thread, which lives as long as the
tunnel (the parent-death signal of ssh follows the thread that started it, docs/fleet.md §3).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Callable, Iterable, Sequence

from .. import errors
from ..containerd.events import CHANGE_TOPICS, CONTENT_DELETE, Event, EventsClient, EventStream
from .inventory import Node
from .node import explain_failure
from .queries import NodeInventory, inventory_task
from .runner import DEFAULT_NODE_TIMEOUT, DEFAULT_WORKERS, FleetRunner, NodeOutcome, NodeQuery, NodeState, Task
from .tunnel import CONNECT_TIMEOUT, SshFailure, SshOptions, Tunnel

log = logging.getLogger(__name__)

DEFAULT_MAX_WATCHED = 256
MAX_PENDING_DELETES = 100_000
STALE_AFTER_DELETE = ("blobs were deleted since its GC dry run (seen in its events); the figure is that of "
                      "its last listing until the node is listed again")
_RETRY_WAIT = 0.05


class Watch(str, Enum):
    """Where a node's event stream stands."""

    STARTING = "starting"        # its tunnel or subscription is being opened
    WATCHING = "watching"        # the stream is up: a refresh lists the node only if it said something
    STALE = "stale"              # the stream ended (daemon or connection gone): listed in full next time
    UNSUPPORTED = "unsupported"  # the daemon has no Events service: listed every time
    UNWATCHED = "unwatched"      # past max_watched, or watching is off: listed every time
    CLOSED = "closed"


class Why(str, Enum):
    """Why a refresh lists a node (or ``UNCHANGED``: it did not)."""

    NEW = "new"
    FAILED = "failed"            # its last listing failed
    CHANGED = "changed"          # its stream reported a change
    STALE = "stale"
    UNSUPPORTED = "unsupported"
    UNWATCHED = "unwatched"
    ASKED = "asked"
    ALL = "all"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class WatchEvent:
    """What a node's watch reports (from its thread): an event of its daemon, or a change of state."""

    node: Node
    watch: Watch
    event: Event | None = None
    reason: str | None = None  # why the stream is not up, one line

    def to_json(self) -> dict:
        out: dict = {"node": self.node.name, "watch": self.watch.value}
        if self.event is not None:
            out.update(self.event.to_json())
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass
class RefreshResult:
    """One refresh: every node's outcome in fleet order (cached ones for unchanged nodes), why each
    listed node was listed, and the deletes applied to cached listings."""

    outcomes: list[NodeOutcome]
    why: dict[str, Why]
    applied: dict[str, list[str]] = field(default_factory=dict)

    @property
    def listed(self) -> list[str]:
        return [o.node.name for o in self.outcomes if self.why[o.node.name] is not Why.UNCHANGED]

    @property
    def unchanged(self) -> list[str]:
        return [o.node.name for o in self.outcomes if self.why[o.node.name] is Why.UNCHANGED]


class _NodeWatch:
    """One node's watch thread, tunnel and stream; fields under the session's lock."""

    def __init__(self, node: Node):
        self.node = node
        self.state = Watch.STARTING
        self.reason: str | None = None
        self.tunnel: Tunnel | None = None
        self.error: BaseException | None = None  # why the tunnel did not open
        self.stream: EventStream | None = None
        self.changed = False   # an event other than a delete since the last listing started
        self.missed = False    # the stream was down at some time since the last listing started
        self.deleted: set[str] = set()
        self.events = 0
        self.ready = threading.Event()    # the last (re)start attempt has ended: tunnel up or error set
        self.restart = threading.Event()  # a refresh wants the stream back
        self.thread: threading.Thread | None = None


class FleetSession:
    """An open fleet view over ``nodes``; see the module doc.  Use as a context manager, or call
    :meth:`close` (it ends every stream and tunnel)."""

    def __init__(self, nodes: Sequence[Node], *, ssh: SshOptions | None = None, namespace: str = "default",
                 workers: int = DEFAULT_WORKERS, node_timeout: float = DEFAULT_NODE_TIMEOUT,
                 max_watched: int = DEFAULT_MAX_WATCHED, task: Task | None = None,
                 on_watch: Callable[[WatchEvent], None] | None = None, topics: Sequence[str] = CHANGE_TOPICS):
        if max_watched < 0:
            raise errors.InvalidArgument(f"max_watched must not be negative, not {max_watched}")
        self.nodes = list(nodes)
        self.ssh = ssh or SshOptions()
        self.namespace = namespace
        self.workers = workers
        self.node_timeout = node_timeout
        self.task: Task = task or inventory_task()
        self.on_watch = on_watch
        self.topics = tuple(topics)
        self.listings: dict[str, int] = {n.name: 0 for n in self.nodes}  # listings made per node
        self._cache: dict[str, NodeOutcome] = {}
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._runner: FleetRunner | None = None
        self._watches: dict[str, _NodeWatch] = {}
        for node in self.nodes[:max_watched]:
            w = _NodeWatch(node)
            self._watches[node.name] = w
            w.thread = threading.Thread(target=self._watch, args=(w,), name=f"blobscope-watch-{len(self._watches)}",
                                        daemon=True)
            w.thread.start()

    # -- what the caller sees ----------------------------------------------------------

    def watch_state(self, name: str) -> tuple[Watch, str | None]:
        """A node's watch state and, when its stream is not up, why."""
        w = self._watches.get(name)
        if w is None:
            return (Watch.CLOSED if self._closed.is_set() else Watch.UNWATCHED), None
        with self._lock:
            return w.state, w.reason

    def cached(self, name: str) -> NodeOutcome | None:
        return self._cache.get(name)

    def plan(self, asked: Iterable[str] = (), *, everything: bool = False) -> dict[str, Why]:
        """Why each node would be listed by ``refresh(asked, everything=...)`` (``UNCHANGED``: not)."""
        asked = set(asked)
        unknown = asked - {n.name for n in self.nodes}
        if unknown:
            raise errors.InvalidArgument(f"not a node of this fleet: {sorted(unknown)[0]}")
        out: dict[str, Why] = {}
        with self._lock:
            for node in self.nodes:
                out[node.name] = self._why(node, asked, everything)
        return out

    def _why(self, node: Node, asked: set[str], everything: bool) -> Why:
        cached = self._cache.get(node.name)
        w = self._watches.get(node.name)
        if everything:
            return Why.ALL
        if node.name in asked:
            return Why.ASKED
        if cached is None:
            return Why.NEW
        if not cached.ok:
            return Why.FAILED
        if w is None:
            return Why.UNWATCHED
        if w.state is Watch.UNSUPPORTED:
            return Why.UNSUPPORTED
        if w.missed or w.state in (Watch.STALE, Watch.STARTING):
            return Why.STALE
        if w.changed:
            return Why.CHANGED
        return Why.UNCHANGED

    # -- refresh -----------------------------------------------------------------------

    def refresh(self, asked: Iterable[str] = (), *, everything: bool = False,
                on_event: Callable[[NodeOutcome], None] | None = None,
                on_plan: Callable[[dict[str, Why]], None] | None = None) -> RefreshResult:
        """List the nodes that need it (see the module doc) and return every node's outcome.

        ``on_plan`` gets why each node is listed (or not) once the cached listings are up to date,
        before any node is contacted; ``on_event`` gets the listed nodes' progress as the runner
        reports it (worker threads).
        Blocks until the listed nodes are done; :meth:`cancel` from another thread stops it.
        """
        if self._closed.is_set():
            raise errors.FailedPrecondition("the fleet session is closed")
        why = self.plan(asked, everything=everything)
        applied: dict[str, list[str]] = {}
        with self._lock:
            for node in self.nodes:
                w = self._watches.get(node.name)
                if w is None:
                    continue
                if why[node.name] is Why.UNCHANGED:
                    if w.deleted:
                        applied[node.name] = sorted(w.deleted)
                        self._cache[node.name] = _without(self._cache[node.name], w.deleted)
                        w.deleted = set()
                else:
                    self._restart(w)
        if on_plan is not None:
            on_plan(why)
        listed = [n for n in self.nodes if why[n.name] is not Why.UNCHANGED]
        if listed:
            runner: FleetRunner = FleetRunner(listed, self._listing, ssh=self.ssh, namespace=self.namespace,
                                              workers=self.workers, node_timeout=self.node_timeout,
                                              on_event=on_event, lend=self._lend)
            self._runner = runner
            try:
                for outcome in runner.run():
                    with self._lock:
                        self._cache[outcome.node.name] = outcome
                        w = self._watches.get(outcome.node.name)
                        if w is not None and not outcome.ok:
                            w.missed = True  # not listed: nothing known since
            finally:
                self._runner = None
        outcomes = [self._cache[n.name] for n in self.nodes]
        return RefreshResult(outcomes=outcomes, why=why, applied=applied)

    def rewatch(self, names: Iterable[str] | None = None) -> list[str]:
        """Start again the watches (of ``names``, or all) whose stream is down; returns their names.
        A refresh does this for the nodes it lists; ``blobctl watch`` every few seconds."""
        wanted = None if names is None else set(names)
        restarted = []
        with self._lock:
            for name, w in self._watches.items():
                if (wanted is None or name in wanted) and self._restart(w):
                    restarted.append(name)
        return restarted

    def _restart(self, w: _NodeWatch) -> bool:
        """(Under the lock.)  Wake a watch whose stream or tunnel is down; the lender waits for it."""
        if self._closed.is_set():
            return False
        tunnel_dead = w.state is not Watch.STARTING and w.tunnel is not None and not w.tunnel.alive
        if w.state is not Watch.STALE and not tunnel_dead:
            return False
        w.ready.clear()
        w.state = Watch.STARTING
        w.restart.set()
        return True

    def cancel(self) -> None:
        """Stop the refresh that runs (any thread); the watches go on."""
        runner = self._runner
        if runner is not None:
            runner.cancel()

    def _listing(self, q: NodeQuery):
        w = self._watches.get(q.node.name)
        if w is not None:
            with self._lock:  # what arrives from now on is news to this listing
                w.changed = w.missed = False
                w.deleted = set()
        with self._lock:
            self.listings[q.node.name] += 1
        return self.task(q)

    def _lend(self, node: Node, cancelled: Callable[[], bool]) -> Tunnel | None:
        w = self._watches.get(node.name)
        if w is None:
            return None  # an unwatched node: the runner opens and closes a tunnel of its own
        while not w.ready.wait(_RETRY_WAIT):
            if cancelled() or self._closed.is_set():
                raise errors.Cancelled(f"connecting to {node.address} was cancelled")
        with self._lock:
            tunnel, error = w.tunnel, w.error
        if tunnel is not None and tunnel.alive:
            return tunnel
        if error is not None:
            raise error
        # the watch's tunnel ended and it has not tried again yet: what that tunnel knew is old news,
        # so the runner tries the node now with a tunnel of its own and reports what it finds
        return None

    # -- one node's watch (its own thread) ---------------------------------------------

    def _report(self, w: _NodeWatch, event: Event | None = None) -> None:
        if self.on_watch is None:
            return
        with self._lock:
            report = WatchEvent(w.node, w.state, event, w.reason)
        try:
            self.on_watch(report)
        except Exception:  # noqa: BLE001 - a broken listener must not end a watch
            log.exception("fleet watch listener failed")

    def _set(self, w: _NodeWatch, state: Watch, reason: str | None = None) -> None:
        with self._lock:
            if w.state is Watch.CLOSED:
                return
            w.state, w.reason = state, reason
            if state is not Watch.WATCHING:
                w.missed = True  # whatever happens while nobody listens is unknown
        self._report(w)

    def _watch(self, w: _NodeWatch) -> None:
        try:
            while not self._closed.is_set():
                try:
                    self._watch_once(w)
                except Exception as exc:  # noqa: BLE001 - a bug here is this node's stale stream, not a crash
                    log.exception("watching %s failed", w.node.name)
                    self._set(w, Watch.STALE, f"internal error: {type(exc).__name__}: {exc}")
                w.ready.set()
                # wait for a refresh to want the stream back (or the session to close)
                while not self._closed.is_set() and not w.restart.wait(0.2):
                    pass
                w.restart.clear()
        finally:
            with self._lock:
                tunnel, w.tunnel = w.tunnel, None
                w.state = Watch.CLOSED
            w.ready.set()
            if tunnel is not None:
                tunnel.close()

    def _watch_once(self, w: _NodeWatch) -> None:
        tunnel = w.tunnel
        if tunnel is None or not tunnel.alive:
            if tunnel is not None:
                tunnel.close()
            tunnel = Tunnel(w.node.address, self.ssh)
            with self._lock:
                w.tunnel, w.error = tunnel, None
            try:
                tunnel.open(cancel=self._closed.is_set)
            except (SshFailure, errors.Cancelled) as exc:
                with self._lock:
                    w.tunnel, w.error = None, exc
                self._set(w, Watch.STALE, _reason(w.node, exc))
                return
        # through ssh a connection needs round trips to the node: not gRPC's 100 ms default attempt
        client = EventsClient(tunnel.local_address, self.namespace, connect_timeout=CONNECT_TIMEOUT)
        client.address = str(w.node.address)  # messages name the node, not the private socket
        try:
            stream = client.subscribe(self.topics)
            with self._lock:
                w.stream = stream
            self._set(w, Watch.WATCHING)
            w.ready.set()  # the subscription is sent: a listing may start
            for event in stream:
                self._on_event(w, event)
                if self._closed.is_set():
                    break
            if not self._closed.is_set():
                self._set(w, Watch.STALE, "the daemon ended its event stream")
        except errors.NotImplementedErr:
            self._set(w, Watch.UNSUPPORTED, "the daemon does not serve the Events service")
        except errors.ContentError as exc:
            self._set(w, Watch.STALE, _reason(w.node, explain_failure(tunnel, exc)))
        finally:
            with self._lock:
                w.stream = None
            client.close()

    def _on_event(self, w: _NodeWatch, event: Event) -> None:
        with self._lock:
            w.events += 1
            if event.topic == CONTENT_DELETE and event.digest and len(w.deleted) < MAX_PENDING_DELETES:
                w.deleted.add(event.digest)
            else:
                w.changed = True
        self._report(w, event)

    # -- the end -----------------------------------------------------------------------

    def close(self) -> None:
        """End every stream and tunnel (and a refresh that runs); waits a bounded time for the threads."""
        self._closed.set()
        self.cancel()
        with self._lock:
            watches = list(self._watches.values())
        for w in watches:
            with self._lock:
                stream = w.stream
            if stream is not None:
                stream.cancel()
        for w in watches:
            if w.thread is not None:
                w.thread.join(10.0)
            with self._lock:
                tunnel, w.tunnel = w.tunnel, None
            if tunnel is not None:  # a thread that did not end in time: its tunnel goes anyway
                tunnel.close()

    def __enter__(self) -> "FleetSession":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _without(outcome: NodeOutcome, deleted: set[str]) -> NodeOutcome:
    """A copy of a cached outcome whose listing no longer holds ``deleted`` (the cached one is shared
    with whoever showed it, so it is not changed in place)."""
    inv = outcome.result
    if not isinstance(inv, NodeInventory):
        return outcome
    blobs = {d: s for d, s in inv.blobs.items() if d not in deleted}
    kept = replace(inv, blobs=blobs)  # its images and snapshots kept
    if inv.reclaimable is not None:  # the figure of the last dry run: what GC frees changed with it
        kept.reclaimable_stale = STALE_AFTER_DELETE
    return NodeOutcome(node=outcome.node, state=outcome.state, count=len(blobs), result=kept,
                       reason=outcome.reason, kind=outcome.kind, seconds=outcome.seconds)


def _reason(node: Node, exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(exc)
    prefix = f"{node.address}: "
    return " ".join((text[len(prefix):] if text.startswith(prefix) else text).split())[:300]


__all__ = ["FleetSession", "RefreshResult", "Watch", "WatchEvent", "Why", "DEFAULT_MAX_WATCHED",
           "MAX_PENDING_DELETES", "STALE_AFTER_DELETE", "NodeState"]
