"""One fleet inventory run off the GUI thread: a ``FleetRunner`` on a thread of its own.

The runner's ``run()`` blocks (its thread is the watchdog that closes a hung node's tunnel) and its
pool threads open and close their own tunnels (docs/fleet.md §3-4), so it gets a dedicated
``threading.Thread`` that lives exactly as long as the run.  Each node's events come back to the
GUI thread as queued signals carrying the plain ``NodeOutcome``; every signal carries the run's
generation, and the owner drops those of an older run.  :meth:`FleetQuery.cancel` returns at
once; the runner closes the tunnels of the running nodes and starts no queued one.
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
    finished = Signal(int, object)      # generation, [NodeOutcome] in fleet order
    _event = Signal(int, object)
    _done = Signal(int, object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.generation = 0
        self._runner: Any = None  # store.fleet.FleetRunner while a run goes
        self._thread: threading.Thread | None = None
        self._event.connect(self._on_event, Qt.ConnectionType.QueuedConnection)
        self._done.connect(self._on_done, Qt.ConnectionType.QueuedConnection)

    @property
    def running(self) -> bool:
        return self._runner is not None

    def start(self, nodes: Sequence, *, ssh, namespace: str = "default", workers: int = 16,
              node_timeout: float = 120.0) -> int:
        """Query ``nodes`` (``store.fleet.Node``); a run still going is cancelled first.  Returns the generation."""
        from store.fleet import FleetRunner
        from store.fleet.queries import inventory_task

        self.cancel()
        self.generation += 1
        gen = self.generation
        runner: FleetRunner[Any] = FleetRunner(
            nodes, inventory_task(images=True, reclaimable=True), ssh=ssh, namespace=namespace, workers=workers,
            node_timeout=node_timeout,
            on_event=lambda outcome: self._event.emit(gen, outcome))
        self._runner = runner

        def run() -> None:
            outcomes: list = []
            try:
                outcomes = runner.run()
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
        """Cancel and wait (bounded) for the run's thread: the window is closing."""
        self.cancel()
        thread = self._thread
        if thread is not None and thread.is_alive():
            thread.join(timeout)
            if thread.is_alive():
                log.warning("the fleet query did not stop within %g s", timeout)
        self._runner = None

    @Slot(int, object)
    def _on_event(self, gen: int, outcome) -> None:
        if gen == self.generation:
            self.nodeEvent.emit(gen, outcome)

    @Slot(int, object)
    def _on_done(self, gen: int, outcomes) -> None:
        if gen != self.generation:
            return
        self._runner = None
        self._thread = None
        self.finished.emit(gen, outcomes)


__all__ = ["FleetQuery"]
