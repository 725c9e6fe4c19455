"""Query many nodes at once, each alone: a bounded pool, per-node events, a watchdog, cancel.

Each node gets its own tunnel (``tunnel.py``) and its own :class:`ContainerdStore`, opened,
used and closed by one worker thread.  The caller's thread runs a watchdog while it waits: when
a node passes ``node_timeout`` or the run is cancelled, it closes that node's tunnel, which ends
whatever gRPC call hangs on it; no other node is touched.  Results are handed out as each node
finishes (``on_event``), and :meth:`FleetRunner.run` returns them all in the fleet's order.

A GUI drives the same object from a thread of its own: ``on_event`` is called on worker threads
(a GUI queues it to its own thread), and :meth:`FleetRunner.cancel` may be called from any thread.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable, Generic, Sequence, TypeVar

from .. import errors
from ..containerd import ContainerdStore
from .inventory import Node
from .node import explain_failure
from .tunnel import CONNECT_TIMEOUT, SshFailure, SshOptions, Tunnel

log = logging.getLogger(__name__)

DEFAULT_WORKERS = 16
DEFAULT_NODE_TIMEOUT = 300.0
T = TypeVar("T")


class NodeState(str, Enum):
    QUEUED = "queued"
    CONNECTING = "connecting"
    LISTING = "listing"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass
class NodeOutcome(Generic[T]):
    """Where one node stands; the last one of a node is its result."""

    node: Node
    state: NodeState = NodeState.QUEUED
    count: int = 0  # items listed so far (a progress figure)
    result: T | None = None
    reason: str | None = None  # one line, when failed or cancelled
    kind: str | None = None  # SshFailure.reason, "timeout", "daemon", "too-big" or "cancelled"
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.state is NodeState.DONE


@dataclass
class NodeQuery:
    """What a task is handed for one node: the store, and ways to report and to stop."""

    node: Node
    store: ContainerdStore
    progress: Callable[[int], None]
    cancelled: Callable[[], bool]


#: ``task(query) -> result``: what to do on one node (see ``queries.py``).
Task = Callable[[NodeQuery], T]
#: ``lend(node, cancelled) -> an open Tunnel`` kept open after the task, or None for the runner to
#: open (and close) its own; it raises the node's SshFailure when its tunnel failed (``session.py``).
Lend = Callable[[Node, Callable[[], bool]], "Tunnel | None"]


@dataclass
class _Running:
    tunnel: Tunnel | None = None
    deadline: float = 0.0
    timed_out: bool = False
    started: float = field(default_factory=time.monotonic)


class FleetRunner(Generic[T]):
    """Run ``task`` on every node with at most ``workers`` at once; see the module doc."""

    def __init__(self, nodes: Sequence[Node], task: Task, *, ssh: SshOptions | None = None,
                 namespace: str = "default", workers: int = DEFAULT_WORKERS,
                 node_timeout: float = DEFAULT_NODE_TIMEOUT,
                 on_event: Callable[[NodeOutcome], None] | None = None, read_only: bool = True,
                 cancel_grace: float = 0.0, lend: "Lend | None" = None):
        if workers < 1:
            raise errors.InvalidArgument(f"workers must be at least 1, not {workers}")
        if node_timeout <= 0:
            raise errors.InvalidArgument(f"node timeout must be positive, not {node_timeout}")
        self.nodes = list(nodes)
        self.task = task
        self.ssh = ssh or SshOptions()
        self.namespace = namespace
        self.workers = workers
        self.node_timeout = node_timeout
        self.on_event = on_event
        self.read_only = read_only  # False only for actions.py's execute step (fleet.md §7)
        # After cancel(), how long a running task may take to stop by itself (a write aborts its
        # ingest and ends its lease) before its tunnel is closed under it.
        self.cancel_grace = max(0.0, cancel_grace)
        self._cancelled_at: float | None = None
        # A lender of tunnels already open (session.py keeps one per watched node): the runner uses a
        # lent tunnel and leaves it open after the task; it still closes it on timeout or cancel.
        self.lend = lend
        self.outcomes: dict[str, NodeOutcome] = {n.name: NodeOutcome(n) for n in self.nodes}
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._running: dict[str, _Running] = {}

    def cancel(self) -> None:
        """Stop: queued nodes are not started, running ones have their tunnel closed (any thread;
        after ``cancel_grace`` seconds, for tasks that stop by themselves)."""
        if self._cancelled_at is None:
            self._cancelled_at = time.monotonic()
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def run(self) -> list[NodeOutcome]:
        """Query every node; returns the outcomes in the fleet's order once all have ended."""
        if not self.nodes:
            return []
        pool = ThreadPoolExecutor(max_workers=min(self.workers, len(self.nodes)), thread_name_prefix="blobscope-fleet")
        futures: dict[Future, Node] = {}
        try:
            for node in self.nodes:
                futures[pool.submit(self._one, node)] = node
            pending = set(futures)
            while pending:
                done, pending = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
                for fut in done:
                    exc = fut.exception()
                    if exc is not None:  # a bug in a task: still one node's failure, never the run's
                        log.debug("node %s: unexpected error", futures[fut].name, exc_info=exc)
                        self._finish(futures[fut], NodeState.FAILED, reason=f"internal error: "
                                     f"{type(exc).__name__}: {exc}", kind="internal")
                self._watch()
        finally:
            if any(not f.done() for f in futures):  # KeyboardInterrupt in the caller: stop everything
                self.cancel()
                if self.cancel_grace:  # let writes stop by themselves first (abort, end the lease)
                    wait([f for f in futures if not f.done()], timeout=self.cancel_grace)
                self._watch(force=True)
            pool.shutdown(wait=True, cancel_futures=True)
            for node in self.nodes:
                outcome = self.outcomes[node.name]
                if outcome.state in (NodeState.QUEUED, NodeState.CONNECTING, NodeState.LISTING):
                    self._finish(node, NodeState.CANCELLED, reason="cancelled", kind="cancelled")
        return [self.outcomes[n.name] for n in self.nodes]

    # -- the watchdog (caller's thread) ------------------------------------------------

    def _watch(self, *, force: bool = False) -> None:
        now = time.monotonic()
        with self._lock:
            running = list(self._running.values())
        closing = self._cancel.is_set() and (force or now - (self._cancelled_at or now) >= self.cancel_grace)
        for r in running:
            if closing or now > r.deadline:
                if not self._cancel.is_set():
                    r.timed_out = True
                if r.tunnel is not None:
                    r.tunnel.close()  # ends the gRPC call that hangs on it

    # -- one node (a worker thread) ----------------------------------------------------

    def _emit(self, outcome: NodeOutcome) -> None:
        if self.on_event is None:
            return
        try:
            self.on_event(outcome)
        except Exception:  # noqa: BLE001 - a broken listener must not break a node
            log.exception("fleet event listener failed")

    def _set(self, node: Node, state: NodeState, **fields: Any) -> None:
        with self._lock:
            o = self.outcomes[node.name]
            if o.state in (NodeState.DONE, NodeState.FAILED, NodeState.CANCELLED):
                return
            o.state = state
            for k, v in fields.items():
                setattr(o, k, v)
            snapshot = NodeOutcome(**{k: getattr(o, k) for k in o.__dataclass_fields__})
        self._emit(snapshot)

    def _finish(self, node: Node, state: NodeState, **fields: Any) -> None:
        with self._lock:
            r = self._running.pop(node.name, None)
        if r is not None:
            fields["seconds"] = time.monotonic() - r.started
        self._set(node, state, **fields)

    def _one(self, node: Node) -> None:
        if self._cancel.is_set():
            self._finish(node, NodeState.CANCELLED, reason="cancelled before it started", kind="cancelled")
            return
        r = _Running(deadline=time.monotonic() + self.node_timeout)
        with self._lock:
            self._running[node.name] = r
        self._set(node, NodeState.CONNECTING)
        stop = lambda: self._cancel.is_set() or r.timed_out  # noqa: E731
        tunnel: Tunnel | None = None
        lent = False
        store: ContainerdStore | None = None
        try:
            if self.lend is not None:
                tunnel = r.tunnel = self.lend(node, stop)
                lent = tunnel is not None
            if tunnel is None:
                tunnel = r.tunnel = Tunnel(node.address, self.ssh)
                tunnel.open(cancel=stop)
            store = ContainerdStore(tunnel.local_address, self.namespace, read_only=self.read_only,
                                    timeout=max(1.0, min(30.0, self.node_timeout)),
                                    connect_timeout=min(CONNECT_TIMEOUT, self.node_timeout))
            store.address = str(node.address)  # messages name the node, not the private socket
            self._set(node, NodeState.LISTING)
            result = self.task(NodeQuery(node, store, lambda n: self._set(node, NodeState.LISTING, count=n), stop))
        except BaseException as exc:  # noqa: BLE001 - every failure is this node's alone
            state, reason, kind = self._failure(node, r, tunnel, exc)
            prefix = f"{node.address}: "  # the node is named beside the reason, not inside it
            self._finish(node, state, reason=reason[len(prefix):] if reason.startswith(prefix) else reason, kind=kind)
            if not isinstance(exc, Exception):
                raise
        else:
            self._finish(node, NodeState.DONE, result=result)
        finally:
            if store is not None:
                store.close()
            if tunnel is not None and not lent:
                tunnel.close()

    def _failure(self, node: Node, r: _Running, tunnel: Tunnel | None, exc: BaseException) -> tuple[NodeState, str, str]:
        if r.timed_out:
            return NodeState.FAILED, (f"{node.address}: timeout: no complete answer within {self.node_timeout:g} s "
                                      "(the node or its daemon hangs)"), "timeout"
        if self._cancel.is_set():
            return NodeState.CANCELLED, "cancelled", "cancelled"
        if isinstance(exc, SshFailure):
            return NodeState.FAILED, exc.message, exc.reason
        if isinstance(exc, errors.Cancelled):
            return NodeState.CANCELLED, exc.message or "cancelled", "cancelled"
        if isinstance(exc, errors.ContentError):
            explained = explain_failure(tunnel, exc) if tunnel is not None else exc
            if isinstance(explained, SshFailure):
                return NodeState.FAILED, explained.message, explained.reason
            kind = getattr(exc, "fleet_kind", "daemon")
            return NodeState.FAILED, _one_line(str(exc)), kind
        if isinstance(exc, Exception):
            log.debug("node %s failed", node.name, exc_info=exc)
            return NodeState.FAILED, f"internal error: {type(exc).__name__}: {_one_line(str(exc))}", "internal"
        return NodeState.CANCELLED, f"interrupted ({type(exc).__name__})", "cancelled"


def _one_line(text: str) -> str:
    return " ".join(text.split())[:500]


def run_fleet(nodes: Sequence[Node], task: Task, **kwargs) -> list[NodeOutcome]:
    """``FleetRunner(nodes, task, **kwargs).run()``."""
    return FleetRunner(nodes, task, **kwargs).run()


__all__ = ["FleetRunner", "NodeOutcome", "NodeQuery", "NodeState", "Task", "run_fleet", "DEFAULT_WORKERS",
           "DEFAULT_NODE_TIMEOUT"]
