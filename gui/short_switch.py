"""A short GIL switch interval while a worker thread crunches Python beside the GUI thread.

CPython hands the GIL to a waiting thread only after the holder has had it for the switch
interval (5 ms by default).  The GUI thread gives the GIL away on every blocking call (a Qt call
PySide runs without it, a file read, the event loop's poll) and then waits that long to get it
back while a worker runs Python: one event-loop turn with twenty such calls took 100-200 ms
("the convoy").  An outside sampler of the threads (tests/perf/stall_sampler.py) showed exactly
that in the worst gaps of the 1M-blob window: the GUI thread asleep in ``futex`` for 5-8 ms at a
time, running 0.5-1 ms between, while the sort worker or the digest indexer ran Python throughout.

:func:`short_switches` lowers the interval to :data:`SHORT` while at least one worker is inside
it and puts back the previous value when the last leaves; a GUI thread that waits for the GIL
then waits at most about that long.  When the GUI thread is idle nothing changes: the interval
matters only when two threads want the GIL.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

SHORT = 0.0005  # seconds: the GUI thread's wait for the GIL, at most, while a worker runs Python

_lock = threading.Lock()
_inside = 0
_saved = 0.0


@contextmanager
def short_switches() -> Iterator[None]:
    """Run the block with the GIL's switch interval at :data:`SHORT` (or less, if already less)."""
    global _inside, _saved
    with _lock:
        if _inside == 0:
            _saved = sys.getswitchinterval()
            if _saved > SHORT:
                sys.setswitchinterval(SHORT)
        _inside += 1
    try:
        yield
    finally:
        with _lock:
            _inside -= 1
            if _inside == 0:
                sys.setswitchinterval(_saved)
