"""Fleet inventory runs off the GUI thread, through one open ``FleetSession`` (store/fleet/session.py).

The session keeps each node's tunnel and event subscription open between runs (on its own
threads), so a refresh lists only the nodes whose daemon reported a change, whose stream is down,
or that the user asked for; the others keep their last listing ("unchanged").  A new fleet, a
new namespace or new SSH settings close the session and open another.  Each run gets a dedicated
``threading.Thread`` that lives exactly as long as the run.  Each node's events come back to the
GUI thread as queued signals carrying the plain ``NodeOutcome``; every signal carries the run's
generation, and the owner drops those of an older run.  :meth:`FleetQuery.cancel` returns at
once; the runner stops waiting for the running nodes and starts no queued one.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Sequence

from PySide6.QtCore import QObject, Qt, Signal, Slot

log = logging.getLogger(__name__)


class FleetQuery(QObject):
    """Start, cancel and stop inventory runs; see the module doc."""

    nodeEvent = Signal(int, object)     # generation, NodeOutcome
    planned = Signal(int, object)       # generation, {node: why} (store.fleet.session.Why values)
    finished = Signal(int, object)      # generation, [NodeOutcome] in fleet order
    watched = Signal(object)            # a WatchEvent of the open session (between runs too)
    _event = Signal(int, object)
    _plan = Signal(int, object)
    _watch = Signal(object, object)     # session, WatchEvent
    _done = Signal(int, object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.generation = 0
        self._runner: Any = None  # the FleetSession while a run goes
        self._thread: threading.Thread | None = None
        self.session: Any = None  # store.fleet.session.FleetSession, open between runs
        self._key: tuple | None = None  # what the session was opened for
        self._event.connect(self._on_event, Qt.ConnectionType.QueuedConnection)
        self._plan.connect(self._on_plan, Qt.ConnectionType.QueuedConnection)
        self._watch.connect(self._on_watch, Qt.ConnectionType.QueuedConnection)
        self._done.connect(self._on_done, Qt.ConnectionType.QueuedConnection)

    @property
    def running(self) -> bool:
        return self._runner is not None

    def start(self, nodes: Sequence, *, ssh, namespace: str = "default", workers: int = 16,
              node_timeout: float = 120.0, asked: Sequence[str] = (), everything: bool = False) -> int:
        """Refresh ``nodes`` (``store.fleet.Node``): those that changed or are ``asked`` for, or all
        with ``everything``; a run still going is cancelled first.  Returns the generation."""
        from store.fleet.queries import inventory_task
        from store.fleet.session import FleetSession, Why

        self.cancel()
        previous = self._thread
        self.generation += 1
        gen = self.generation
        key = (tuple((n.name, str(n.address)) for n in nodes), ssh, namespace, workers, node_timeout)
        old = None
        if self._key != key or self.session is None:
            old, self.session, self._key = self.session, None, key
            self.session = FleetSession(nodes, ssh=ssh, namespace=namespace, workers=workers,
                                        node_timeout=node_timeout,
                                        task=inventory_task(images=True, reclaimable=True))
            self.session.on_watch = lambda report, s=self.session: self._watch.emit(s, report)
        session = self.session
        self._runner = session
        asked = list(asked)

        def plan(why: dict) -> None:
            self._plan.emit(gen, {name: w.value for name, w in why.items()})
            for name, w in why.items():
                if w is Why.UNCHANGED:
                    self._event.emit(gen, session.cached(name))

        def run() -> None:
            outcomes: list = []
            try:
                if previous is not None:
                    previous.join(30.0)  # the cancelled run lets go of the session first
                if old is not None:
                    old.close()
                outcomes = session.refresh(asked, everything=everything, on_plan=plan,
                                           on_event=lambda outcome: self._event.emit(gen, outcome)).outcomes
            except BaseException:  # noqa: BLE001 - the runner keeps failures per node; this is a bug
                log.exception("fleet run %d failed", gen)
            self._done.emit(gen, outcomes)

        self._thread = threading.Thread(target=run, name=f"blobscope-fleet-{gen}", daemon=True)
        self._thread.start()
        return gen

    def cancel(self) -> None:
        """Stop the current run (returns at once; its last events still arrive)."""
        if self._runner is not None:
            self._runner.cancel()

    def stop(self, timeout: float = 10.0) -> None:
        """Cancel, wait (bounded) for the run's thread and close the session: the window is closing."""
        self.cancel()
        thread = self._thread
        if thread is not None and thread.is_alive():
            thread.join(timeout)
            if thread.is_alive():
                log.warning("the fleet query did not stop within %g s", timeout)
        self._runner = None
        session, self.session, self._key = self.session, None, None
        if session is not None:
            session.close()

    @Slot(int, object)
    def _on_event(self, gen: int, outcome) -> None:
        if gen == self.generation:
            self.nodeEvent.emit(gen, outcome)

    @Slot(object, object)
    def _on_watch(self, session, report) -> None:
        if session is self.session:
            self.watched.emit(report)

    @Slot(int, object)
    def _on_plan(self, gen: int, why) -> None:
        if gen == self.generation:
            self.planned.emit(gen, why)

    @Slot(int, object)
    def _on_done(self, gen: int, outcomes) -> None:
        if gen != self.generation:
            return
        self._runner = None
        self._thread = None
        self.finished.emit(gen, outcomes)


__all__ = ["FleetQuery"]
