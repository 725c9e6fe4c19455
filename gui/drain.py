"""Big tables freed a chunk at a time on a worker, handing the GIL over in between.

Dropping the last reference to a dict or list of a million entries frees everything it alone
holds in one C-level pass: the graph worker held the GIL for a few hundred milliseconds at each
such drop at 1M blobs (the records of a build, a graph replaced by its copy) while the GUI thread
waited.  Emptied a chunk at a time first, the same memory is freed in as many short steps.
"""

from __future__ import annotations

import time

CHUNK = 4096  # entries freed between two GIL hand-offs


def drain(value) -> None:
    """Empty ``value`` (a dict, list or set; anything else is left as it is) a chunk at a time."""
    if isinstance(value, list):
        while value:
            del value[-CHUNK:]
            time.sleep(0)
    elif isinstance(value, (dict, set)):
        take = value.popitem if isinstance(value, dict) else value.pop
        while value:
            for _ in range(min(CHUNK, len(value))):
                take()
            time.sleep(0)


def dismantle(obj) -> None:
    """Drain the big tables ``obj`` holds as attributes (its ``facts`` too, a graph's), before its
    last reference is dropped: ``obj`` must be used by nothing else any more."""
    for holder in (obj, getattr(obj, "facts", None)):
        if holder is None:
            continue
        names = list(vars(holder)) if hasattr(holder, "__dict__") else []
        names += [n for cls in type(holder).__mro__ for n in getattr(cls, "__slots__", ())]
        for name in names:
            value = getattr(holder, name, None)
            if isinstance(value, (dict, list, set)) and len(value) > CHUNK:
                drain(value)
