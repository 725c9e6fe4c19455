"""Background jobs on a QThreadPool whose results and errors come back as signals.

A job is a plain function ``fn(job) -> result``; it may call ``job.progress(done,
total)`` (throttled) and check ``job.cancelled``.  The GUI side gets exactly one
of ``done(result)`` or ``failed(exception)``, on the GUI thread, never a silent
exception in a worker.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot

from .short_switch import short_switches

log = logging.getLogger(__name__)

PROGRESS_INTERVAL = 0.1  # seconds between progress signals


class _JobSignals(QObject):
    progress = Signal(object, object)   # done, total (may exceed 32 bits)
    partial = Signal(object)            # a piece of the result, delivered early
    finished = Signal(object, object)   # result, exception (one of them is None)


class Job(QRunnable):
    def __init__(self, name: str, fn: Callable[["Job"], Any]):
        super().__init__()
        self.setAutoDelete(False)  # the runner holds the Python reference until the end
        self.name = name
        self.fn = fn
        self.signals = _JobSignals()
        self._cancel = threading.Event()
        self._last_progress = 0.0

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()

    def progress(self, done: int, total: int, *, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last_progress >= PROGRESS_INTERVAL or done >= total > 0:
            self._last_progress = now
            self.signals.progress.emit(done, total)

    def partial(self, value) -> None:
        self.signals.partial.emit(value)

    def run(self) -> None:
        # The pool never deletes this runnable (autoDelete off) and PySide keeps its Python object
        # alive with it: what ``fn`` closed over (a snapshot of a million rows, the media types
        # handed to the graph) would live as long as the process.  It is dropped once run.
        fn, self.fn = self.fn, _ran
        try:
            # a job runs Python beside the GUI thread: without a short switch interval each of the
            # GUI thread's takes of the GIL waits 5 ms behind it (gui/short_switch.py)
            with short_switches():
                result = fn(self)
        except BaseException as e:  # noqa: BLE001 - the error is the job's result
            if not isinstance(e, Exception):
                log.error("job %s stopped by %r", self.name, e)
            self.signals.finished.emit(None, e)
        else:
            self.signals.finished.emit(result, None)
        finally:
            del fn


def _ran(job: "Job") -> Any:
    raise RuntimeError(f"job {job.name} was already run")


class JobRunner(QObject):
    """Starts jobs and delivers their outcome to GUI-thread callbacks."""

    jobStarted = Signal(str)
    jobFinished = Signal(str)

    def __init__(self, parent: QObject | None = None, pool: QThreadPool | None = None):
        super().__init__(parent)
        self.pool = pool or QThreadPool(self)
        self._jobs: dict[int, tuple] = {}

    def start(self, name: str, fn: Callable[[Job], Any], *, on_done: Callable | None = None,
              on_error: Callable | None = None, on_progress: Callable | None = None,
              on_partial: Callable | None = None) -> Job:
        job = Job(name, fn)
        key = id(job)
        self._jobs[key] = (job, on_done, on_error, on_progress, on_partial)
        q = Qt.ConnectionType.QueuedConnection
        job.signals.progress.connect(self._on_progress, q)
        job.signals.partial.connect(self._on_partial, q)
        job.signals.finished.connect(self._on_finished, q)
        log.debug("starting job %s", name)
        self.jobStarted.emit(name)
        self.pool.start(job)
        return job

    @property
    def active(self) -> int:
        return len(self._jobs)

    def _entry(self):
        sender = self.sender()
        for key, entry in self._jobs.items():
            if entry[0].signals is sender:
                return key, entry
        return None, None

    @Slot(object, object)
    def _on_progress(self, done, total) -> None:
        _, entry = self._entry()
        if entry and entry[3]:
            entry[3](done, total)

    @Slot(object)
    def _on_partial(self, value) -> None:
        _, entry = self._entry()
        if entry and entry[4] and not entry[0].cancelled:
            entry[4](value)

    @Slot(object, object)
    def _on_finished(self, result, error) -> None:
        key, entry = self._entry()
        if entry is None:
            return
        del self._jobs[key]
        job, on_done, on_error, _, _ = entry
        self.jobFinished.emit(job.name)
        if error is not None:
            if getattr(error, "kind", "") == "canceled":
                log.info("%s stopped: %s", job.name, error)
            else:
                log.warning("%s failed: %s", job.name, error)
            if on_error:
                on_error(error)
        elif on_done:
            on_done(result)

    def cancel_all(self) -> None:
        for job, *_ in list(self._jobs.values()):
            job.cancel()

    def wait(self, msecs: int = 30_000) -> bool:
        self.cancel_all()
        return self.pool.waitForDone(msecs)
