"""Acting on a selection of nodes off the GUI thread: plan, then (once confirmed) execute.

Both steps are ``FleetRunner`` runs (``store.fleet.actions``: ``plan_runner`` reads only,
``Execution`` writes); each runs on a ``threading.Thread`` of its own that lives exactly as long
as the run, because ssh tunnels die with the thread that opened them (docs/fleet.md §3) -- never on
the job pool.  Per-node events and the end of each step come back to the GUI thread as queued
signals; the confirmation in between is the owner's (the Fleet tab asks it once).
:meth:`FleetActing.cancel` returns at once; an execution lets a node's write stop by itself first.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Sequence

from PySide6.QtCore import QObject, Qt, Signal, Slot

log = logging.getLogger(__name__)

PLAN, EXECUTE = "plan", "execute"


class FleetActing(QObject):
    """One action at a time on a selection of nodes; see the module doc."""

    nodeEvent = Signal(str, object)  # PLAN or EXECUTE, NodeOutcome
    planned = Signal(object)         # store.fleet.actions.FleetPlan
    executed = Signal(object)        # [store.fleet.actions.NodeResult] in the plan's order
    _event = Signal(int, str, object)
    _done = Signal(int, str, object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.generation = 0
        self.phase: str | None = None  # PLAN or EXECUTE while a run goes
        self.cancelled = False
        self._runner: Any = None
        self._thread: threading.Thread | None = None
        self._event.connect(self._on_event, Qt.ConnectionType.QueuedConnection)
        self._done.connect(self._on_done, Qt.ConnectionType.QueuedConnection)

    @property
    def running(self) -> bool:
        return self.phase is not None

    def plan(self, nodes: Sequence, action, *, ssh, namespace: str, workers: int = 16) -> None:
        """Ask ``nodes`` (read-only) what ``action`` would do; ``planned`` carries the plan."""
        from store.fleet.actions import plan_from, plan_runner

        self.cancelled = False
        runner = plan_runner(nodes, action, ssh=ssh, namespace=namespace, workers=workers,
                             on_event=self._forward(PLAN))
        self._start(PLAN, runner, lambda: plan_from(action, runner.run()))

    def execute(self, plan, *, ssh, namespace: str, workers: int = 16) -> None:
        """Run ``plan``'s steps on its ready nodes; ``executed`` carries every node's result."""
        from store.fleet.actions import Execution

        execution = Execution(plan, ssh=ssh, namespace=namespace, workers=workers, on_event=self._forward(EXECUTE))
        self._start(EXECUTE, execution.runner, lambda: execution.results(execution.runner.run()))

    def _forward(self, phase: str) -> Callable[[object], None]:
        gen = self.generation + 1  # the run about to start
        return lambda outcome: self._event.emit(gen, phase, outcome)

    def _start(self, phase: str, runner, work: Callable[[], object]) -> None:
        self.generation += 1
        gen = self.generation
        self.phase = phase
        self._runner = runner

        def run() -> None:
            result: object = None
            try:
                result = work()
            except BaseException:  # noqa: BLE001 - the runner keeps failures per node; this is a bug
                log.exception("fleet %s %d failed", phase, gen)
            self._done.emit(gen, phase, result)

        self._thread = threading.Thread(target=run, name=f"blobscope-fleet-{phase}-{gen}", daemon=True)
        self._thread.start()

    def cancel(self) -> None:
        """Stop the current step (returns at once; its last events still arrive)."""
        self.cancelled = True
        if self._runner is not None:
            self._runner.cancel()

    def stop(self, timeout: float = 15.0) -> None:
        """Cancel and wait (bounded) for the step's thread: the window is closing."""
        self.cancel()
        thread = self._thread
        if thread is not None and thread.is_alive():
            thread.join(timeout)
            if thread.is_alive():
                log.warning("the fleet action did not stop within %g s", timeout)
        self._runner = None
        self.phase = None

    @Slot(int, str, object)
    def _on_event(self, gen: int, phase: str, outcome) -> None:
        if gen == self.generation:
            self.nodeEvent.emit(phase, outcome)

    @Slot(int, str, object)
    def _on_done(self, gen: int, phase: str, result) -> None:
        if gen != self.generation:
            return
        self._runner = None
        self._thread = None
        self.phase = None
        if phase == PLAN:
            self.planned.emit(result)
        else:
            self.executed.emit(result)


__all__ = ["FleetActing", "PLAN", "EXECUTE"]
