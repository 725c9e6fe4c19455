"""The one thread that opens single-node SSH tunnels for the window.

ssh runs under a parent-death signal tied to the thread that started it (docs/fleet.md §3): a
tunnel opened on a job-pool thread would be killed when Qt retires that thread.  So every
``ssh://`` store the window opens is created here, on one long-lived ``blobscope-ssh`` thread;
the job that asked waits for it (never the GUI thread).  Closing a tunnel kills its process
group and may happen on any thread.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from typing import Any, Callable

_lock = threading.Lock()
_thread: "SshThread | None" = None


class SshThread(threading.Thread):
    """Runs submitted functions one after another, for the life of the process."""

    def __init__(self) -> None:
        super().__init__(name="blobscope-ssh", daemon=True)
        self._queue: "queue.Queue[tuple[Callable[[], Any], Future] | None]" = queue.Queue()

    def submit(self, fn: Callable[[], Any]) -> Future:
        fut: Future = Future()
        self._queue.put((fn, fut))
        return fut

    def run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            fn, fut = item
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(fn())
            except BaseException as exc:  # noqa: BLE001 - handed to whoever waits
                fut.set_exception(exc)


def call(fn: Callable[[], Any]) -> Any:
    """Run ``fn`` on the ssh thread (started on first use) and return its result (worker threads only)."""
    global _thread
    with _lock:
        if _thread is None or not _thread.is_alive():
            _thread = SshThread()
            _thread.start()
        fut = _thread.submit(fn)
    return fut.result()


__all__ = ["SshThread", "call"]
