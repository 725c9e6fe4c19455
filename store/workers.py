"""Worker processes for a process that must not fork itself: a warm fork server.

A Qt application runs threads of its own and of ours, so it must not ``fork`` (the child would
inherit locks other threads hold).  ``spawn`` is safe but starts a fresh interpreter per worker,
about 0.3 s each before it has imported the store.  multiprocessing's fork server is one fresh
process, started by fork + exec (as ``subprocess`` does: safe from a threaded process), that
imports the workers' modules once (``PRELOAD``) and then forks each worker from itself: a
single-threaded copy of a small process, ready in milliseconds.  ``warm_up()`` starts it early
(the GUI calls it at start, so the server is ready before the first graph); a later call only
checks it is running.

A frozen application (PyInstaller) starts the server as its own executable again with
``-c 'from multiprocessing.forkserver import main...'``; ``multiprocessing.freeze_support()``
at the top of its entry point runs that command instead of the application
(packaging/entry_blobscope.py).
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext

log = logging.getLogger(__name__)

# What a worker of a process that must not fork runs: the media-type sniff of store.oci over a
# local store's files.  Imported once in the fork server, inherited by every worker it forks.
PRELOAD = ["store.oci", "store.local"]

# The start method for worker processes of a threaded process: the fork server where the
# platform has one (every POSIX system; multiprocessing is imported only when workers start).
THREADED = "spawn" if sys.platform == "win32" else "forkserver"

# How much lower than their parent the workers of a threaded process run (POSIX nice): they do
# background work for a GUI, whose event-loop thread must get a core first when the machine is
# busy.  At the parent's priority, two workers sniffing on a two-core machine kept the GUI
# thread runnable but off-CPU for 200+ ms at a time (tests/perf/RESULTS.md, "The media + graph phase at 1M, seen by the outside sampler").
# A command line's workers (``fork``) are its foreground work and keep its priority.
BACKGROUND_NICE = 10


def worker_nice(start_method: str) -> int:
    """How much lower than the caller the workers of ``start_method`` run (see BACKGROUND_NICE)."""
    return 0 if start_method == "fork" else BACKGROUND_NICE


def _start_worker(nice: int) -> None:
    """A worker's first step: Ctrl-C, which reaches the whole process group, is the caller's to
    handle (it stops the workers); the priority lowered by ``nice``."""
    import os
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if nice and hasattr(os, "nice"):
        try:
            os.nice(nice)
        except OSError as e:  # the worker still works, at its parent's priority
            log.info("a worker could not lower its priority (%s)", e)


def executor(start_method: str, max_workers: int):
    """A ``ProcessPoolExecutor`` of ``max_workers`` processes started by ``start_method``, each
    ignoring SIGINT and running ``worker_nice(start_method)`` lower than the caller."""
    from concurrent.futures import ProcessPoolExecutor
    return ProcessPoolExecutor(max_workers=max_workers, mp_context=context(start_method),
                               initializer=_start_worker, initargs=(worker_nice(start_method),))


def context(start_method: str) -> BaseContext:
    """multiprocessing's context for ``start_method``; a fork server's imports ``PRELOAD`` first.

    Raises ValueError for a start method this platform lacks.
    """
    import multiprocessing
    ctx = multiprocessing.get_context(start_method)
    if start_method == "forkserver":
        ctx.set_forkserver_preload(PRELOAD)  # read when the server starts; a no-op once it runs
    return ctx


def fresh_interpreter_per_worker(start_method: str) -> bool:
    """True where each worker is a new interpreter that imports the store (``spawn``)."""
    return start_method == "spawn"


def warm_up() -> bool:
    """Start the fork server now, in the background of the caller; False where there is none.

    Returns at once (the server imports ``PRELOAD`` on its own); a failure to start it is
    logged, and the workers are then started as the start method can (``classify`` falls back
    to recognising in the calling process if they cannot).
    """
    if THREADED != "forkserver":
        return False
    from multiprocessing import forkserver
    context("forkserver")
    try:
        forkserver.ensure_running()
    except (OSError, ValueError) as e:
        log.warning("the worker fork server could not be started (%s); workers start when needed", e)
        return False
    return True
